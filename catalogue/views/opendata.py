"""Open-data downloads of the published catalogue: /catalogue/export.csv and /catalogue/export.json.

Public (no login), streamed, with the search page's filters; a bad parameter
answers 400 naming it.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from catalogue import opendata
from catalogue.filters import search_form_errors
from catalogue.selectors import today_local


def _refused(filterset, *, as_json: bool) -> HttpResponse:
    errors = search_form_errors(filterset)
    if as_json:
        return HttpResponse(json.dumps({"code": "invalid_filter", **errors}, ensure_ascii=False), status=400,
                            content_type="application/json")
    lines = [_("Paramètre invalide « %(parameter)s » : %(message)s")
             % {"parameter": name, "message": " ".join(messages)} for name, messages in errors.items()]
    return HttpResponse("\n".join(lines) + "\n", status=400, content_type="text/plain; charset=utf-8")


def _export(request: HttpRequest, *, extension: str) -> HttpResponse:
    today = today_local()
    filterset = opendata.export_filterset(request.GET, today=today)
    if not filterset.is_valid():
        return _refused(filterset, as_json=extension == "json")
    rows = opendata.rows(filterset.qs)
    if extension == "csv":
        response = StreamingHttpResponse(opendata.csv_lines(rows), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(opendata.json_chunks(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{opendata.filename(extension, today=today)}"'
    response["Access-Control-Allow-Origin"] = "*"  # public data, usable from any site
    return response


@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    return _export(request, extension="csv")


@require_GET
def export_json(request: HttpRequest) -> HttpResponse:
    return _export(request, extension="json")
