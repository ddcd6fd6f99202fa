"""Keyword search that ignores case and accents.

Each offer keeps a `search_document`: its name, provider, category, model and
description, lower-cased and without accents. On PostgreSQL the keywords are
matched with full-text search (the `french_unaccent` configuration: unaccent,
then the French stemmer) on a GIN index, each word as a prefix. Elsewhere
(SQLite) every word must appear in the document. Both give the same answers on
the demo catalogue.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connection
from django.db.models import QuerySet

SEARCH_CONFIG = "french_unaccent"
_WORD = re.compile(r"[a-z0-9]+")


def normalize(text: str) -> str:
    """Lower-case `text` and strip its accents: "Sécurisé" becomes "securise"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def keywords(query: str) -> list[str]:
    """The words of a query, normalised, at most ten."""
    return _WORD.findall(normalize(query))[:10]


def filter_by_keywords(queryset: QuerySet, query: str, *, field: str = "search_document") -> QuerySet:
    """Keep the rows whose search document matches every word of `query`."""
    words = keywords(query)
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        tsquery = " & ".join(f"{word}:*" for word in words)
        # alias(), not annotate(): the vector is only matched (on the GIN index of migration 0002), never
        # selected, so PostgreSQL does not compute it again for every row it returns or skips.
        return queryset.alias(_search=SearchVector(field, config=SEARCH_CONFIG)).filter(
            _search=SearchQuery(tsquery, config=SEARCH_CONFIG, search_type="raw")
        )
    for word in words:
        queryset = queryset.filter(**{f"{field}__contains": word})
    return queryset
