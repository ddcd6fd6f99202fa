"""Reads of the vendor space and the review queue.

A vendor's reads are scoped to their provider here, so another provider's offer
is simply not found (a 404 on every channel). The review queue is for catalogue
managers; the views and the API check that role before calling these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils.translation import gettext as _

from broker import roles
from catalogue.countries import country_name
from catalogue.models import (
    CertificationKind,
    Offer,
    OfferReview,
    OfferRevision,
    OfferState,
    Provider,
    ProviderChange,
    QualificationAlert,
    QualificationStatus,
    ReviewDecision,
    RevisionState,
    ServiceModel,
)
from catalogue.models.revision import OFFER_EDITABLE_FIELDS, PROVIDER_EDITABLE_FIELDS, offer_values
from catalogue.selectors import with_card_data
from procurement.models import Order

# Statuses of a decision still in force, on which an expiry alert is worth acting.
LIVE_STATUSES = (QualificationStatus.QUALIFIED, QualificationStatus.SUSPENDED)


def vendor_provider(*, user) -> Provider:
    """The provider a vendor works for; anyone else may not enter the vendor space."""
    if not roles.is_vendor(user):
        raise PermissionDenied(_("L'espace fournisseur est réservé aux fournisseurs."))
    return roles.provider_of(user)


def _pending_revisions() -> QuerySet:
    return OfferRevision.objects.filter(state=RevisionState.PENDING)


def vendor_offers(*, user) -> QuerySet:
    """Every offer of the vendor's provider, whatever its state, with its qualification and pending revision."""
    provider = vendor_provider(user=user)
    return with_card_data(Offer.objects.filter(provider=provider)).prefetch_related(
        Prefetch("revisions", queryset=_pending_revisions().select_related("author"), to_attr="pending_revisions"),
    ).order_by("name", "pk")


def vendor_offer(*, user, slug: str) -> Offer:
    """One offer of the vendor's provider (Offer.DoesNotExist otherwise: a 404)."""
    return vendor_offers(user=user).get(slug=slug)


def pending_revision(*, offer: Offer) -> OfferRevision | None:
    """The revision of `offer` awaiting review, if any (from the prefetch of vendor_offers when loaded)."""
    prefetched = getattr(offer, "pending_revisions", None)
    if prefetched is not None:
        return prefetched[0] if prefetched else None
    return _pending_revisions().filter(offer=offer).select_related("author").first()


def offer_reviews(*, offer: Offer) -> QuerySet:
    """Every decision on an offer, newest first: who, when, what, why."""
    return OfferReview.objects.filter(offer=offer).select_related("actor", "revision").order_by("-created_at", "-id")


def provider_reviews(*, provider: Provider, limit: int = 20) -> QuerySet:
    """The latest decisions on the provider's offers."""
    return (OfferReview.objects.filter(offer__provider=provider).select_related("actor", "offer")
            .order_by("-created_at", "-id")[:limit])


def provider_changes(*, provider: Provider, limit: int = 20) -> QuerySet:
    return ProviderChange.objects.filter(provider=provider).select_related("actor").order_by("-created_at", "-id")[
        :limit]


def vendor_alerts(*, user) -> QuerySet:
    """Expiry alerts on the decisions in force of the vendor's offers, most urgent first."""
    provider = vendor_provider(user=user)
    return (QualificationAlert.objects.filter(
        qualification__offer__provider=provider, qualification__is_current=True,
        qualification__status__in=LIVE_STATUSES,
    ).select_related("qualification__offer").order_by("threshold_days", "qualification__valid_until", "pk"))


def vendor_orders(*, user) -> QuerySet:
    """Orders on the vendor's offers once submitted (never drafts), newest first."""
    provider = vendor_provider(user=user)
    return (Order.objects.filter(offer__provider=provider, submitted_at__isnull=False)
            .select_related("organisation", "offer").order_by("-submitted_at", "-id"))


# --- The review queue --------------------------------------------------------------------------------------


def _ensure_manager(user) -> None:
    if not roles.is_catalogue_manager(user):
        raise PermissionDenied(_("Réservé aux gestionnaires du catalogue."))


def review_offers(*, user) -> QuerySet:
    """Offers awaiting review, oldest submission first."""
    _ensure_manager(user)
    submitted_at = Subquery(OfferReview.objects.filter(offer=OuterRef("pk"), decision=ReviewDecision.SUBMITTED)
                            .order_by("-created_at", "-id").values("created_at")[:1])
    return (with_card_data(Offer.objects.filter(state=OfferState.SUBMITTED))
            .annotate(submitted_at=submitted_at).order_by("submitted_at", "pk"))


