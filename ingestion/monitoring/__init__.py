"""After a run: alerts to the people who operate it, and `shopflow status`, the health of the
last runs read from the audit tables."""
