{#- Joins the `exchange_rates` CTE (exchange_rates_import) on the rate of an amount's currency
    in the month it was converted at (business rule `currency_conversion`). -#}
{% macro join_exchange_rate(currency_code, converted_at, join_type="left") -%}
{{ join_type }} join exchange_rates
        on
            {{ month_start_date(converted_at) }} = exchange_rates.month_start_date
            and {{ currency_code }} = exchange_rates.currency_code
{%- endmacro %}
