{#- Business rule `currency_conversion`: spend in USD at the rate of its month. -#}
with

marketing_spend as (

    select
        marketing_spend_id,
        channel,
        campaign,
        currency_code,
        spend_amount,
        impressions,
        clicks,
        spend_date
    from {{ ref("stg_files__marketing_spend") }}
    where is_valid

),

{{ exchange_rates_import() }},

final as (

    select
        marketing_spend.marketing_spend_id,
        marketing_spend.channel,
        marketing_spend.campaign,
        marketing_spend.currency_code,
        cast(marketing_spend.spend_amount as {{ dbt.type_numeric() }}) as spend_amount,
        cast(exchange_rates.rate_to_usd as {{ dbt.type_numeric() }}) as exchange_rate_to_usd,
        cast(
            marketing_spend.spend_amount * exchange_rates.rate_to_usd as {{ dbt.type_numeric() }}
        ) as spend_usd,
        marketing_spend.impressions,
        marketing_spend.clicks,
        marketing_spend.spend_date
    from marketing_spend
    {{ join_exchange_rate("marketing_spend.currency_code", "marketing_spend.spend_date") }}

)

select * from final
