{#- Same shape in every raw schema: the select lives in macros/stage_rejected_records.sql. -#}
{{ stage_rejected_records(source("files", "rejected_records")) }}
