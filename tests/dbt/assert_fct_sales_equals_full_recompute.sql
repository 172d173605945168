{#- fct_sales is incremental: after any run it must hold exactly what a --full-refresh would
    build, i.e. what int_sales_lines_keyed computes from scratch. Returns the differing rows.
    Tag `whole_history`: it recomputes the whole table, so `shopflow run` leaves it out (at
    scale 100 it cost more than the incremental build it checks); it runs in every plain
    `dbt build` (CI), after an incremental run in tests/pipeline, and on demand with
    `dbt test --select tag:whole_history`. tests/volume proves the same at volume. -#}
{{ config(tags=["whole_history"]) }}

{{ rows_differing(ref("fct_sales"), ref("int_sales_lines_keyed"), [
    "sale_line_id", "sales_order_id", "customer_key", "product_key", "date_key", "order_id",
    "order_item_id", "customer_id", "product_id", "partner_order_id", "partner_name", "sku",
    "channel", "order_status", "currency_code", "quantity", "unit_price", "discount_rate",
    "gross_amount", "discount_amount", "net_amount", "exchange_rate_to_usd",
    "gross_amount_usd", "discount_amount_usd", "net_amount_usd", "net_revenue_usd",
    "is_recognised", "sold_date", "sold_at", "source_updated_at", "loaded_at",
]) }}
