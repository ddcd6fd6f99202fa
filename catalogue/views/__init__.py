"""Catalogue pages, one module per audience."""
