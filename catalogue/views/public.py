"""Public catalogue pages. Thin: parameters are validated by OfferFilterSet, reads come from selectors."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from catalogue import selectors
from catalogue.countries import country_name
from catalogue.filters import (
    EXPIRY_CHOICES,
    ORDERING_CHOICES,
    QUALIFICATION_CHOICES,
    SENSITIVITY_CHOICES,
    OfferFilterSet,
    search_form_errors,
)
from catalogue.models import CertificationKind, Offer, ServiceModel
from catalogue.pagination import SearchPaginator

PAGE_SIZE = 20

# Parameters the search form carries without showing a control for them (set by links or the API-style URL).
HIDDEN_PARAMETERS = ("framework", "lot", "expires_before")


@dataclass(frozen=True)
class FacetOption:
    value: str
    label: str
    count: int | None
    selected: bool


@dataclass(frozen=True)
class Facet:
    """Plain, hashable values: the tag that renders the facets reuses the markup of equal ones."""

    name: str
    legend: str
    multiple: bool
    options: tuple[FacetOption, ...]
    note: str = ""

    @property
    def input_type(self) -> str:
        return "checkbox" if self.multiple else "radio"


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    remove_url: str


def home(request: HttpRequest) -> HttpResponse:
    today = selectors.today_local()
    return render(request, "catalogue/home.html", {
        "figures": selectors.key_figures(today=today),
        "today": today,
    })


def offer_list(request: HttpRequest) -> HttpResponse:
    today = selectors.today_local()
    filterset = OfferFilterSet(request.GET, queryset=selectors.offers_visible(user=request.user), today=today)
    valid = filterset.is_valid()
    filters = filterset.search_filters  # on an invalid search, only the parameters that passed
    counts = selectors.facet_counts(filters=filters, user=request.user, today=today)
    provider_names = _provider_names(request, counts)
    context = {
        "today": today,
        "filters": filters,
        "facets": _facets(request, counts, provider_names),
        "active_filters": _active_filters(request, filterset, provider_names),
        "orderings": ORDERING_CHOICES,
        "ordering": filters.get("ordering") or selectors.DEFAULT_ORDERING,
        "hidden_parameters": [(name, value) for name in HIDDEN_PARAMETERS for value in request.GET.getlist(name)],
        "query": request.GET.get("q", ""),
        "valid_on": request.GET.get("valid_on", ""),
    }
    if not valid:
        fields = filterset.form.fields
        context["errors"] = [
            {"parameter": name, "label": fields[name].label if name in fields else name, "messages": messages}
            for name, messages in search_form_errors(filterset).items()
        ]
        return render(request, "catalogue/offer_list.html", context, status=400)

    # Paginate the ordered ids, then load the page's cards (a deep page skips ids, not cards). The number of
    # results comes with the (cached) facet counts: no COUNT over the whole search on each request.
    paginator = SearchPaginator(selectors.page_ids(filterset.qs), PAGE_SIZE, count=counts["more"]["results"])
    page = paginator.get_page(request.GET.get("page"))
    context.update({
        "page": page,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        "ellipsis": Paginator.ELLIPSIS,
        "results": [
            {"offer": offer, "verdicts": selectors.offer_verdicts(offer=offer, today=today)}
            for offer in selectors.page_cards(page.object_list)
        ],
    })
    return render(request, "catalogue/offer_list.html", context)


def offer_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        offer = selectors.offer_detail(slug=slug, user=request.user)
    except Offer.DoesNotExist:
        raise Http404(_("Cette offre n'existe pas ou n'est pas publiée.")) from None
    today = selectors.today_local()
    return render(request, "catalogue/offer_detail.html", {
        "offer": offer,
        "provider": offer.provider,
        "qualification": offer.current_qualification,
        "today": today,
        "verdicts": selectors.offer_verdicts(offer=offer, today=today),
        "history": selectors.qualification_history(offer=offer),
        "referencings": offer.referencings.select_related("lot__framework").order_by(
            "lot__framework__reference", "lot__number"),
    })


def provider_detail(request: HttpRequest, slug: str) -> HttpResponse:
    provider = get_object_or_404(selectors.providers_visible(user=request.user), slug=slug)
    today = selectors.today_local()
    return render(request, "catalogue/provider_detail.html", {
        "provider": provider,
        "today": today,
        "offers": selectors.offers_search(filters={"provider": [provider.slug]}, user=request.user, today=today),
    })


def _provider_names(request: HttpRequest, counts: dict[str, dict[str, int]]) -> dict[str, str]:
    """The names of the providers the facets and the active filters show (those the user may see), by slug."""
    slugs = {*counts["provider"], *request.GET.getlist("provider")}
    if not slugs:
        return {}
    return dict(selectors.providers_visible(user=request.user).filter(slug__in=slugs).values_list("slug", "name"))


def _facets(request: HttpRequest, counts: dict[str, dict[str, int]], provider_names: dict[str, str]) -> list[Facet]:
    """The facet controls: every value with how many offers it would give, the chosen ones ticked.

    The provider facet lists only the providers with the most offers and the chosen ones (see
    selectors._facet_counts), then says how many others there are.
    """
    location_codes = sorted({*counts["data_location"], *request.GET.getlist("data_location")},
                            key=country_name)

    def options(name: str, choices, *, keep_empty: bool) -> tuple[FacetOption, ...]:
        chosen = set(request.GET.getlist(name))
        return tuple(
            FacetOption(str(value), str(label), counts[name].get(str(value), 0), str(value) in chosen)
            for value, label in choices
            if keep_empty or counts[name].get(str(value)) or str(value) in chosen
        )

    def single(name: str, choices) -> tuple[FacetOption, ...]:
        chosen = request.GET.get(name, "")
        anything = FacetOption("", str(_("Indifférent")), None, chosen == "")
        return (anything, *options(name, choices, keep_empty=True))

    return [
        Facet("eligible_for", str(_("Éligible pour des données")), False,
              single("eligible_for", SENSITIVITY_CHOICES)),
        Facet("service_model", str(_("Modèle de service")), True,
              options("service_model", ServiceModel.choices, keep_empty=True)),
        Facet("qualification", str(_("Qualification SecNumCloud")), True,
              options("qualification", QUALIFICATION_CHOICES, keep_empty=True)),
        Facet("expires_within", str(_("Qualification expirant")), False, single("expires_within", EXPIRY_CHOICES)),
        Facet("certification", str(_("Certification")), True,
              options("certification", CertificationKind.choices, keep_empty=False)),
        Facet("provider", str(_("Fournisseur")), True,
              options("provider", sorted(provider_names.items(), key=lambda item: item[1].lower()),
                      keep_empty=False),
              note=_more_providers_note(counts["more"]["provider"])),
        Facet("data_location", str(_("Lieu d'hébergement des données")), True,
              options("data_location", [(code, country_name(code)) for code in location_codes], keep_empty=False)),
    ]


def _more_providers_note(count: int) -> str:
    """Where the provider facet stops: the search by keyword covers providers' names (Offer.search_document)."""
    if not count:
        return ""
    return ngettext(
        "%(count)s autre fournisseur : précisez la recherche par mot-clé ou ouvrez la page d'un fournisseur.",
        "%(count)s autres fournisseurs : précisez la recherche par mot-clé ou ouvrez la page d'un fournisseur.",
        count,
    ) % {"count": count}


