{#- Doc block `erased_customers_facts`: an order whose customer was erased names nobody and
    counts under country 'unknown', with the unknown member's key; and no order that names a
    customer is filed under 'unknown' for being erased. -#}
select
    order_id,
    customer_id,
    customer_key,
    customer_country_code
from {{ ref("fct_orders") }}
where
    (
        is_customer_erased
        and (
            customer_id is not null
            or customer_country_code != 'unknown'
            or customer_key != {{ unknown_member_key() }}
        )
    )
    or (not is_customer_erased and customer_id is null)
