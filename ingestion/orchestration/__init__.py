"""`shopflow run`: the whole pipeline, stage by stage."""
