"""API for notifications."""

# (prefix, viewset, basename) triples registered by procurement/api/urls.py.
routes: list = []
