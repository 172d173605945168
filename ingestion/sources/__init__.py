"""dlt sources, one sub-package per source system: storefront (REST API), ops (Postgres), files.

Each sub-package's ``__init__`` holds only the ``@dlt.source``/``@dlt.resource`` functions;
``helpers.py`` holds the plumbing and ``settings.py`` the constants. ``validation`` is the
one place that decides what a rejected record looks like, shared by every source.
"""
