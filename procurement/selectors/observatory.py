"""The observatory's figures: qualifications coming to term, what is ordered and from whom, continuity risks.

Every figure is one set-based query (values() + annotate/aggregate) whatever the number
of orders or offers; Python only fills the empty months of a series. Selectors never read
the clock: the view passes `today`.

Two scopes (`observatory_scope`): catalogue managers, qualifiers and superusers see the
FULL observatory; everyone else the PUBLIC one, with the same figures but no amount per
administration, no order of another administration, and only published offers.

Definitions stated on the page:
- "ordered amounts" are the amounts excluding VAT of orders approved or fulfilled, by
  the day they were submitted (`submitted_at`, Paris time);
- an amount is "SecNumCloud" when the order's snapshot of the qualification, frozen at
  submission, was `qualified`;
- a provider is "EU-seated" when its seat is in the doctrine's EU list.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from broker import roles
from catalogue.countries import country_name
from catalogue.doctrine import EU_COUNTRIES
from catalogue.models import Offer, OfferState, Qualification, QualificationStatus
from procurement.models import FrameworkContract, Order, OrderStatus, Referencing

FULL = "full"
PUBLIC = "public"

# Orders whose amounts the observatory counts as ordered (submitted ones are shown apart).
ORDERED_STATUSES = (OrderStatus.APPROVED, OrderStatus.FULFILLED)
# Orders whose continuity risk is followed: still to be decided, or bought.
AT_RISK_STATUSES = (OrderStatus.SUBMITTED, OrderStatus.APPROVED, OrderStatus.FULFILLED)
# Decisions that never made an offer qualified.
NEVER_QUALIFIED = (QualificationStatus.IN_PROGRESS, QualificationStatus.REVOKED)

QUALIFIED_HISTORY_MONTHS = 24
EXPIRY_HORIZON_MONTHS = 12
DEFAULT_PERIOD_MONTHS = 12
# The lists on the page (expiring decisions, at-risk orders) stop here; the CSV has them all.
LIST_LIMIT = 200

MONEY = DecimalField(max_digits=16, decimal_places=2)
ZERO = Decimal("0")
ONE_DECIMAL = Decimal("0.1")


# --- Who sees what ---------------------------------------------------------------------------------------

def observatory_scope(user) -> str:
    """FULL for catalogue managers, qualifiers and superusers; PUBLIC for everyone else."""
    if roles.is_catalogue_manager(user) or roles.is_qualifier(user):
        return FULL
    return PUBLIC


# --- Dates -----------------------------------------------------------------------------------------------

def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, the day clamped to the month's length (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def months_between(start: date, end: date) -> list[date]:
    """The first day of every month from `start`'s to `end`'s, both included."""
    months, current = [], month_start(start)
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


def default_period(*, today: date) -> tuple[date, date]:
    """The 12 calendar months up to `today`, the current month included."""
    return add_months(month_start(today), 1 - DEFAULT_PERIOD_MONTHS), today


def _as_month(value) -> date:
    """TruncMonth gives a date for a DateField, an aware datetime for a DateTimeField."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def share(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal (half up); None when `whole` is zero."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(ONE_DECIMAL, ROUND_HALF_UP)


# --- Filters ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ObservatoryFilters:
    """The period (submission days, both included) and the framework contract, validated by the view's form."""

    start: date
    end: date
    framework: FrameworkContract | None = None


def frameworks_for_filter() -> QuerySet:
    return FrameworkContract.objects.order_by("-starts_on", "reference").only("reference", "title", "slug")


# --- Spend -----------------------------------------------------------------------------------------------

def _submitted_in(filters: ObservatoryFilters) -> QuerySet:
    """Orders submitted in the period (as a range on submitted_at, so that an index can serve it)."""
    orders = Order.objects.filter(submitted_at__gte=_start_of(filters.start),
                                  submitted_at__lt=_start_of(filters.end + timedelta(days=1)))
    if filters.framework is not None:
        orders = orders.filter(framework=filters.framework)
    return orders.order_by()


def ordered_orders(*, filters: ObservatoryFilters) -> QuerySet:
    """Approved and fulfilled orders submitted in the period, under the chosen framework."""
    return _submitted_in(filters).filter(status__in=ORDERED_STATUSES)


