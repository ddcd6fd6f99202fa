"""Reads of the catalogue: which offers a user sees, search filters, eligibility in SQL, facets."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Prefetch, Q, QuerySet, Window
from django.utils import timezone

from broker import roles
from catalogue import doctrine
from catalogue.freshness import cached_read
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
from catalogue.search import filter_by_keywords, keywords

# Offer.provider_name is the provider's name copied on the offer: sorting by it needs no join.
ORDERINGS = {
    "name": ("name", "provider_name"),
    "-name": ("-name", "provider_name"),
    "provider": ("provider_name", "name"),
    "-provider": ("-provider_name", "name"),
    # Offers without a current decision come last both ways, on every database (PostgreSQL and SQLite
    # would otherwise put NULL at opposite ends).
    "valid_until": (F("current_decision__valid_until").asc(nulls_last=True), "name"),
    "-valid_until": (F("current_decision__valid_until").desc(nulls_last=True), "name"),
    "price": ("list_price", "name"),
    "-price": ("-list_price", "name"),
    "newest": ("-published_at", "-id"),
}
DEFAULT_ORDERING = "provider"


def today_local() -> date:
    return timezone.localdate()


def current_qualifications() -> QuerySet:
    return Qualification.objects.filter(is_current=True)


def with_current_decision(offers: QuerySet) -> QuerySet:
    """`offers` with `current_decision`, their current qualification, to filter and sort on: a join, added
    only where a condition or an ordering names it. At most one current decision per offer (a unique
    partial index), so the join repeats no offer; a condition on it makes it an inner join, which
    PostgreSQL can drive from the decisions' own index (`qualification_current_idx`)."""
    return offers.alias(current_decision=FilteredRelation("qualifications",
                                                          condition=Q(qualifications__is_current=True)))


def visibility_scope(user) -> str:
    """Which offers `user` sees, as a name: "all", "vendor:<provider pk>" or "public" (see offers_visible)."""
    if roles.is_catalogue_manager(user) or roles.is_qualifier(user):
        return "all"
    provider = roles.provider_of(user) if roles.has_role(user, roles.VENDOR) else None
    if provider is not None:
        return f"vendor:{provider.pk}"
    return "public"


def offers_visible(*, user) -> QuerySet:
    """Published offers for everyone; a vendor also sees all of their provider's; managers and qualifiers all."""
    return offers_in_scope(visibility_scope(user))


def offers_in_scope(scope: str) -> QuerySet:
    offers = Offer.objects.all()
    if scope == "all":
        return offers
    published = Q(state=OfferState.PUBLISHED)
    if scope.startswith("vendor:"):
        return offers.filter(published | Q(provider_id=int(scope.removeprefix("vendor:"))))
    return offers.filter(published)


def with_card_data(offers: QuerySet) -> QuerySet:
    """Load what an offer card and the doctrine need, in a fixed number of queries."""
    return offers.select_related("provider").prefetch_related(
        Prefetch("qualifications", queryset=current_qualifications(), to_attr="current_qualifications"),
        "certifications",
        "locations",
    )


def ordered(offers: QuerySet, ordering: str | None) -> QuerySet:
    """`offers` in one of the ORDERINGS (the default one when None), ties broken by primary key."""
    ordering = ordering if ordering in ORDERINGS else DEFAULT_ORDERING
    if ordering in ("valid_until", "-valid_until"):
        offers = with_current_decision(offers)
    return offers.order_by(*ORDERINGS[ordering], "pk")


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
        condition = Q(current_decision__status__in=[status for status in wanted if status != "none"])
        if "none" in wanted:
            condition |= Q(current_decision__isnull=True)
        offers = with_current_decision(offers).filter(condition)
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


def page_ids(offers: QuerySet) -> QuerySet:
    """The primary keys of `offers` in their order, to paginate on: a deep page then skips bare ids, not cards.

    Paginate this, then load the page's cards with `page_cards`: OFFSET walks past
    narrow rows instead of computing every skipped offer's card (its subqueries).
    """
    return offers.select_related(None).prefetch_related(None).values_list("pk", flat=True)


