"""API for orders."""

# (prefix, viewset, basename) triples registered by procurement/api/urls.py.
routes: list = []
