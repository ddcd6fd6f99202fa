"""Reads of recorded searches: who sees which, the filters in words, the CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from broker import roles
from catalogue.filters import OfferFilterSet
from catalogue.models import Provider, QualificationStatus
from procurement.models import FrameworkContract, Lot, RecordedSearch, RecordedSearchItem

# The procurement file is French: the CSV states its time in Paris, whatever the server runs on.
PARIS = ZoneInfo("Europe/Paris")


def may_record_searches(user) -> bool:
    """Buyers and approvers of an administration record searches (for their administration)."""
    return roles.is_buyer(user)


def may_read_searches(user) -> bool:
    """Buyers and approvers read their administration's searches; catalogue managers read them all."""
    return roles.is_buyer(user) or roles.is_catalogue_manager(user)


def searches_visible(*, user) -> QuerySet:
    """The recorded searches `user` may read: their administration's, all for managers, none otherwise."""
    searches = RecordedSearch.objects.select_related("owner", "organisation")
    if roles.is_catalogue_manager(user):
        return searches
    if roles.is_buyer(user):
        return searches.filter(organisation=roles.organisation_of(user))
    return searches.none()


def search_detail(*, user, pk, with_items: bool = False) -> RecordedSearch:
    """One search `user` may read (RecordedSearch.DoesNotExist otherwise, which views turn into 404)."""
    searches = searches_visible(user=user)
    if with_items:
        searches = searches.prefetch_related(Prefetch("items", queryset=search_items_queryset()))
    return searches.get(pk=pk)


def search_items_queryset() -> QuerySet:
    return RecordedSearchItem.objects.select_related("offer").order_by("position")


def search_items(*, search: RecordedSearch) -> QuerySet:
    """The frozen results in their recorded order, with the offer's slug when the offer still exists."""
    return search_items_queryset().filter(search=search)


def _date_in_words(value: str) -> str:
    try:
        return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
    except (TypeError, ValueError):
        return str(value)


def search_filters_in_words(*, filters: dict) -> list[tuple[str, str]]:
    """The recorded filters as (label, values) pairs a person reads, in the catalogue form's order."""
    words: list[tuple[str, str]] = []
    for name, field in OfferFilterSet.base_filters.items():
        value = filters.get(name)
        if value in (None, "", []):
            continue
        values = value if isinstance(value, list) else [value]
        if name == "provider":
            names = dict(Provider.objects.filter(slug__in=values).values_list("slug", "name"))
            shown = [names.get(slug, slug) for slug in values]
        elif name == "framework":
            framework = FrameworkContract.objects.filter(slug=value).first()
            shown = [str(framework) if framework else str(value)]
        elif name == "lot":
            lot = Lot.objects.select_related("framework").filter(pk=value).first()
            shown = [f"{lot.framework.reference} · {lot}" if lot else str(value)]
        elif name in ("valid_on", "expires_before"):
            shown = [_date_in_words(value)]
        elif name == "q":
            shown = [f"« {value} »"]
        else:
            choices = {str(key): str(label) for key, label in field.extra.get("choices", [])}
            shown = [choices.get(str(item), str(item)) for item in values]
        words.append((str(field.label), ", ".join(shown)))
    return words


def framework_in_words(*, filters: dict) -> str:
    """The framework contract the search was restricted to, or a sentence saying it covers the whole catalogue."""
    slug = filters.get("framework")
    if not slug:
        return _("Aucun (tout le catalogue)")
    framework = FrameworkContract.objects.filter(slug=slug).first()
    return str(framework) if framework else str(slug)


def owner_label(search: RecordedSearch) -> str:
    return search.owner.get_full_name() or search.owner.get_username()


def searches_csv_rows(*, search: RecordedSearch) -> Iterator[list[str]]:
    """The CSV of a recorded search: a header block (time, administration, filters), then one row per offer."""
    created_at = timezone.localtime(search.created_at, PARIS)
    yield [_("Recherche enregistrée"), str(search.pk), search.title]
    yield [_("Date et heure (Europe/Paris)"), created_at.isoformat(timespec="seconds")]
    yield [_("Administration"), search.organisation.name]
    yield [_("Auteur"), owner_label(search)]
    yield [_("Accord-cadre"), search.framework_label]
    filters = search.filters_description
    if not filters:
        yield [_("Filtres"), _("Aucun filtre : tout le catalogue visible")]
    for label, values in filters:
        yield [_("Filtre : %(label)s") % {"label": label}, values]
    yield [_("Paramètres de la recherche"), search.query_string]
    yield [_("Nombre d'offres"), str(search.result_count)]
    yield []
    yield [_("Rang"), _("Fournisseur"), _("Offre"), _("Modèle de service"), _("Qualification SecNumCloud"),
           _("Numéro de décision"), _("Qualifiée le"), _("Valable jusqu'au")]
    for item in search_items(search=search):
        yield [
            str(item.position),
            item.provider_name,
            item.offer_name,
            item.service_model,
            str(QualificationStatus(item.qualification_status).label) if item.qualification_status
            else _("Sans qualification"),
            item.decision_number,
            item.qualified_on.isoformat() if item.qualified_on else "",
            item.valid_until.isoformat() if item.valid_until else "",
        ]


def search_csv_filename(*, search: RecordedSearch) -> str:
    return f"recherche-{search.pk}-{timezone.localtime(search.created_at, PARIS):%Y-%m-%d}.csv"
