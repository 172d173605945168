with

products as (

    select
        product_id,
        product_title,
        is_current
    from {{ ref("dim_products") }}

),

current_products as (

    select
        products.product_id,
        products.product_title
    from products
    where products.is_current

),

sales as (

    {#- a line whose product the catalogue never had (an orphan, counted by the orphan-rate
        rule) is left out: a pair must name two products of dim_products -#}
    select
        fct_sales.sales_order_id,
        fct_sales.product_id
    from {{ ref("fct_sales") }} as fct_sales
    where
        fct_sales.is_recognised
        and fct_sales.channel <> 'marketplace'
        and fct_sales.product_id in (select products.product_id from products)

),

baskets as (

    select distinct
        sales.sales_order_id,
        sales.product_id
    from sales

),

order_count as (

    select count(distinct baskets.sales_order_id) as total_orders
    from baskets

),

orders_per_product as (

    select
        baskets.product_id,
        count(*) as product_orders
    from baskets
    group by baskets.product_id

),

pairs as (

    select
        antecedent.product_id as antecedent_product_id,
        consequent.product_id as consequent_product_id,
        count(*) as orders_with_both
    from baskets as antecedent
    inner join baskets as consequent
        on
            antecedent.sales_order_id = consequent.sales_order_id
            and antecedent.product_id <> consequent.product_id
    group by antecedent.product_id, consequent.product_id

),

measured as (

    {#- measures: doc block `product_affinity` -#}
    select
        pairs.antecedent_product_id,
        pairs.consequent_product_id,
        pairs.orders_with_both,
        antecedent_orders.product_orders as orders_with_antecedent,
        consequent_orders.product_orders as orders_with_consequent,
        order_count.total_orders,
        1.0 * pairs.orders_with_both / order_count.total_orders as support,  -- noqa: RF04
        1.0 * pairs.orders_with_both / antecedent_orders.product_orders as confidence,
        {# confidence / (consequent orders / total orders) as one division of whole numbers at
            18 decimals: a quotient of two rounded quotients rounds a tie (e.g. 7.0578125)
            differently on Postgres and Spark -#}
        cast(
            pairs.orders_with_both * order_count.total_orders
            as {{ api.Column.numeric_type("numeric", 38, 18) }}
        )
        / (antecedent_orders.product_orders * consequent_orders.product_orders) as lift
    from pairs
    inner join orders_per_product as antecedent_orders
        on pairs.antecedent_product_id = antecedent_orders.product_id
    inner join orders_per_product as consequent_orders
        on pairs.consequent_product_id = consequent_orders.product_id
    cross join order_count

),

final as (

    select
        {{ generate_surrogate_key([
            "measured.antecedent_product_id", "measured.consequent_product_id"
        ]) }} as product_pair_id,
        measured.antecedent_product_id,
        measured.consequent_product_id,
        antecedent_products.product_title as antecedent_product_title,
        consequent_products.product_title as consequent_product_title,
        cast(measured.orders_with_both as {{ dbt.type_int() }}) as orders_with_both,
        cast(measured.orders_with_antecedent as {{ dbt.type_int() }}) as orders_with_antecedent,
        cast(measured.orders_with_consequent as {{ dbt.type_int() }}) as orders_with_consequent,
        cast(measured.total_orders as {{ dbt.type_int() }}) as total_orders,
        cast(measured.support as {{ dbt.type_numeric() }}) as support,  -- noqa: RF04
        cast(measured.confidence as {{ dbt.type_numeric() }}) as confidence,
        cast(measured.lift as {{ dbt.type_numeric() }}) as lift
    from measured
    left join current_products as antecedent_products
        on measured.antecedent_product_id = antecedent_products.product_id
    left join current_products as consequent_products
        on measured.consequent_product_id = consequent_products.product_id

)

select * from final
