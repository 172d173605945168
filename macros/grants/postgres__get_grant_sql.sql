{#- dbt's `grants` config, made to skip a grantee role that does not exist on the server
    (docs/reliability.md): `shopflow db start` creates the `analyst` role, but an
    external server may not let it, and a missing role must not fail the build. Overrides
    dbt-postgres' grant statement (dbt dispatches to the root project first). -#}
{%- macro postgres__get_grant_sql(relation, privilege, grantees) -%}
do $grant$
begin
{%- for grantee in grantees %}
    if exists (select from pg_roles where rolname = '{{ grantee }}') then
        grant {{ privilege }} on {{ relation.render() }} to {{ adapter.quote(grantee) }};
    end if;
{%- endfor %}
end
$grant$
{%- endmacro -%}
