"""Recording a catalogue search for the procurement file: a frozen copy, never changed afterwards."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import QueryDict
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from broker import roles
from broker.errors import RuleViolation
from catalogue import selectors as catalogue_selectors
from catalogue.filters import OfferFilterSet, search_form_errors
from procurement.models import RecordedSearch, RecordedSearchItem
from procurement.selectors.searches import framework_in_words, may_record_searches, search_filters_in_words

# Beyond this many offers a recorded list stops being a useful piece of evidence
# (and the copy becomes heavy): the buyer is asked to narrow the search instead.
MAX_RECORDED_RESULTS = 1000
TITLE_MAX_LENGTH = RecordedSearch._meta.get_field("title").max_length
# Parameters that change how results are shown, not which offers match: dropped, never stored.
PRESENTATION_PARAMETERS = frozenset({"page", "page_size", "format"})


def _json_filters(filters: dict) -> dict:
    """The validated filters as JSON: dates as ISO strings, sequences as lists, the rest as strings or ints."""
    stored: dict = {}
    for name, value in filters.items():
        if value in (None, "") or (isinstance(value, list | tuple | set | frozenset) and not value):
            continue
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, list | tuple | set | frozenset):
            value = [str(item) for item in value]
        elif not isinstance(value, int | str):
            value = str(value)
        stored[name] = value
    return stored


def _validated_filters(*, user, query_string: str, today: date) -> OfferFilterSet:
    """Validate a catalogue query string as the catalogue page does; refuse it naming the bad parameters.

    Unlike the page, an unknown parameter is refused too: a misspelt filter must not
    silently record the whole catalogue into a procurement file.
    """
    if "?" in query_string:
        query_string = query_string.split("?", 1)[1]  # a whole address was given: keep its query
    data = QueryDict(query_string)
    filterset = OfferFilterSet(data=data, queryset=catalogue_selectors.offers_visible(user=user), today=today)
    errors = {name: [str(_("Paramètre inconnu."))] for name in data
              if name not in OfferFilterSet.base_filters and name not in PRESENTATION_PARAMETERS}
    if not filterset.is_valid() or errors:
        errors |= search_form_errors(filterset)
        names = sorted(errors)
        raise RuleViolation(
            "invalid_filter",
            _("Paramètre de recherche invalide : %(names)s.") % {"names": ", ".join(names)},
            reasons=[f"{name} : {message}" for name in names for message in errors[name]],
            field=names[0] if names else "query_string",
        )
    return filterset


def search_record(*, user, query_string: str, title: str = "", today: date) -> RecordedSearch:
    """Record the catalogue search `query_string` as `user` sees it now, with a frozen copy of every result.

    Presentation parameters (`page`…) are dropped: the stored query string is rebuilt
    from the validated filters, so re-running it gives the live version of exactly the
    recorded search.
    """
    if not may_record_searches(user):
        raise PermissionDenied(_("Seuls les acheteurs et valideurs d'une administration enregistrent une recherche."))
    title = (title or "").strip()
    if len(title) > TITLE_MAX_LENGTH:
        raise RuleViolation("invalid_title",
                            _("L'intitulé dépasse %(max)s caractères.") % {"max": TITLE_MAX_LENGTH}, field="title")
    filterset = _validated_filters(user=user, query_string=query_string or "", today=today)
    filters = _json_filters(filterset.search_filters)

    with transaction.atomic():
        offers = list(filterset.filter_queryset(filterset.queryset)[: MAX_RECORDED_RESULTS + 1])
        if len(offers) > MAX_RECORDED_RESULTS:
            raise RuleViolation(
                "too_many_results",
                _("Plus de %(max)s offres correspondent à cette recherche : affinez-la (modèle de service, "
                  "qualification, fournisseur…) avant de l'enregistrer.") % {"max": MAX_RECORDED_RESULTS},
            )
        search = RecordedSearch.objects.create(
            owner=user,
            organisation=roles.organisation_of(user),
            title=title,
            filters=filters,
            # Frozen in words too: a provider or framework renamed later must not change the record.
            filters_description=[list(pair) for pair in search_filters_in_words(filters=filters)],
            framework_label=framework_in_words(filters=filters),
            query_string=urlencode(filters, doseq=True),
            result_count=len(offers),
        )
        RecordedSearchItem.objects.bulk_create([_frozen_item(search, position, offer)
                                                for position, offer in enumerate(offers, start=1)])
    return search


def _frozen_item(search: RecordedSearch, position: int, offer) -> RecordedSearchItem:
    """One result as it stands now: names, model and the current qualification's status, decision and dates."""
    qualification = offer.current_qualification
    return RecordedSearchItem(
        search=search,
        position=position,
        offer=offer,
        offer_name=offer.name,
        provider_name=offer.provider.name,
        service_model=offer.service_model,
        qualification_status=qualification.status if qualification else "",
        decision_number=qualification.decision_number if qualification else "",
        qualified_on=qualification.qualified_on if qualification else None,
        valid_until=qualification.valid_until if qualification else None,
    )
