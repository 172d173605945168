{#- Quality metrics, in two kinds of rows:
    - `load`: per source system, raw table and dlt load (audit_load_quality, built once per
      run);
    - `test`: the outcome of each data and unit test of the last production build: the build
      of the latest `shopflow run` with the `dbt retry` invocations that resumed it (rows marked
      with its `production_run_id`), each test's latest outcome; ad-hoc dbt commands never
      replace it. Without any production build (plain `dbt build` only), the last build.
      A view, so it always shows the latest stored build. -#}
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
        production_run_id,
        unique_id,
        node_name,
        resource_type,
        command,
        status,
        failures,
        run_started_at
    from {{ ref("audit_dbt_results") }}
    where resource_type in ('test', 'unit_test')

),

last_production_run as (

    select dbt_results.production_run_id
    from dbt_results
    where dbt_results.production_run_id is not null
    order by dbt_results.run_started_at desc
    limit 1

),

last_plain_build as (

    select dbt_results.invocation_id
    from dbt_results
    where dbt_results.command = 'build'
    order by dbt_results.run_started_at desc
    limit 1

),

chosen_invocations as (

    select distinct dbt_results.invocation_id
    from dbt_results
    inner join last_production_run
        on dbt_results.production_run_id = last_production_run.production_run_id

    union all

    select last_plain_build.invocation_id
    from last_plain_build
    where not exists (select 1 from last_production_run)

),

ranked_tests as (

    select
        dbt_results.*,
        row_number() over (
            partition by dbt_results.unique_id
            order by dbt_results.run_started_at desc
        ) as recency
    from dbt_results
    inner join chosen_invocations
        on dbt_results.invocation_id = chosen_invocations.invocation_id

),

tests as (

    select ranked_tests.*
    from ranked_tests
    where ranked_tests.recency = 1

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
