"""Reads of the catalogue: which offers a user sees, search filters, eligibility in SQL, facets."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from broker import roles
from catalogue import doctrine
from catalogue.models import (
    Certification,
    CertificationKind,
    Offer,
    OfferLocation,
    OfferState,
    Provider,
    Qualification,
    QualificationEvent,
    QualificationStatus,
)
from catalogue.search import filter_by_keywords

ORDERINGS = {
    "name": ("name", "provider__name"),
    "-name": ("-name", "provider__name"),
    "provider": ("provider__name", "name"),
    "-provider": ("-provider__name", "name"),
    "valid_until": ("current_valid_until", "name"),
    "-valid_until": ("-current_valid_until", "name"),
    "price": ("list_price", "name"),
    "-price": ("-list_price", "name"),
    "newest": ("-published_at", "-id"),
}
DEFAULT_ORDERING = "provider"


def today_local() -> date:
    return timezone.localdate()


def current_qualifications() -> QuerySet:
    return Qualification.objects.filter(is_current=True)


def offers_visible(*, user) -> QuerySet:
    """Published offers for everyone; a vendor also sees all of their provider's; managers and qualifiers all."""
    offers = Offer.objects.all()
    if roles.is_catalogue_manager(user) or roles.is_qualifier(user):
        return offers
    provider = roles.provider_of(user) if roles.has_role(user, roles.VENDOR) else None
    if provider is not None:
        return offers.filter(Q(state=OfferState.PUBLISHED) | Q(provider=provider))
    return offers.filter(state=OfferState.PUBLISHED)


def with_card_data(offers: QuerySet) -> QuerySet:
    """Load what an offer card and the doctrine need, in a fixed number of queries."""
    current = OuterRef("pk")
    return offers.select_related("provider").annotate(
        current_status=Subquery(current_qualifications().filter(offer=current).values("status")[:1]),
        current_valid_until=Subquery(current_qualifications().filter(offer=current).values("valid_until")[:1]),
    ).prefetch_related(
        Prefetch("qualifications", queryset=current_qualifications(), to_attr="current_qualifications"),
        "certifications",
        "locations",
    )


def eligible_q(sensitivity: str, *, start: date, today: date) -> Q:
    """The doctrine (catalogue/doctrine.py) as a query condition; tests keep the two in agreement."""
    published = Q(state=OfferState.PUBLISHED)
    if sensitivity == doctrine.NON_SENSITIVE:
        return published
    if sensitivity == doctrine.RESTRICTED:
        return Q(pk__in=[])
    first_day, last_day = min(start, today), max(start, today)
    qualified = Exists(
        current_qualifications().filter(offer=OuterRef("pk"), status=QualificationStatus.QUALIFIED,
                                        valid_until__gte=last_day)
        .filter(Q(qualified_on__isnull=True) | Q(qualified_on__lte=first_day))
    )
    sovereign = Q(
        provider__seat_country__in=doctrine.EU_COUNTRIES,
        provider__largest_non_eu_holding__lte=doctrine.MAX_NON_EU_HOLDING_INDIVIDUAL,
        provider__total_non_eu_holding__lte=doctrine.MAX_NON_EU_HOLDING_COLLECTIVE,
    )
    locations = OfferLocation.objects.filter(offer=OuterRef("pk"))
    in_eu = Exists(locations) & ~Exists(locations.exclude(country__in=doctrine.EU_COUNTRIES))
    condition = published & qualified & sovereign & in_eu
    if sensitivity == doctrine.HEALTH:
        condition &= Exists(
            Certification.objects.filter(offer=OuterRef("pk"), kind=CertificationKind.HDS)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=last_day))
        )
    return condition


def filter_offers(offers: QuerySet, *, filters: dict, today: date) -> QuerySet:
    """Apply the catalogue's search filters (already validated, see catalogue/filters.py)."""
    if filters.get("q"):
        offers = filter_by_keywords(offers, filters["q"])
    if filters.get("service_model"):
        offers = offers.filter(service_model__in=filters["service_model"])
    if filters.get("qualification"):
        wanted = list(filters["qualification"])
        condition = Q(Exists(current_qualifications().filter(offer=OuterRef("pk"), status__in=wanted)))
        if "none" in wanted:
            condition |= ~Exists(current_qualifications().filter(offer=OuterRef("pk")))
        offers = offers.filter(condition)
    if filters.get("certification"):
        for kind in filters["certification"]:
            offers = offers.filter(Exists(Certification.objects.filter(offer=OuterRef("pk"), kind=kind)))
    if filters.get("provider"):
        offers = offers.filter(provider__slug__in=filters["provider"])
    if filters.get("data_location"):
        offers = offers.filter(Exists(OfferLocation.objects.filter(offer=OuterRef("pk"),
                                                                   country__in=filters["data_location"])))
    if filters.get("framework"):
        offers = offers.filter(Exists(
            Offer.lots.through.objects.filter(offer=OuterRef("pk"), lot__framework__slug=filters["framework"])
        ))
    if filters.get("lot"):
        offers = offers.filter(Exists(Offer.lots.through.objects.filter(offer=OuterRef("pk"), lot=filters["lot"])))
    valid_on = filters.get("valid_on")
    if valid_on:
        offers = offers.filter(Exists(current_qualifications().filter(
            offer=OuterRef("pk"), status=QualificationStatus.QUALIFIED, valid_until__gte=valid_on,
        ).filter(Q(qualified_on__isnull=True) | Q(qualified_on__lte=valid_on))))
    if filters.get("expires_before"):
        offers = offers.filter(Exists(current_qualifications().filter(
            offer=OuterRef("pk"), status=QualificationStatus.QUALIFIED, valid_until__lt=filters["expires_before"],
        )))
    if filters.get("expires_within"):
        limit = today + timedelta(days=int(filters["expires_within"]))
        offers = offers.filter(Exists(current_qualifications().filter(
            offer=OuterRef("pk"), status=QualificationStatus.QUALIFIED, valid_until__gte=today,
            valid_until__lte=limit,
        )))
    if filters.get("eligible_for"):
        start = filters.get("valid_on") or today
        offers = offers.filter(eligible_q(filters["eligible_for"], start=start, today=today))
    return offers


