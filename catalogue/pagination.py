"""Paging a catalogue search: the number of results is cached like the facet counts.

Counting a search over 100,000 offers is most of a request's database time (bench/run.py),
and the same searches come back many times between two changes of the catalogue. The count is
kept under the catalogue's version token (catalogue/freshness.py: every write changes it) and
the search's own SQL and parameters, which carry everything the count depends on: the
filters, what the user may see (published offers, a vendor's provider) and the day for the
date-dependent filters. settings.FACET_CACHE_SECONDS = 0 counts every time.
"""

from __future__ import annotations

import hashlib
from functools import cached_property

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import QuerySet

from catalogue.freshness import catalogue_version


def search_count(queryset: QuerySet) -> int:
    """`queryset.count()`, served from the cache while the catalogue has not changed."""
    seconds = settings.FACET_CACHE_SECONDS
    if not seconds:
        return queryset.count()
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a condition that can match nothing, e.g. restricted data
        return 0
    digest = hashlib.sha256(f"{queryset.db}|{sql}|{params!r}".encode()).hexdigest()
    key = f"catalogue:count:{catalogue_version()}:{digest}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, seconds)
    return count


class SearchPaginator(Paginator):
    """A Django paginator over a catalogue search whose count comes from search_count."""

    @cached_property
    def count(self) -> int:
        return search_count(self.object_list)
