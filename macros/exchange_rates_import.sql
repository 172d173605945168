{#- The import CTE `exchange_rates` of a model that converts amounts to USD (business rule
    `currency_conversion`); join it with join_exchange_rate. -#}
{% macro exchange_rates_import() -%}
exchange_rates as (

    select
        month_start_date,
        currency_code,
        rate_to_usd
    from {{ ref("exchange_rates_monthly") }}

)
{%- endmacro %}
