"""The repository's own conventions, checked by `shopflow check-project`: every model and
column documented, keys tested, marts under contract, lint rules dbt cannot express."""