def page_cards(ids) -> list[Offer]:
    """The offers whose ids are `ids` (one page of a search), in that order, with their card data.

    The ids come from a search the user may see (page_ids): the cards are loaded by primary key
    alone, without the search's conditions again, and their relations with load_card_relations.
    """
    ids = list(ids)
    if not ids:
        return []
    found = {offer.pk: offer for offer in Offer.objects.filter(pk__in=ids).select_related("provider")}
    offers = [found[pk] for pk in ids if pk in found]
    load_card_relations(offers)
    return offers


def offer_with_facts(pk: int) -> Offer:
    """One offer, whatever its state, with what the doctrine reads of it (Offer.facts) loaded."""
    return _one_card(Offer.objects.filter(pk=pk))


def _one_card(offers: QuerySet) -> Offer:
    """The one offer of `offers` (Offer.DoesNotExist otherwise) with its card data, as page_cards loads it."""
    offer = offers.select_related("provider").get()
    load_card_relations([offer])
    return offer


def load_card_relations(offers: list[Offer]) -> None:
    """Attach what a card and the doctrine read (current decision, certifications, locations) to `offers`,
    in three plain queries: what prefetch_related would load, without its per-object machinery, which
    cost most of a page's time (bench/run.py). Offer.current_qualification and Offer._related read them."""
    by_id = {offer.pk: offer for offer in offers}
    current = _rows_by_offer(current_qualifications().filter(offer_id__in=by_id), by_id)
    certifications = _rows_by_offer(Certification.objects.filter(offer_id__in=by_id).order_by("kind"), by_id)
    locations = _rows_by_offer(OfferLocation.objects.filter(offer_id__in=by_id).order_by("country"), by_id)
    for pk, offer in by_id.items():
        offer.current_qualifications = current[pk]
        offer._prefetched_objects_cache = {
            "certifications": _loaded(Certification, certifications[pk]),
            "locations": _loaded(OfferLocation, locations[pk]),
        }


def _rows_by_offer(rows: QuerySet, offers: dict[int, Offer]) -> dict[int, list]:
    """`rows` grouped by their offer's id (every offer present), each row pointing back at its offer."""
    grouped: dict[int, list] = {pk: [] for pk in offers}
    for row in rows:
        row._state.fields_cache["offer"] = offers[row.offer_id]
        grouped[row.offer_id].append(row)
    return grouped


def _loaded(model, rows: list) -> QuerySet:
    """A queryset already holding `rows`, as prefetch_related leaves one (so `.all()` needs no query)."""
    queryset = model.objects.all()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def offers_search(*, filters: dict, user, today: date | None = None) -> QuerySet:
    """The offers `user` may see that match `filters`, sorted, with what a result card shows."""
    today = today or today_local()
    offers = filter_offers(offers_visible(user=user), filters=filters, today=today)
    return with_card_data(ordered(offers, filters.get("ordering")))


FACETS = ("service_model", "qualification", "certification", "provider", "data_location", "eligible_for",
          "expires_within")
EXPIRY_WINDOWS = (30, 90, 180, 365)
PROVIDER_FACET_LIMIT = 25


def facet_counts(*, filters: dict, user, today: date | None = None) -> dict[str, dict[str, int]]:
    """For each facet, how many offers each value would give, the other filters applied (see _facet_counts).

    Exact and cached: the key holds the catalogue's version (catalogue/freshness.py, changed by every
    write), the user's visibility scope, the filters and the day; settings.FACET_CACHE_SECONDS = 0 disables.
    """
    today = today or today_local()
    scope = visibility_scope(user)
    return cached_read("facets", (scope, _normalised_filters(filters), today.isoformat()),
                       lambda: _facet_counts(filters=filters, scope=scope, today=today))


def _normalised_filters(filters: dict) -> dict:
    """The filters that change counts, in one spelling: sorted lists, ISO dates, the search's own keywords."""
    normalised = {}
    for name, value in filters.items():
        if name == "ordering" or value in (None, "", [], ()):
            continue
        if name == "q":
            value = keywords(value)
        elif isinstance(value, (list, tuple, set, frozenset)):
            value = sorted(str(item) for item in value)
        elif isinstance(value, date):
            value = value.isoformat()
        else:
            value = str(value)
        normalised[name] = value
    return normalised


