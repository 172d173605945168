{#- One row per node result of each dbt invocation, typed and flagged for quality reporting.
    Reads the table the store_run_results on-run-end hook appends to. -#}
with dbt_results as (

    select
        invocation_id,
        run_started_at,
        command,
        unique_id,
        node_name,
        resource_type,
        status,
        failures,
        rows_affected,
        execution_time,
        message,
        stored_at,
        production_run_id
    from {{ source('audit', 'dbt_results') }}

),

final as (

    select
        invocation_id,
        production_run_id,
        unique_id,
        node_name,
        resource_type,
        command,
        status,
        message,
        failures,
        case when rows_affected >= 0 then rows_affected end as rows_affected,
        execution_time as execution_seconds,
        status in ('error', 'fail') as is_failure,
        status = 'warn' as is_warning,
        run_started_at,
        stored_at
    from dbt_results

)

select * from final
