{#- The same proof as assert_fct_sales_equals_full_recompute.sql (read its note on the tag
    `whole_history`) for fct_events, incremental too, and int_events_keyed. -#}
{{ config(tags=["whole_history"]) }}

{{ rows_differing(
    ref("fct_events"), ref("int_events_keyed"),
    documented_columns("fct_events", excluded=["dbt_built_at"]),
) }}
