"""The feature store (Feast) as the project runs it: in its own virtualenv, as a child process
fed with the settings the command resolved (docs/features.md)."""
