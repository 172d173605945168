{#- Quality metrics, in two kinds of rows:
    - `load`: per source system, raw table and dlt load (audit_load_quality, built once per
      run);
    - `test`: the outcome of each data and unit test of the last dbt build (audit.dbt_results,
      written by the on-run-end hook). A view, so it always shows the latest stored build. -#}
with

loads as (

    select
        load_quality_id,
        source_name,
        table_name,
        rows_loaded,
        rows_rejected,
        files_quarantined,
        rows_invalid,
        loaded_at
    from {{ ref("audit_load_quality") }}

),

dbt_results as (

    select
        invocation_id,
        unique_id,
        node_name,
        resource_type,
        command,
        status,
        failures,
        run_started_at
    from {{ ref("audit_dbt_results") }}

),

last_build as (

    select dbt_results.invocation_id
    from dbt_results
    where
        dbt_results.command = 'build'
        and dbt_results.resource_type in ('test', 'unit_test')
    order by dbt_results.run_started_at desc
    limit 1

),

tests as (

    select dbt_results.*
    from dbt_results
    inner join last_build
        on dbt_results.invocation_id = last_build.invocation_id
    where dbt_results.resource_type in ('test', 'unit_test')

),

final as (

    select
        loads.load_quality_id as data_quality_id,
        'load' as record_type,
        loads.source_name,
        loads.table_name,
        cast(null as {{ dbt.type_string() }}) as invocation_id,
        cast(null as {{ dbt.type_string() }}) as test_name,
        cast(null as {{ dbt.type_string() }}) as test_type,
        cast(null as {{ dbt.type_string() }}) as test_status,
        loads.rows_loaded,
        loads.rows_rejected,
        loads.files_quarantined,
        loads.rows_invalid,
        cast(null as {{ dbt.type_bigint() }}) as test_failures,
        loads.loaded_at as measured_at
    from loads

    union all

    select
        {{ generate_surrogate_key(["'test'", "tests.invocation_id", "tests.unique_id"]) }}
            as data_quality_id,
        'test' as record_type,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_string() }}) as table_name,
        tests.invocation_id,
        tests.node_name as test_name,
        tests.resource_type as test_type,
        tests.status as test_status,
        cast(null as {{ dbt.type_bigint() }}) as rows_loaded,
        cast(null as {{ dbt.type_bigint() }}) as rows_rejected,
        cast(null as {{ dbt.type_bigint() }}) as files_quarantined,
        cast(null as {{ dbt.type_bigint() }}) as rows_invalid,
        cast(tests.failures as {{ dbt.type_bigint() }}) as test_failures,
        tests.run_started_at as measured_at
    from tests

)

select * from final