def _facet_counts(*, filters: dict, scope: str, today: date) -> dict[str, dict[str, int]]:
    """Count every facet in SQL. `provider` holds the PROVIDER_FACET_LIMIT providers with the most offers
    (ties by name) and the chosen ones; `more["provider"]` says how many others have matching offers;
    `more["results"]` is the number of offers the search itself finds (see results_count)."""
    visible = offers_in_scope(scope)

    def base(facet: str) -> QuerySet:
        others = {key: value for key, value in filters.items() if key != facet}
        return filter_offers(visible, filters=others, today=today)

    def grouped(queryset: QuerySet, field: str) -> dict:
        # A plain COUNT, not COUNT(DISTINCT): the filters join no many-valued relation (they are EXISTS
        # subqueries, or the join on the one current decision) and each grouped relation is unique per offer
        # and value (one location per country, one certification per kind, one current decision), so no
        # offer is counted twice in a group.
        rows = queryset.order_by().values(field).annotate(n=Count("pk"))
        return {row[field]: row["n"] for row in rows}

    def present(counts: dict) -> dict[str, int]:
        return {key: counts[key] for key in sorted(key for key in counts if key is not None)}

    providers, other_providers = _provider_counts(base("provider"), chosen=filters.get("provider") or [])
    by_model = present(grouped(base("service_model"), "service_model"))
    counts: dict[str, dict[str, int]] = {
        "service_model": by_model,
        "provider": providers,
        "data_location": present(grouped(base("data_location"), "locations__country")),
        "certification": present(grouped(base("certification"), "certifications__kind")),
        "more": {"provider": other_providers, "results": results_count(by_model, filters.get("service_model"))},
    }
    # One pass over a join on the current decision (not a subquery per offer); no decision is "none".
    by_status = grouped(with_current_decision(base("qualification")), "current_decision__status")
    counts["qualification"] = {**present(by_status), "none": by_status.get(None, 0)}
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


def results_count(by_model: dict[str, int], chosen) -> int:
    """How many offers the whole search finds, from the service-model facet: every offer has exactly one
    (non-null) model, so the offers found are those of the chosen models, or of all of them when none is."""
    return sum(count for model, count in by_model.items() if not chosen or model in chosen)


def _provider_counts(offers: QuerySet, *, chosen) -> tuple[dict[str, int], int]:
    """The providers with the most `offers` (ties by name), at most PROVIDER_FACET_LIMIT, plus the `chosen`
    slugs, and how many other providers have some: a LIMIT and a window count in SQL, not 5,000 rows."""
    rows = list(
        offers.order_by().values("provider__slug", "provider__name")
        .annotate(n=Count("pk"), providers=Window(Count("*")))
        .order_by("-n", "provider__name", "provider__slug")[:PROVIDER_FACET_LIMIT]
    )
    counts = {row["provider__slug"]: row["n"] for row in rows}
    total = rows[0]["providers"] if rows else 0
    missing = [slug for slug in chosen if slug not in counts]
    if missing:
        counts.update(offers.order_by().filter(provider__slug__in=missing)
                      .values_list("provider__slug").annotate(n=Count("pk")))
    return counts, max(total - len(counts), 0)


def offer_detail(*, slug: str, user) -> Offer:
    """One offer the user may see (Offer.DoesNotExist otherwise, which views turn into 404)."""
    return _one_card(offers_visible(user=user).filter(slug=slug))


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
    """Figures for the home page: published offers, qualified ones, providers, expiring within 180 days.

    Cached like the facet counts (until the next catalogue write or the next day)."""
    today = today or today_local()
    return cached_read("figures", (today.isoformat(),), lambda: _key_figures(today=today))


def _key_figures(*, today: date) -> dict[str, int]:
    published = Offer.objects.filter(state=OfferState.PUBLISHED)
    return {
        "offers": published.count(),
        "qualified": published.filter(eligible_q(doctrine.SENSITIVE, start=today, today=today)).count(),
        "providers": Provider.objects.filter(offers__state=OfferState.PUBLISHED).distinct().count(),
        "expiring": filter_offers(published, filters={"expires_within": 180}, today=today).count(),
    }
