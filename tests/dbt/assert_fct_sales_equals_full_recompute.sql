{#- fct_sales is incremental: after any run it must hold exactly what a --full-refresh would
    build, i.e. what int_sales_lines_keyed computes from scratch, on every column of its
    contract but the build time. Returns the differing rows.
    Tag `whole_history`: it recomputes the whole table, so `shopflow run` leaves it out (at
    scale 100 it cost more than the incremental build it checks); it runs in every plain
    `dbt build` (CI), after an incremental run in tests/pipeline, and on demand with
    `dbt test --select tag:whole_history`. tests/volume proves the same at volume. -#}
{{ config(tags=["whole_history"]) }}

{{ rows_differing(
    ref("fct_sales"), ref("int_sales_lines_keyed"),
    documented_columns("fct_sales", excluded=["dbt_built_at"]),
) }}
