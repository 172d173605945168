"""The stage runner of `shopflow run`: the whole pipeline, stage by stage, under one lock, each
stage recorded in the audit table."""
