{#- A customer gone from the order system (erased) keeps no personal data anywhere dbt
    builds from: every row of theirs in the change log (all of it, not only the versions
    stg_ops__customer_versions keeps) has name, e-mail, phone and address null (its
    `erase_personal_data` pre-hook, doc block `erasure`), and dim_customers shows none
    either. Returns the offending rows. -#}
with

current_customers as (

    select customer_id
    from {{ ref("stg_ops__customers") }}

),

customer_history as (

    select
        customer_id,
        first_name,
        last_name,
        email,
        phone,
        address
    from {{ source("ops", "customers_changes") }}

),

customer_dimension as (

    select
        customer_id,
        first_name,
        last_name,
        email_sha256,
        email_masked,
        phone_masked,
        address
    from {{ ref("dim_customers") }}
    where customer_id <> -1

),

history_left_behind as (

    select
        'customers_changes' as relation_name,
        customer_history.customer_id
    from customer_history
    left join current_customers
        on customer_history.customer_id = current_customers.customer_id
    where
        current_customers.customer_id is null
        and coalesce(
            customer_history.first_name,
            customer_history.last_name,
            customer_history.email,
            customer_history.phone,
            customer_history.address
        ) is not null

),

dimension_left_behind as (

    select
        'dim_customers' as relation_name,
        customer_dimension.customer_id
    from customer_dimension
    left join current_customers
        on customer_dimension.customer_id = current_customers.customer_id
    where
        current_customers.customer_id is null
        and coalesce(
            customer_dimension.first_name,
            customer_dimension.last_name,
            customer_dimension.email_sha256,
            customer_dimension.email_masked,
            customer_dimension.phone_masked,
            customer_dimension.address
        ) is not null

)

select * from history_left_behind
union all
select * from dimension_left_behind