def _sum(condition: Q | None = None) -> Coalesce:
    return Coalesce(Sum("amount", filter=condition), Value(ZERO), output_field=MONEY)


SECNUMCLOUD = Q(qualification_status=QualificationStatus.QUALIFIED)
EU_SEATED = Q(offer__provider__seat_country__in=sorted(EU_COUNTRIES))
ORDERED = Q(status__in=ORDERED_STATUSES)
SUBMITTED = Q(status=OrderStatus.SUBMITTED)


@dataclass(frozen=True)
class SpendSummary:
    orders: int
    amount: Decimal
    secnumcloud_amount: Decimal
    eu_amount: Decimal
    submitted_orders: int
    submitted_amount: Decimal

    @property
    def secnumcloud_share(self) -> Decimal | None:
        return share(self.secnumcloud_amount, self.amount)

    @property
    def eu_share(self) -> Decimal | None:
        return share(self.eu_amount, self.amount)


def spend_summary(*, filters: ObservatoryFilters) -> SpendSummary:
    """Totals of the period: ordered, of which SecNumCloud and EU-seated; submitted apart."""
    return spend_summary_of(months=spend_by_month(filters=filters))


def spend_summary_of(*, months: list[MonthSpend]) -> SpendSummary:
    """The totals of the months of `spend_by_month` (so that a page reads the orders once for both)."""
    return SpendSummary(
        orders=sum(month.orders for month in months),
        amount=sum((month.amount for month in months), ZERO),
        secnumcloud_amount=sum((month.secnumcloud_amount for month in months), ZERO),
        eu_amount=sum((month.eu_amount for month in months), ZERO),
        submitted_orders=sum(month.submitted_orders for month in months),
        submitted_amount=sum((month.submitted_amount for month in months), ZERO),
    )


@dataclass(frozen=True)
class SpendRow:
    """Ordered amounts for one group (a month, a provider, a country, a lot, an administration)."""

    label: str
    orders: int
    amount: Decimal
    secnumcloud_amount: Decimal
    key: object = None
    detail: str = ""

    @property
    def secnumcloud_share(self) -> Decimal | None:
        return share(self.secnumcloud_amount, self.amount)


def _grouped(orders: QuerySet, *fields: str) -> QuerySet:
    return orders.values(*fields).annotate(n=Count("id"), total=_sum(), snc=_sum(SECNUMCLOUD))


@dataclass(frozen=True)
class MonthSpend:
    """One month of submissions: ordered amounts (approved and fulfilled), and the submitted orders apart."""

    month: date
    orders: int
    amount: Decimal
    secnumcloud_amount: Decimal
    eu_amount: Decimal
    submitted_orders: int = 0
    submitted_amount: Decimal = ZERO

    @property
    def other_amount(self) -> Decimal:
        return self.amount - self.secnumcloud_amount


def spend_by_month(*, filters: ObservatoryFilters) -> list[MonthSpend]:
    """Amounts per month of submission, every month of the period present (zero when empty), in one query.

    Aggregates are named apart from the model's fields (`amount` is one): Django refuses the clash.
    """
    rows = (
        _submitted_in(filters).filter(status__in=ORDERED_STATUSES + (OrderStatus.SUBMITTED,))
        .annotate(month=TruncMonth("submitted_at")).values("month")
        .annotate(n=Count("id", filter=ORDERED), total=_sum(ORDERED), snc=_sum(ORDERED & SECNUMCLOUD),
                  eu=_sum(ORDERED & EU_SEATED), n_submitted=Count("id", filter=SUBMITTED),
                  submitted_total=_sum(SUBMITTED))
    )
    found = {_as_month(row["month"]): row for row in rows}
    empty = {"n": 0, "total": ZERO, "snc": ZERO, "eu": ZERO, "n_submitted": 0, "submitted_total": ZERO}
    return [
        MonthSpend(month=month, orders=row["n"], amount=row["total"], secnumcloud_amount=row["snc"],
                   eu_amount=row["eu"], submitted_orders=row["n_submitted"], submitted_amount=row["submitted_total"])
        for month in months_between(filters.start, filters.end)
        for row in [found.get(month, empty)]
    ]


