{{ config(**incremental_by_key_config(
    "daily_sales_id",
    ["date_key", "loaded_at", "dbt_built_at"],
    unique_index=["sold_date", "channel"],
    pre_hook="{{ delete_touched_days(ref('fct_sales')) }}",
)) }}

{#- Incremental rule: doc block `incremental_aggregates`. -#}

with

{% if is_incremental() -%}
touched as (

    {{ touched_days(ref("fct_sales")) }}

),

{% endif -%}
sales as (

    select
        sales_order_id,
        date_key,
        channel,
        quantity,
        gross_amount_usd,
        discount_amount_usd,
        net_revenue_usd,
        sold_date,
        loaded_at
    from {{ ref("fct_sales") }}
    where
        is_recognised
        and {{ in_incremental_run("date_key in (select touched.date_key from touched)") }}

),

final as (

    select
        {{ generate_surrogate_key(["sales.sold_date", "sales.channel"]) }} as daily_sales_id,
        sales.date_key,
        sales.channel,
        cast(count(distinct sales.sales_order_id) as {{ dbt.type_int() }}) as recognised_orders,
        cast(count(*) as {{ dbt.type_int() }}) as recognised_lines,
        cast(sum(sales.quantity) as {{ dbt.type_int() }}) as units_sold,
        cast(sum(sales.gross_amount_usd) as {{ dbt.type_numeric() }}) as gross_amount_usd,
        cast(sum(sales.discount_amount_usd) as {{ dbt.type_numeric() }}) as discount_amount_usd,
        cast(sum(sales.net_revenue_usd) as {{ dbt.type_numeric() }}) as net_revenue_usd,
        sales.sold_date,
        max(sales.loaded_at) as loaded_at,
        {{ built_at() }} as dbt_built_at
    from sales
    group by sales.sold_date, sales.date_key, sales.channel

)

select * from final
