"""Benchmarks of whole pipeline runs at growing scale, and the docs sections they write."""
