with

customer_versions as (

    select
        customer_key,
        customer_id,
        first_name,
        last_name,
        email,
        phone,
        country_code,
        city,
        address,
        version_number,
        is_current,
        is_erased,
        registered_at,
        valid_from,
        valid_to
    from {{ ref("int_customer_versions_windowed") }}

),

countries as (

    select
        country_code,
        country_name,
        region,
        currency_code
    from {{ ref("countries") }}

),

versions as (

    {#- erased customers keep their history for point-in-time joins, without personal data
        (the change log's erasure hook has already nulled it; masked here too, belt and braces);
        e-mail and phone only ever leave as a hash and masked display forms -#}
    select
        customer_versions.customer_key,
        customer_versions.customer_id,
        case when not customer_versions.is_erased then customer_versions.first_name end
            as first_name,
        case when not customer_versions.is_erased then customer_versions.last_name end
            as last_name,
        case
            when not customer_versions.is_erased
                then {{ hash_email("customer_versions.email") }}
        end as email_sha256,
        case
            when not customer_versions.is_erased
                then {{ mask_email("customer_versions.email") }}
        end as email_masked,
        case
            when not customer_versions.is_erased
                then {{ mask_phone("customer_versions.phone") }}
        end as phone_masked,
        customer_versions.country_code,
        countries.country_name,
        countries.region,
        countries.currency_code,
        customer_versions.city,
        case when not customer_versions.is_erased then customer_versions.address end
            as address,
        customer_versions.version_number,
        customer_versions.is_current,
        customer_versions.is_erased,
        customer_versions.registered_at,
        customer_versions.valid_from,
        customer_versions.valid_to
    from customer_versions
    left join countries
        on customer_versions.country_code = countries.country_code

),

{#- The unknown member's columns between its id and valid_from (unknown_member_union). -#}
{% set unknown_member_columns -%}
        'unknown' as first_name,
        'unknown' as last_name,
        cast(null as {{ dbt.type_string() }}) as email_sha256,
        cast(null as {{ dbt.type_string() }}) as email_masked,
        cast(null as {{ dbt.type_string() }}) as phone_masked,
        'unknown' as country_code,
        'unknown' as country_name,
        'unknown' as region,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        'unknown' as city,
        cast(null as {{ dbt.type_string() }}) as address,
        1 as version_number,
        true as is_current,
        false as is_erased,
        cast(null as {{ dbt.type_timestamp() }}) as registered_at,
{%- endset %}
{{ unknown_member_union("customer_key", "customer_id", unknown_member_columns) }}

select
    customer_key,
    cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
    first_name,
    last_name,
    email_sha256,
    email_masked,
    phone_masked,
    country_code,
    country_name,
    region,
    currency_code,
    city,
    address,
    cast(version_number as {{ dbt.type_int() }}) as version_number,
    is_current,
    is_erased,
    registered_at,
    valid_from,
    valid_to
from final
