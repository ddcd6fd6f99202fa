"""The observatory: /observatoire/ and one CSV per figure, /observatoire/<figure>.csv.

Thin: the form validates the parameters (`du`, `au` as in the audit page, `framework`
as in the catalogue), procurement.selectors.observatory computes every figure,
procurement.observatory_figures lays each one out (chart, table, CSV cells), and
this module renders the page or writes the CSV. Who sees what is decided once, by
`observatory_scope`.
"""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from dsfr.forms import DsfrBaseForm

from broker.spreadsheet import csv_cell, csv_download
from catalogue.selectors import today_local  # timezone.localdate(): the one read of the clock
from procurement.observatory_figures import FIGURES, SECTIONS, Context, Figure, csv_value, visible_figures
from procurement.selectors import observatory as selectors

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
MAX_PERIOD_YEARS = 10
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ObservatoryFilterForm(DsfrBaseForm):
    """The period of submission (both days included) and the framework contract; empty fields take defaults."""

    du = forms.DateField(label=gettext_lazy("Du"), required=False, widget=DATE_WIDGET,
                         help_text=gettext_lazy("Format AAAA-MM-JJ."))
    au = forms.DateField(label=gettext_lazy("Au"), required=False, widget=DATE_WIDGET,
                         help_text=gettext_lazy("Format AAAA-MM-JJ."))
    framework = forms.ModelChoiceField(label=gettext_lazy("Accord-cadre"), required=False,
                                       queryset=selectors.frameworks_for_filter(), to_field_name="slug",
                                       empty_label=gettext_lazy("Tous les accords-cadres"))

    def __init__(self, *args, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in ("du", "au"):
            day = cleaned.get(name)
            if day and not FIRST_DAY <= day <= LAST_DAY:
                self.add_error(name, _("Choisissez une date entre le %(first)s et le %(last)s.")
                               % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()})
        if self.errors:
            return cleaned
        default_start, default_end = selectors.default_period(today=self.today)
        end = cleaned.get("au") or default_end
        start = cleaned.get("du") or selectors.add_months(selectors.month_start(end), 1 - 12)
        if start > end:
            self.add_error("au", _("La date de fin précède la date de début."))
        elif start < selectors.add_months(end, -12 * MAX_PERIOD_YEARS):
            self.add_error("du", _("La période ne peut dépasser %(years)s ans.") % {"years": MAX_PERIOD_YEARS})
        cleaned["du"], cleaned["au"] = start, end
        return cleaned

    @property
    def filters(self) -> selectors.ObservatoryFilters:
        data = self.cleaned_data
        return selectors.ObservatoryFilters(start=data["du"], end=data["au"], framework=data.get("framework"))


def _filter_query(filters: selectors.ObservatoryFilters) -> str:
    params = {"du": filters.start.isoformat(), "au": filters.end.isoformat()}
    if filters.framework is not None:
        params["framework"] = filters.framework.slug
    return urlencode(params)


def _bad_request(request: HttpRequest, form: ObservatoryFilterForm, scope: str) -> HttpResponse:
    errors = [{"parameter": name, "label": form.fields[name].label if name in form.fields else name,
               "messages": [str(message) for message in messages]}
              for name, messages in form.errors.items()]
    return render(request, "procurement/observatory/page.html", {
        "form": form, "errors": errors, "scope": scope, "is_full": scope == selectors.FULL,
    }, status=400)


def _filter_form(request: HttpRequest, today: date) -> ObservatoryFilterForm:
    return ObservatoryFilterForm(request.GET, today=today)


def cache_seconds() -> int:
    """How long the page's figures are kept (settings.OBSERVATORY_CACHE_SECONDS, 5 minutes by default; 0: none)."""
    return getattr(settings, "OBSERVATORY_CACHE_SECONDS", 300)


def _cache_key(ctx: Context) -> str:
    # The scope is part of the key: the public never gets the full version's figures.
    framework = ctx.framework.pk if ctx.framework is not None else "-"
    return (f"observatory:v1:{ctx.scope}:{get_language()}:{ctx.today.isoformat()}:{ctx.filters.start.isoformat()}:"
            f"{ctx.filters.end.isoformat()}:{framework}")


def page_figures(ctx: Context) -> dict[str, Figure]:
    """Every figure the scope sees, with its CSV link. Kept in the cache a few minutes: with a million orders
    the aggregates take seconds, and the observatory need not be exact to the minute."""
    seconds = cache_seconds()
    key = _cache_key(ctx)
    figures = cache.get(key) if seconds else None
    if figures is None:
        query = _filter_query(ctx.filters)
        figures = {}
        for slug in visible_figures(ctx.scope):
            figure = FIGURES[slug].build(ctx)
            figure.csv_url = f"{reverse('procurement:observatory-csv', args=[slug])}?{query}"
            figures[slug] = figure
        if seconds:
            cache.set(key, figures, seconds)
    return figures


@require_safe
def observatory(request: HttpRequest) -> HttpResponse:
    today = today_local()
    scope = selectors.observatory_scope(request.user)
    form = _filter_form(request, today)
    if not form.is_valid():
        return _bad_request(request, form, scope)
    ctx = Context(filters=form.filters, scope=scope, today=today)
    figures = page_figures(ctx)
    sections = {name: [figures[slug] for slug in slugs if slug in figures] for name, slugs in SECTIONS.items()}
    return render(request, "procurement/observatory/page.html", {
        "form": form, "filters": ctx.filters, "today": today, "scope": scope,
        "is_full": scope == selectors.FULL, "sections": sections,
        "summary": figures["depenses-synthese"],
        "expiry_end": selectors.add_months(today, selectors.EXPIRY_HORIZON_MONTHS) - timedelta(days=1),
        "cache_minutes": cache_seconds() // 60,
    })


@require_safe
def observatory_csv(request: HttpRequest, figure: str) -> HttpResponse:
    """One figure as CSV (UTF-8 with BOM, `;`), with the page's filters; full-only figures are 404 for the public."""
    today = today_local()
    scope = selectors.observatory_scope(request.user)
    if figure not in visible_figures(scope):
        raise Http404(_("Ce tableau n'existe pas ou ne vous est pas accessible."))
    form = _filter_form(request, today)
    if not form.is_valid():
        return _bad_request(request, form, scope)
    ctx = Context(filters=form.filters, scope=scope, today=today, for_csv=True)
    built = FIGURES[figure].build(ctx)
    filename = f"observatoire-{figure}-{ctx.filters.start.isoformat()}-{ctx.filters.end.isoformat()}.csv"
    rows = [[csv_cell(header) for header in built.headers], *([csv_value(cell) for cell in row] for row in built.rows)]
    return csv_download(filename=filename, rows=rows)


urlpatterns: list = [
    path("observatoire/", observatory, name="observatory"),
    path("observatoire/<slug:figure>.csv", observatory_csv, name="observatory-csv"),
]