def offers_search(*, filters: dict, user, today: date | None = None) -> QuerySet:
    """The offers `user` may see that match `filters`, sorted, with what a result card shows."""
    today = today or today_local()
    offers = filter_offers(offers_visible(user=user), filters=filters, today=today)
    ordering = ORDERINGS.get(filters.get("ordering") or DEFAULT_ORDERING, ORDERINGS[DEFAULT_ORDERING])
    return with_card_data(offers).order_by(*ordering, "pk")


FACETS = ("service_model", "qualification", "certification", "provider", "data_location", "eligible_for",
          "expires_within")
EXPIRY_WINDOWS = (30, 90, 180, 365)


def facet_counts(*, filters: dict, user, today: date | None = None) -> dict[str, dict[str, int]]:
    """For each facet, how many offers each value would give, the other filters applied."""
    today = today or today_local()
    visible = offers_visible(user=user)

    def base(facet: str) -> QuerySet:
        others = {key: value for key, value in filters.items() if key != facet}
        return filter_offers(visible, filters=others, today=today)

    def grouped(queryset: QuerySet, field: str) -> dict[str, int]:
        rows = queryset.values(field).annotate(n=Count("pk", distinct=True)).order_by(field)
        return {row[field]: row["n"] for row in rows if row[field] is not None}

    counts: dict[str, dict[str, int]] = {
        "service_model": grouped(base("service_model"), "service_model"),
        "provider": grouped(base("provider"), "provider__slug"),
        "data_location": grouped(base("data_location"), "locations__country"),
        "certification": grouped(base("certification"), "certifications__kind"),
    }
    status = Subquery(current_qualifications().filter(offer=OuterRef("pk")).values("status")[:1])
    qualification = grouped(base("qualification").annotate(current_status=status), "current_status")
    qualification["none"] = base("qualification").annotate(current_status=status).filter(
        current_status__isnull=True).count()
    counts["qualification"] = qualification
    eligible_base = base("eligible_for")
    start = filters.get("valid_on") or today
    counts["eligible_for"] = {
        sensitivity: eligible_base.filter(eligible_q(sensitivity, start=start, today=today)).count()
        for sensitivity in doctrine.SENSITIVITIES
    }
    expiry_base = base("expires_within")
    counts["expires_within"] = {
        str(days): filter_offers(expiry_base, filters={"expires_within": days}, today=today).count()
        for days in EXPIRY_WINDOWS
    }
    return counts


def offer_detail(*, slug: str, user) -> Offer:
    """One offer the user may see (Offer.DoesNotExist otherwise, which views turn into 404)."""
    return with_card_data(offers_visible(user=user)).get(slug=slug)


def offer_verdicts(*, offer: Offer, today: date | None = None, start: date | None = None) -> list:
    today = today or today_local()
    return doctrine.assess_all(offer.facts(), start=start or today, today=today)


def qualification_history(*, offer: Offer) -> QuerySet:
    """Every decision of an offer, newest first, with their change events."""
    return offer.qualifications.order_by("-is_current", "-created_at").prefetch_related(
        Prefetch("events", queryset=QualificationEvent.objects.select_related("actor"))
    )


def providers_visible(*, user) -> QuerySet:
    """Providers with a published offer; managers and qualifiers see all; a vendor also sees their own."""
    providers = Provider.objects.all()
    if roles.is_catalogue_manager(user) or roles.is_qualifier(user):
        return providers
    condition = Exists(Offer.objects.filter(provider=OuterRef("pk"), state=OfferState.PUBLISHED))
    own = roles.provider_of(user) if roles.has_role(user, roles.VENDOR) else None
    if own is not None:
        condition |= Q(pk=own.pk)
    return providers.filter(condition)


def key_figures(*, today: date | None = None) -> dict[str, int]:
    """Figures for the home page: published offers, qualified ones, providers, expiring within 180 days."""
    today = today or today_local()
    published = Offer.objects.filter(state=OfferState.PUBLISHED)
    return {
        "offers": published.count(),
        "qualified": published.filter(eligible_q(doctrine.SENSITIVE, start=today, today=today)).count(),
        "providers": Provider.objects.filter(offers__state=OfferState.PUBLISHED).distinct().count(),
        "expiring": filter_offers(published, filters={"expires_within": 180}, today=today).count(),
    }
