{#- The `load` rows of audit_data_quality: per source system, raw table and dlt load, the
    rows whose current version that load wrote (staging keeps the latest version of each
    key), the rows ingestion refused (rejected_records, and quarantined files for the files
    source) and the rows staging flags invalid (is_valid = false). A table, built once per
    run: as part of a view, every test of audit_data_quality counted the staging tables
    again. -#}
{%- set staged_tables = [
    ("ops", "customers", "stg_ops__customers"),
    ("ops", "orders", "stg_ops__orders"),
    ("ops", "order_items", "stg_ops__order_items"),
    ("ops", "payments", "stg_ops__payments"),
    ("ops", "deliveries", "stg_ops__deliveries"),
    ("storefront", "products", "stg_storefront__products"),
    ("storefront", "sales", "stg_storefront__marketplace_sales"),
    ("files", "events", "stg_files__events"),
    ("files", "marketing_spend", "stg_files__marketing_spend"),
] -%}
{%- set rejected_tables = [
    ("ops", "stg_ops__rejected_records"),
    ("storefront", "stg_storefront__rejected_records"),
    ("files", "stg_files__rejected_records"),
] %}

with


{% for source_name, table_name, model_name in staged_tables %}
{{ model_name }} as (

    select
        '{{ source_name }}' as source_name,
        '{{ table_name }}' as table_name,
        loaded_at,
        count(*) as rows_loaded,
        sum(case when is_valid then 0 else 1 end) as rows_invalid
    from {{ ref(model_name) }}
    group by loaded_at

),

{% endfor %}
{%- for source_name, model_name in rejected_tables %}
{{ model_name }} as (

    select
        '{{ source_name }}' as source_name,
        resource_name as table_name,
        loaded_at,
        count(*) as rows_rejected
    from {{ ref(model_name) }}
    group by resource_name, loaded_at

),

{% endfor -%}
quarantined_files as (

    select
        'files' as source_name,
        case
            when file_name like '%spend%' then 'marketing_spend'
            else 'events'
        end as table_name,
        loaded_at,
        count(*) as files_quarantined
    from {{ ref("stg_files__quarantined_files") }}
    group by
        case
            when file_name like '%spend%' then 'marketing_spend'
            else 'events'
        end,
        loaded_at

),

loaded as (

    {% for _, _, model_name in staged_tables -%}
    select * from {{ model_name }}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

rejected as (

    {% for _, model_name in rejected_tables -%}
    select * from {{ model_name }}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

loads as (

    select
        coalesce(loaded.source_name, rejected.source_name, quarantined_files.source_name)
            as source_name,
        coalesce(loaded.table_name, rejected.table_name, quarantined_files.table_name)
            as table_name,
        coalesce(loaded.loaded_at, rejected.loaded_at, quarantined_files.loaded_at) as loaded_at,
        coalesce(loaded.rows_loaded, 0) as rows_loaded,
        coalesce(rejected.rows_rejected, 0) as rows_rejected,
        coalesce(quarantined_files.files_quarantined, 0) as files_quarantined,
        coalesce(loaded.rows_invalid, 0) as rows_invalid
    from loaded
    full outer join rejected
        on
            loaded.source_name = rejected.source_name
            and loaded.table_name = rejected.table_name
            and loaded.loaded_at = rejected.loaded_at
    full outer join quarantined_files
        on
            coalesce(loaded.source_name, rejected.source_name) = quarantined_files.source_name
            and coalesce(loaded.table_name, rejected.table_name) = quarantined_files.table_name
            and coalesce(loaded.loaded_at, rejected.loaded_at) = quarantined_files.loaded_at

),

final as (

    select
        {{ generate_surrogate_key(["'load'", "loads.source_name", "loads.table_name",
            "loads.loaded_at"]) }} as load_quality_id,
        loads.source_name,
        loads.table_name,
        cast(loads.rows_loaded as {{ dbt.type_bigint() }}) as rows_loaded,
        cast(loads.rows_rejected as {{ dbt.type_bigint() }}) as rows_rejected,
        cast(loads.files_quarantined as {{ dbt.type_bigint() }}) as files_quarantined,
        cast(loads.rows_invalid as {{ dbt.type_bigint() }}) as rows_invalid,
        loads.loaded_at
    from loads

)

select * from final
