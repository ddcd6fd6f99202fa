"""Paging a catalogue search: the number of results is cached like the facet counts.

Counting a search over 100,000 offers is most of a request's database time (bench/run.py),
and the same searches come back many times between two changes of the catalogue. The count is
kept under the catalogue's version token (catalogue/freshness.py: every write changes it) and
the search's own SQL and parameters, which carry everything the count depends on: the
filters, what the user may see (published offers, a vendor's provider) and the day for the
date-dependent filters. settings.FACET_CACHE_SECONDS = 0 counts every time.
"""

from __future__ import annotations

from functools import cached_property

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import QuerySet

from catalogue.freshness import cached_read


def search_count(queryset: QuerySet) -> int:
    """`queryset.count()`, served from the cache while the catalogue has not changed."""
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # a condition that can match nothing, e.g. restricted data
        return 0
    return cached_read("count", (queryset.db, sql, repr(params)), queryset.count)


class SearchPaginator(Paginator):
    """A Django paginator over a catalogue search's ordered ids (selectors.page_ids).

    Its count comes from search_count, or is given (`count`, the catalogue page has it from
    its facets). A page past the middle is read backwards from the end, in the reversed order,
    then turned round: OFFSET walks at most half of the results, never a deep page's 90 %. The
    order of a search ends with the primary key, so the reversed order is exactly the reverse.
    """

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, count: int | None = None):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return search_count(self.object_list) if self.known_count is None else self.known_count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if self.count - top >= bottom:
            return self._get_page(self.object_list[bottom:top], number, self)
        backwards = self.object_list.reverse()[self.count - top:self.count - bottom]
        return self._get_page(list(backwards)[::-1], number, self)
