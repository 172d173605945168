{#- on-run-end: the `grants` config covers tables and views, not their schemas. Every role
    granted SELECT on a node gets USAGE on that node's schema, when both exist. -#}
{% macro grant_schema_usage() %}
{%- if execute -%}
    {%- set pairs = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- for grantee in (node.config.get("grants") or {}).get("select", []) -%}
            {%- set pair = (node.schema, grantee) -%}
            {%- if pair not in pairs -%}{%- do pairs.append(pair) -%}{%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if pairs %}
do $usage$
begin
    {%- for schema, grantee in pairs %}
    if exists (select from pg_roles where rolname = '{{ grantee }}')
        and exists (select from pg_namespace where nspname = '{{ schema }}') then
        grant usage on schema {{ adapter.quote(schema) }} to {{ adapter.quote(grantee) }};
    end if;
    {%- endfor %}
end
$usage$
    {%- endif -%}
{%- endif -%}
{% endmacro %}
