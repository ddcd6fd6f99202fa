"""CSV downloads that open correctly in a French spreadsheet and cannot run a formula.

French Excel opens a CSV by double click only if it is UTF-8 *with a byte-order mark*
(otherwise accents break) and separated by semicolons (the comma is the French decimal
separator). Fields are quoted by the csv module when they hold a separator, a quote or a
line break. A cell starting with one of FORMULA_PREFIXES would be read as a formula (an
offer named "=HYPERLINK(...)", OWASP "CSV injection"): such text is prefixed with a quote.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import HttpResponse

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def csv_cell(value: object) -> str:
    """The text of one cell, defused if a spreadsheet would take it for a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def csv_download(*, filename: str, rows: Iterable[Iterable[str]]) -> HttpResponse:
    """An attachment: BOM, `;` separators, CRLF lines; `rows` are already defused cells."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write(BOM)
    writer = csv.writer(response, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerows(rows)
    return response