def spend_by_provider(*, filters: ObservatoryFilters) -> list[SpendRow]:
    """Ordered amounts per provider (largest first), with the provider's seat country."""
    rows = _grouped(ordered_orders(filters=filters), "offer__provider_id", "offer__provider__name",
                    "offer__provider__seat_country").order_by("-total", "offer__provider__name")
    return [SpendRow(label=row["offer__provider__name"], orders=row["n"], amount=row["total"],
                     secnumcloud_amount=row["snc"], key=row["offer__provider__seat_country"])
            for row in rows]


def spend_by_country(*, filters: ObservatoryFilters) -> list[SpendRow]:
    """Ordered amounts per country of the provider's seat (largest first); `detail` says EU or not."""
    return countries_of(providers=spend_by_provider(filters=filters))


def countries_of(*, providers: list[SpendRow]) -> list[SpendRow]:
    """The rows of `spend_by_provider` added up by seat country (a loop over providers, not orders)."""
    totals: dict[str, list] = {}
    for row in providers:
        total = totals.setdefault(row.key, [0, ZERO, ZERO])
        total[0] += row.orders
        total[1] += row.amount
        total[2] += row.secnumcloud_amount
    rows = [SpendRow(label=country_name(code), orders=orders, amount=amount, secnumcloud_amount=snc, key=code,
                     detail="eu" if code in EU_COUNTRIES else "non_eu")
            for code, (orders, amount, snc) in totals.items()]
    return sorted(rows, key=lambda row: (-row.amount, row.key))


def spend_by_lot(*, filters: ObservatoryFilters) -> list[SpendRow]:
    """Ordered amounts per framework contract and lot, in the order of the frameworks and lot numbers."""
    rows = _grouped(ordered_orders(filters=filters), "framework__reference", "lot__number", "lot__title").order_by(
        "framework__reference", "lot__number")
    return [SpendRow(label=f"{row['framework__reference']} · {row['lot__number']} — {row['lot__title']}",
                     orders=row["n"], amount=row["total"], secnumcloud_amount=row["snc"],
                     key=(row["framework__reference"], row["lot__number"]),
                     detail=f"{row['lot__number']} — {row['lot__title']}")
            for row in rows]


def spend_by_organisation(*, filters: ObservatoryFilters, scope: str) -> list[SpendRow]:
    """Ordered amounts per administration (largest first): FULL scope only, PermissionError otherwise."""
    if scope != FULL:
        raise PermissionError("spend per administration is not public")
    rows = _grouped(ordered_orders(filters=filters), "organisation__name").order_by("-total", "organisation__name")
    return [SpendRow(label=row["organisation__name"], orders=row["n"], amount=row["total"],
                     secnumcloud_amount=row["snc"])
            for row in rows]


# --- Continuity risks ------------------------------------------------------------------------------------

def _at_risk(*, today: date, framework: FrameworkContract | None) -> QuerySet:
    """Orders flagged as a continuity risk, submitted, approved or fulfilled, whose service has not ended."""
    orders = Order.objects.filter(continuity_risk=True, status__in=AT_RISK_STATUSES, ends_on__gte=today)
    if framework is not None:
        orders = orders.filter(framework=framework)
    return orders.order_by()


@dataclass(frozen=True)
class RiskGroup:
    month: date
    provider: str
    orders: int
    amount: Decimal


def continuity_risk_by_month(*, today: date, framework: FrameworkContract | None = None) -> list[RiskGroup]:
    """At-risk orders counted and summed by month of the service's end and provider (public and full)."""
    rows = (
        _at_risk(today=today, framework=framework).annotate(month=TruncMonth("ends_on"))
        .values("month", "offer__provider__name").annotate(n=Count("id"), total=_sum())
        .order_by("month", "offer__provider__name")
    )
    return [RiskGroup(month=_as_month(row["month"]), provider=row["offer__provider__name"], orders=row["n"],
                      amount=row["total"]) for row in rows]


def continuity_risk_orders(*, today: date, scope: str, framework: FrameworkContract | None = None,
                           limit: int | None = LIST_LIMIT) -> QuerySet:
    """The at-risk orders themselves, soonest end first: FULL scope only, PermissionError otherwise."""
    if scope != FULL:
        raise PermissionError("orders of other administrations are not public")
    orders = (
        _at_risk(today=today, framework=framework)
        .select_related("organisation", "offer__provider")
        .only("reference", "status", "amount", "ends_on", "qualification_valid_until", "organisation__name",
              "offer__name", "offer__slug", "offer__provider__name")
        .order_by("ends_on", "reference")
    )
    return orders[:limit] if limit is not None else orders


