{#- fct_events is incremental: after any run it must hold exactly what a --full-refresh would
    build, i.e. what int_events_keyed computes from scratch. Returns the differing rows.
    Tag `whole_history`: it recomputes the whole table, so `shopflow run` leaves it out (at
    scale 100 it cost more than the incremental build it checks); it runs in every plain
    `dbt build` (CI), after an incremental run in tests/pipeline, and on demand with
    `dbt test --select tag:whole_history`. tests/volume proves the same at volume. -#}
{{ config(tags=["whole_history"]) }}

{{ rows_differing(ref("fct_events"), ref("int_events_keyed"), [
    "event_id", "customer_key", "product_key", "date_key", "user_id", "customer_id",
    "order_id", "event_name", "platform", "product_name", "sku", "source_file", "event_date",
    "event_at", "loaded_at",
]) }}