def _active_filters(request: HttpRequest, filterset: OfferFilterSet,
                    provider_names: dict[str, str]) -> list[ActiveFilter]:
    """One removable tag per chosen value: its label and the URL of the same search without it."""
    fields = filterset.form.fields
    labels = {
        "service_model": dict(ServiceModel.choices),
        "qualification": dict(QUALIFICATION_CHOICES),
        "certification": dict(CertificationKind.choices),
        "eligible_for": dict(SENSITIVITY_CHOICES),
        "expires_within": dict(EXPIRY_CHOICES),
    }
    active = []
    for name in fields:
        if name == "ordering":
            continue
        for value in request.GET.getlist(name):
            if value == "":
                continue
            if name == "provider":
                shown = provider_names.get(value, value)
            elif name == "data_location":
                shown = country_name(value)
            else:
                shown = labels.get(name, {}).get(value, value)
            active.append(ActiveFilter(f"{fields[name].label} : {shown}", _url_without(request.GET, name, value)))
    return active


def _url_without(query: QueryDict, name: str, value: str) -> str:
    remaining = query.copy()
    remaining.setlist(name, [v for v in query.getlist(name) if v != value])
    remaining.pop("page", None)
    encoded = remaining.urlencode()
    return f"?{encoded}" if encoded else "?"
