{#- The spend facts as the semantic layer reads them (semantic model `marketing_spend`):
    marts are the layer end users and MetricFlow read, the intermediate model stays internal. -#}
with

marketing_spend as (

    select
        marketing_spend_id,
        channel,
        campaign,
        currency_code,
        spend_amount,
        exchange_rate_to_usd,
        spend_usd,
        impressions,
        clicks,
        spend_date
    from {{ ref("int_marketing_spend_converted") }}

),

final as (

    select
        marketing_spend.marketing_spend_id,
        {{ date_key("marketing_spend.spend_date") }} as date_key,
        marketing_spend.channel,
        marketing_spend.campaign,
        marketing_spend.currency_code,
        cast(marketing_spend.spend_amount as {{ dbt.type_numeric() }}) as spend_amount,
        cast(marketing_spend.exchange_rate_to_usd as {{ dbt.type_numeric() }})
            as exchange_rate_to_usd,
        cast(marketing_spend.spend_usd as {{ dbt.type_numeric() }}) as spend_usd,
        cast(marketing_spend.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(marketing_spend.clicks as {{ dbt.type_bigint() }}) as clicks,
        marketing_spend.spend_date
    from marketing_spend

)

select * from final
