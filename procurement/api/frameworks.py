"""API for frameworks."""

# (prefix, viewset, basename) triples registered by procurement/api/urls.py.
routes: list = []
