"""Open data: every published offer with its provider, qualification and certifications, as CSV or JSON.

The same filters as the search (validated by catalogue.filters.OfferFilterSet)
choose the offers. Rows are produced as the response is sent: the queryset is
read with `iterator(chunk_size=...)`, its prefetches running once per chunk, so
100,000 offers never sit in memory at once. Only published offers are exported,
whoever asks: it is public information.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.conf import settings
from django.db.models import QuerySet

from broker.spreadsheet import BOM, csv_cell
from catalogue.filters import OfferFilterSet
from catalogue.models import Offer, OfferState
from catalogue.selectors import with_card_data

CHUNK_SIZE = 500

COLUMNS = (
    "offer", "slug", "url", "provider", "provider_slug", "provider_seat_country", "service_model", "category",
    "data_locations", "list_price", "price_unit", "qualification_status", "qualification_milestone",
    "referential_version", "decision_number", "qualified_on", "valid_until", "certifications", "published_at",
)

def published_offers() -> QuerySet:
    """What the export may contain: published offers only, for everyone."""
    return Offer.objects.filter(state=OfferState.PUBLISHED)


def export_filterset(params, *, today: date | None = None) -> OfferFilterSet:
    """The search's filter set over the published offers; `is_valid()` says whether `params` are acceptable."""
    return OfferFilterSet(params, queryset=published_offers(), today=today)


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value else None


def offer_row(offer: Offer) -> dict:
    """One offer as the export shows it (loaded with selectors.with_card_data)."""
    qualification = offer.current_qualification
    return {
        "offer": offer.name,
        "slug": offer.slug,
        "url": f"{settings.SITE_URL.rstrip('/')}{offer.get_absolute_url()}",
        "provider": offer.provider.name,
        "provider_slug": offer.provider.slug,
        "provider_seat_country": offer.provider.seat_country,
        "service_model": offer.service_model,
        "category": offer.category,
        "data_locations": sorted(location.country for location in offer.locations.all()),
        "list_price": str(offer.list_price) if offer.list_price is not None else None,
        "price_unit": offer.price_unit,
        "qualification_status": qualification.status if qualification else None,
        "qualification_milestone": (qualification.milestone or None) if qualification else None,
        "referential_version": qualification.referential_version if qualification else None,
        "decision_number": (qualification.decision_number or None) if qualification else None,
        "qualified_on": _iso(qualification.qualified_on) if qualification else None,
        "valid_until": _iso(qualification.valid_until) if qualification else None,
        "certifications": [{"kind": c.kind, "valid_until": _iso(c.valid_until)}
                           for c in sorted(offer.certifications.all(), key=lambda c: c.kind)],
        "published_at": _iso(offer.published_at),
    }


def rows(offers: QuerySet) -> Iterator[dict]:
    """The export's rows, read from the database a chunk at a time, each chunk with its card data."""
    for offer in with_card_data(offers).iterator(chunk_size=CHUNK_SIZE):
        yield offer_row(offer)


class _Echo:
    """A file-like object whose write() returns the line, for csv.writer to produce one line at a time."""

    def write(self, value: str) -> str:
        return value


def _csv_cells(row: dict) -> list[str]:
    cells = dict(row)
    cells["data_locations"] = ";".join(row["data_locations"])
    cells["certifications"] = ";".join(f"{c['kind']}:{c['valid_until'] or ''}" for c in row["certifications"])
    return [csv_cell(cells[column]) for column in COLUMNS]


def csv_lines(offer_rows: Iterable[dict]) -> Iterator[str]:
    """The CSV export, line by line: a header, then one line per offer (UTF-8 with a byte-order mark for
    spreadsheets; lists joined with « ; », each certification as kind:valid_until)."""
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow(COLUMNS)
    for row in offer_rows:
        yield writer.writerow(_csv_cells(row))


def json_chunks(offer_rows: Iterable[dict]) -> Iterator[str]:
    """The JSON export, piece by piece: an array with one object per offer."""
    yield "["
    separator = "\n"
    for row in offer_rows:
        yield separator + json.dumps(row, ensure_ascii=False)
        separator = ",\n"
    yield "\n]\n"


def filename(extension: str, *, today: date) -> str:
    return f"catalogue-courtier-{today.isoformat()}.{extension}"