# --- Qualifications and offers ---------------------------------------------------------------------------

def _offers_in_scope(*, scope: str, framework: FrameworkContract | None) -> QuerySet:
    """Offers the figures count: published ones for the public, all for FULL; those referenced in `framework`."""
    offers = Offer.objects.all()
    if scope != FULL:
        offers = offers.filter(state=OfferState.PUBLISHED)
    if framework is not None:
        offers = offers.filter(pk__in=Referencing.objects.filter(lot__framework=framework).values("offer_id"))
    return offers


def expiring_qualifications(*, today: date, scope: str, framework: FrameworkContract | None = None) -> QuerySet:
    """Current `qualified` decisions ending in [today, today + 12 months), soonest first, with offer and provider."""
    return (
        Qualification.objects.filter(
            is_current=True, status=QualificationStatus.QUALIFIED, valid_until__gte=today,
            valid_until__lt=add_months(today, EXPIRY_HORIZON_MONTHS),
            offer__in=_offers_in_scope(scope=scope, framework=framework),
        )
        .select_related("offer__provider")
        .only("decision_number", "valid_until", "offer__name", "offer__slug", "offer__state",
              "offer__provider__name")
        .order_by("valid_until", "offer__provider__name", "offer__name")
    )


@dataclass(frozen=True)
class MonthCount:
    month: date
    count: int


def expiring_by_month(*, today: date, scope: str, framework: FrameworkContract | None = None) -> list[MonthCount]:
    """How many qualifications end in each month of [today, today + 12 months): 13 months, the first and last partly."""
    rows = (
        expiring_qualifications(today=today, scope=scope, framework=framework)
        .annotate(month=TruncMonth("valid_until")).values("month").annotate(count=Count("id")).order_by("month")
    )
    found = {_as_month(row["month"]): row["count"] for row in rows}
    months = months_between(today, add_months(today, EXPIRY_HORIZON_MONTHS) - timedelta(days=1))
    return [MonthCount(month=month, count=found.get(month, 0)) for month in months]


@dataclass(frozen=True)
class DayCount:
    day: date
    count: int


def qualification_days(*, today: date) -> list[date]:
    """The last day of each of the last 24 months; `today` stands for the current month."""
    current = month_start(today)
    return [month_end(add_months(current, -back)) for back in range(QUALIFIED_HISTORY_MONTHS - 1, 0, -1)] + [today]


def qualified_offers_over_time(*, today: date, scope: str,
                               framework: FrameworkContract | None = None) -> list[DayCount]:
    """On each day of `qualification_days`, how many offers had a decision covering it, in one query.

    A decision covers a day when qualified_on <= day <= valid_until and it was not a
    decision in progress or revoked. Suspensions and early ends are not back-dated: a
    suspended or expired decision counts over its dates (the page says so).
    """
    days = qualification_days(today=today)
    decisions = Qualification.objects.filter(
        offer__in=_offers_in_scope(scope=scope, framework=framework), qualified_on__isnull=False,
        valid_until__isnull=False,
    ).exclude(status__in=NEVER_QUALIFIED).order_by()
    counts = decisions.aggregate(**{
        f"d{index}": Count("offer", distinct=True, filter=Q(qualified_on__lte=day, valid_until__gte=day))
        for index, day in enumerate(days)
    })
    return [DayCount(day=day, count=counts[f"d{index}"]) for index, day in enumerate(days)]


@dataclass(frozen=True)
class StateModelCount:
    state: str
    service_model: str
    count: int


def offers_by_state_and_model(*, scope: str, framework: FrameworkContract | None = None) -> list[StateModelCount]:
    """Offers counted by publication state and service model (published ones only for the public)."""
    rows = (
        _offers_in_scope(scope=scope, framework=framework).order_by().values("state", "service_model")
        .annotate(count=Count("id")).order_by("state", "service_model")
    )
    return [StateModelCount(**row) for row in rows]
