with

source as (

    select
        date,
        channel,
        campaign,
        spend,
        currency,
        impressions,
        clicks,
        source_file,
        _dlt_load_id
    from {{ source("files", "marketing_spend") }}

),

renamed as (

    select
        {{ generate_surrogate_key(["source.date", "source.channel", "source.campaign"]) }}
            as marketing_spend_id,
        lower(trim(source.channel)) as channel,
        trim(source.campaign) as campaign,
        upper(trim(source.currency)) as currency_code,
        source.source_file,
        cast(source.spend as {{ dbt.type_numeric() }}) as spend_amount,
        cast(source.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(source.clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(source.date as date) as spend_date,
        {{ dlt_loaded_at("source._dlt_load_id") }} as loaded_at
    from source

),

deduplicated as (

    {{ deduplicate_to_latest("renamed", "marketing_spend_id", "loaded_at desc, source_file desc") }}

),

validated as (

    select
        deduplicated.*,
        case
            when deduplicated.spend_date is null then 'date is missing'
            when {{ is_outside_calendar("deduplicated.spend_date") }}
                then 'date is outside the calendar'
            when not {{ is_in_list("deduplicated.channel", var("marketing_channels")) }}
                then 'unknown channel'
            when not {{ is_in_list("deduplicated.currency_code", var("currencies")) }}
                then 'unsupported currency'
            when coalesce(deduplicated.spend_amount, -1) < 0 then 'spend is negative or missing'
            when deduplicated.clicks > deduplicated.impressions then 'more clicks than impressions'
        end as invalid_reason
    from deduplicated

),

final as (

    select
        marketing_spend_id,
        channel,
        campaign,
        currency_code,
        source_file,
        invalid_reason,
        spend_amount,
        impressions,
        clicks,
        {{ validity_flag("invalid_reason") }} as is_valid,
        spend_date,
        loaded_at
    from validated

)

select * from final
