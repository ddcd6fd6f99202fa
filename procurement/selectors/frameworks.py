"""Reads of framework contracts: committed and remaining amounts (in SQL), lots, referenced offers, prices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from catalogue.models import Offer
from catalogue.selectors import offers_visible, with_card_data
from procurement.models import COMMITTED_STATUSES, FrameworkContract, Lot, Order, Referencing

CENT = Decimal("0.01")
MONEY = DecimalField(max_digits=14, decimal_places=2)


def discounted_price(*, list_price: Decimal, discount_percent: Decimal) -> Decimal:
    """The price under a framework: the list price less the discount, rounded to the cent (half up)."""
    return (list_price * (Decimal("100") - discount_percent) / Decimal("100")).quantize(CENT, ROUND_HALF_UP)


def committed_sum(field: str) -> Coalesce:
    """The sum of committed order amounts for the row `field` points to, as one correlated subquery.

    The recomputation that the stored `committed_amount` must always equal: used to fill and reconcile it
    (refresh_commitments) and to check it (commitment_drift), never on a request's path.
    """
    totals = (
        Order.objects.filter(**{field: OuterRef("pk")}, status__in=COMMITTED_STATUSES)
        .order_by()
        .values(field)
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    return Coalesce(Subquery(totals, output_field=MONEY), Value(Decimal("0")), output_field=MONEY)


def _with_stored_amounts(rows: QuerySet) -> QuerySet:
    return rows.annotate(committed=F("committed_amount")).annotate(
        remaining=ExpressionWrapper(F("ceiling") - F("committed_amount"), output_field=MONEY),
    )


def with_amounts(frameworks: QuerySet) -> QuerySet:
    """Annotate `committed` (submitted, approved and fulfilled orders) and `remaining` under the ceiling.

    Both read the framework's stored running total, kept by the order services: no sum over orders.
    """
    return _with_stored_amounts(frameworks)


def lots_with_amounts(lots: QuerySet | None = None) -> QuerySet:
    """Lots with `committed` and `remaining` (None when the lot has no ceiling of its own), from the stored total."""
    lots = Lot.objects.all() if lots is None else lots
    return _with_stored_amounts(lots).order_by("number")


@dataclass(frozen=True)
class Drift:
    """A framework or lot whose stored committed amount is not the sum of its committed orders."""

    kind: str  # "framework" or "lot"
    pk: int
    label: str
    stored: Decimal
    recomputed: Decimal


def commitment_drift() -> list[Drift]:
    """Every framework and lot whose stored `committed_amount` differs from the sum recomputed from orders.

    Empty whenever every change of what is committed went through the order services (two queries, each a
    scan of the committed orders: for tests, the bench and a reconciliation, not for requests).
    """
    frameworks = FrameworkContract.objects.annotate(recomputed=committed_sum("framework"))
    lots = Lot.objects.select_related("framework").annotate(recomputed=committed_sum("lot"))
    drift = [Drift(kind="framework", pk=row.pk, label=row.reference, stored=row.committed_amount,
                   recomputed=row.recomputed)
             for row in frameworks.exclude(committed_amount=F("recomputed")).order_by("pk")]
    drift += [Drift(kind="lot", pk=row.pk, label=f"{row.framework.reference} / {row.number}",
                    stored=row.committed_amount, recomputed=row.recomputed)
              for row in lots.exclude(committed_amount=F("recomputed")).order_by("pk")]
    return drift


def framework_list(*, user) -> QuerySet:
    """Every framework contract (they are public), with amounts and their lots' amounts."""
    return with_amounts(FrameworkContract.objects.all()).prefetch_related(
        Prefetch("lots", queryset=lots_with_amounts())
    ).order_by("-starts_on", "reference")


def framework_detail(*, slug: str, user) -> FrameworkContract:
    """One framework with its lots and the offers referenced in them that `user` may see.

    Raises FrameworkContract.DoesNotExist, which views turn into a 404. Each
    referencing carries `effective_discount` (the lot's own or the framework's)
    computed in SQL; `discounted_price` is added for display.
    """
    referencings = (
        Referencing.objects.filter(offer__in=offers_visible(user=user))
        .annotate(discount=Coalesce("discount_percent", "lot__framework__discount_percent"))
        .prefetch_related(Prefetch("offer", queryset=with_card_data(Offer.objects.all())))
        .order_by("offer__provider__name", "offer__name")
    )
    framework = with_amounts(FrameworkContract.objects.filter(slug=slug)).prefetch_related(
        Prefetch("lots", queryset=lots_with_amounts().prefetch_related(
            Prefetch("referencings", queryset=referencings, to_attr="visible_referencings")
        ))
    ).get()
    for lot in framework.lots.all():
        for referencing in lot.visible_referencings:
            referencing.discounted_price = (
                None if referencing.offer.list_price is None
                else discounted_price(list_price=referencing.offer.list_price,
                                      discount_percent=referencing.discount)
            )
    return framework


def referencings_for_offer(*, offer, today: date) -> QuerySet:
    """The lots an offer may be ordered under: referenced there, framework not ended or terminated by `today`."""
    return (
        Referencing.objects.filter(offer=offer, lot__framework__ends_on__gte=today)
        .filter(Q(lot__framework__terminated_on__isnull=True) | Q(lot__framework__terminated_on__gt=today))
        .select_related("lot__framework", "offer__provider")
        .order_by("lot__framework__reference", "lot__number")
    )
