{#- fct_events is incremental: after any run it must hold exactly what a --full-refresh would
    build, i.e. what int_events_keyed computes from scratch. Returns the differing rows. -#}
{{ rows_differing(ref("fct_events"), ref("int_events_keyed"), [
    "event_id", "customer_key", "product_key", "date_key", "user_id", "customer_id",
    "order_id", "event_name", "platform", "product_name", "sku", "source_file", "event_date",
    "event_at", "loaded_at",
]) }}