def review_offer(*, user, slug: str) -> Offer:
    """Any offer, for its review page (Offer.DoesNotExist otherwise)."""
    _ensure_manager(user)
    return with_card_data(Offer.objects.all()).get(slug=slug)


def review_revisions(*, user) -> QuerySet:
    """Revisions of published offers awaiting review, oldest first."""
    _ensure_manager(user)
    return (_pending_revisions().select_related("offer__provider", "author")
            .prefetch_related(Prefetch("offer__locations"), Prefetch("offer__certifications"))
            .order_by("created_at", "pk"))


def review_revision(*, user, pk: int) -> OfferRevision:
    """Any revision, for its review page (OfferRevision.DoesNotExist otherwise)."""
    _ensure_manager(user)
    return OfferRevision.objects.select_related("offer__provider", "author").get(pk=pk)


# --- What changed -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffRow:
    field: str
    label: str
    before: str
    after: str


def field_label(name: str) -> str:
    if name == "locations":
        return _("Lieux d'hébergement des données")
    if name == "certifications":
        return _("Certifications")
    return str(Offer._meta.get_field(name).verbose_name).capitalize()


def readable(name: str, value) -> str:
    """A stored offer value as people read it."""
    if value in (None, "", []):
        return "—"
    if name == "service_model":
        return str(dict(ServiceModel.choices).get(value, value))
    if name == "list_price":
        return f"{value} €"
    if name == "locations":
        return ", ".join(country_name(code) for code in value)
    if name == "certifications":
        kinds = dict(CertificationKind.choices)
        parts = []
        for item in value:
            details = [_("réf. %(reference)s") % {"reference": item["reference"]}] if item.get("reference") else []
            if item.get("valid_until"):
                details.append(_("valable jusqu'au %(day)s") % {"day": date.fromisoformat(item["valid_until"])
                                                                  .strftime("%d/%m/%Y")})
            label = str(kinds.get(item["kind"], item["kind"]))
            parts.append(f"{label} ({', '.join(details)})" if details else label)
        return " ; ".join(parts)
    return str(value)


def values_diff(before: dict, after: dict) -> list[DiffRow]:
    """One row per editable field whose value differs between `before` and `after`, in form order."""
    return [
        DiffRow(name, field_label(name), readable(name, before.get(name)), readable(name, after.get(name)))
        for name in OFFER_EDITABLE_FIELDS
        if name in after and before.get(name) != after.get(name)
    ]


def changes_diff(changes: dict) -> list[DiffRow]:
    """A recorded {field: [before, after]} as diff rows."""
    return values_diff({name: pair[0] for name, pair in changes.items()},
                       {name: pair[1] for name, pair in changes.items()})


def submission_diff(*, offer: Offer) -> list[DiffRow]:
    """What a submitted offer changes: against the version sent back for changes, or everything when new."""
    sent_back = offer.reviews.filter(decision=ReviewDecision.CHANGES_REQUESTED).order_by("-created_at", "-id").first()
    return values_diff(sent_back.snapshot if sent_back else {}, offer_values(offer))


def revision_diff(*, revision: OfferRevision) -> list[DiffRow]:
    """What a revision changes: against the live offer while pending, against what it replaced afterwards."""
    before = offer_values(revision.offer) if revision.is_pending else revision.base_values
    return values_diff(before, revision.values)


# --- Provider profile changes ---------------------------------------------------------------------------


PROVIDER_LOCATION_FIELDS = ("data_locations", "support_locations")


def provider_readable(name: str, value) -> str:
    """A stored provider value as people read it."""
    if value in (None, "", []):
        return "—"
    if name in PROVIDER_LOCATION_FIELDS:
        return ", ".join(country_name(code) for code in value)
    if name == "seat_country":
        return country_name(value)
    if name in ("largest_non_eu_holding", "total_non_eu_holding"):
        return f"{value} %"
    return str(value)


def provider_change_rows(changes: dict) -> list[DiffRow]:
    """A recorded provider change {field: [before, after]} as diff rows, in the profile's order."""
    return [
        DiffRow(name, str(Provider._meta.get_field(name).verbose_name).capitalize(),
                provider_readable(name, changes[name][0]), provider_readable(name, changes[name][1]))
        for name in PROVIDER_EDITABLE_FIELDS if name in changes
    ]
