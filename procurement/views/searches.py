"""Pages for recorded searches: record one from the catalogue, list them, read one, download its CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from broker.errors import RuleViolation
from broker.spreadsheet import csv_cell, csv_download
from catalogue.selectors import today_local
from procurement.models import RecordedSearch
from procurement.selectors import searches as selectors
from procurement.services import searches as services


def search_csv_response(*, search: RecordedSearch) -> HttpResponse:
    """The recorded search as a CSV download (broker.spreadsheet), for pages and API alike."""
    rows = ([csv_cell(cell) for cell in row] for row in selectors.searches_csv_rows(search=search))
    return csv_download(filename=selectors.search_csv_filename(search=search), rows=rows)


def _require_reader(user) -> None:
    if not selectors.may_read_searches(user):
        raise PermissionDenied(_("Les recherches enregistrées sont réservées aux administrations."))


def _visible_search(request: HttpRequest, pk: int) -> RecordedSearch:
    _require_reader(request.user)
    try:
        return selectors.search_detail(user=request.user, pk=pk)
    except RecordedSearch.DoesNotExist as missing:
        raise Http404(_("Recherche introuvable.")) from missing


def _catalogue_url(query_string: str) -> str:
    # Re-encoded so that whatever was posted, the redirect is a clean local URL.
    query = QueryDict(query_string.lstrip("?")).urlencode()
    url = reverse("catalogue:offer-list")
    return f"{url}?{query}" if query else url


@login_required
@require_POST
def search_record(request: HttpRequest) -> HttpResponse:
    """Record the catalogue search posted by the catalogue page (hidden `query_string`, optional `title`)."""
    if not selectors.may_record_searches(request.user):
        raise PermissionDenied(_("Seuls les acheteurs et valideurs d'une administration enregistrent une recherche."))
    query_string = request.POST.get("query_string", "")
    try:
        search = services.search_record(user=request.user, query_string=query_string,
                                        title=request.POST.get("title", ""), today=today_local())
    except RuleViolation as refusal:
        messages.error(request, " ".join([refusal.message, *refusal.reasons]))
        return redirect(_catalogue_url(query_string))
    messages.success(request, _("Recherche enregistrée : %(count)s offre(s) figée(s) dans votre dossier.")
                     % {"count": search.result_count})
    return redirect(search)


@login_required
@require_GET
def search_list(request: HttpRequest) -> HttpResponse:
    _require_reader(request.user)
    paginator = Paginator(selectors.searches_visible(user=request.user), 20)
    page = paginator.get_page(request.GET.get("page"))
    rows = [(search, search.filters_description) for search in page]
    return render(request, "procurement/search_list.html", {
        "page_obj": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "ellipsis": Paginator.ELLIPSIS,
        "rows": rows,
        "show_organisation": not selectors.may_record_searches(request.user),
    })


@login_required
@require_GET
def search_detail(request: HttpRequest, pk: int) -> HttpResponse:
    search = _visible_search(request, pk)
    return render(request, "procurement/search_detail.html", {
        "search": search,
        "items": selectors.search_items(search=search),
        "filters_in_words": search.filters_description,
        "framework_in_words": search.framework_label,
        "owner": selectors.owner_label(search),
        "live_url": _catalogue_url(search.query_string),
        "can_order": selectors.may_record_searches(request.user),
    })


@login_required
@require_GET
def search_csv(request: HttpRequest, pk: int) -> HttpResponse:
    return search_csv_response(search=_visible_search(request, pk))


urlpatterns = [
    path("recherches/", search_list, name="search-list"),
    path("recherches/enregistrer/", search_record, name="search-record"),
    path("recherches/<int:pk>/", search_detail, name="search-detail"),
    path("recherches/<int:pk>/export.csv", search_csv, name="search-csv"),
]
