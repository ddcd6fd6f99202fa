"""A small, hand-built world for the observatory tests, with every number worked out in the docstring.

TODAY is 2026-11-22; the default period is 2025-12-01 .. 2026-11-22 (Paris days).

Providers: FR (France), DE (Germany), US (United States).
Offers: fr (IaaS, published, FR), de (PaaS, published, DE), us (IaaS, published, US),
ending (SaaS, published), late (SaaS, published), suspended (IaaS, published), draft (SaaS, draft).

Orders approved or fulfilled submitted in the default period (amount, month, SecNumCloud snapshot, seat, lot, org):
  o1 1000 2026-01 qualified FR  A·1 org1     o2 500 2026-03 qualified FR A·1 org2
  o3  300 2026-03 -         DE  A·2 org1     o4 200 2026-06 -         US B·1 org2
  o8  100 2025-12-01 00:30 Paris, qualified FR A·1 org1 (first day)
  o9   50 2026-11-22 23:30 Paris, -         US B·1 org2 (last day)
  → 2150 ordered, 1600 SecNumCloud (74,4 %), 1900 EU-seated (88,4 %); per org: org1 1400, org2 750.
Not counted: o5 submitted 700 (shown apart), o6 rejected 900, o7 approved 400 on 2025-11-30 (before the period).
Continuity risks (service not ended, submitted/approved/fulfilled): o1 (ends 2027-06-30) and o5 (2027-06-15),
both FR → June 2027: 2 orders, 1700. Not counted: o10 fulfilled ended 2026-10-31, o11 cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from catalogue.models import Offer, Qualification, QualificationStatus
from procurement.models import FrameworkContract, Lot, Order, OrderStatus, Organisation
from tests.factories import (
    FrameworkFactory,
    LotFactory,
    OfferFactory,
    OrderFactory,
    OrganisationFactory,
    ProviderFactory,
    QualificationFactory,
    ReferencingFactory,
    make_user,
)

TODAY = date(2026, 11, 22)


def paris(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@dataclass
class ObservatoryWorld:
    offers: dict[str, Offer]
    framework_a: FrameworkContract
    framework_b: FrameworkContract
    lots: dict[str, Lot]
    org1: Organisation
    org2: Organisation
    orders: dict[str, Order]


def build_catalogue() -> tuple[dict[str, Offer], dict[str, Qualification]]:
    fr = ProviderFactory(name="Nuage Français", slug="nuage-francais", seat_country="FR")
    de = ProviderFactory(name="Wolke GmbH", slug="wolke", seat_country="DE")
    us = ProviderFactory(name="Cloud Inc", slug="cloud-inc", seat_country="US", largest_non_eu_holding=100,
                         total_non_eu_holding=100)
    offers = {
        "fr": OfferFactory(provider=fr, name="Calcul FR", slug="calcul-fr", service_model="IaaS"),
        "de": OfferFactory(provider=de, name="Plateforme DE", slug="plateforme-de", service_model="PaaS"),
        "us": OfferFactory(provider=us, name="Calcul US", slug="calcul-us", service_model="IaaS"),
        "ending": OfferFactory(provider=fr, name="Messagerie", slug="messagerie", service_model="SaaS"),
        "late": OfferFactory(provider=fr, name="Agenda", slug="agenda", service_model="SaaS"),
        "suspended": OfferFactory(provider=de, name="Stockage DE", slug="stockage-de", service_model="IaaS"),
        "draft": OfferFactory(provider=fr, name="Brouillon", slug="brouillon", service_model="SaaS", state="draft"),
    }
    qualified = QualificationStatus.QUALIFIED
    qualifications = {
        # An old decision of `fr` overlapping its current one: the offer counts once.
        "fr_old": QualificationFactory(offer=offers["fr"], is_current=False, status=QualificationStatus.EXPIRED,
                                       qualified_on=date(2022, 1, 1), valid_until=date(2025, 1, 1)),
        "fr": QualificationFactory(offer=offers["fr"], status=qualified, qualified_on=date(2024, 3, 16),
                                   valid_until=date(2027, 3, 15)),
        "ending": QualificationFactory(offer=offers["ending"], status=qualified, qualified_on=date(2023, 11, 23),
                                       valid_until=date(2026, 11, 22)),
        "late": QualificationFactory(offer=offers["late"], status=qualified, qualified_on=date(2024, 11, 23),
                                     valid_until=date(2027, 11, 22)),
        "suspended": QualificationFactory(offer=offers["suspended"], status=QualificationStatus.SUSPENDED,
                                          qualified_on=date(2025, 6, 1), valid_until=date(2027, 2, 1)),
        "draft": QualificationFactory(offer=offers["draft"], status=qualified, qualified_on=date(2024, 1, 11),
                                      valid_until=date(2027, 1, 10)),
        # Never qualified: a revoked decision and one in progress do not count.
        "de": QualificationFactory(offer=offers["de"], status=QualificationStatus.REVOKED,
                                   qualified_on=date(2025, 1, 1), valid_until=date(2027, 1, 1)),
        "us": QualificationFactory(offer=offers["us"], status=QualificationStatus.IN_PROGRESS, milestone="J1",
                                   qualified_on=None, valid_until=None, decision_number=""),
    }
    return offers, qualifications


def make_order(*, key: str, offer: Offer, lot: Lot, organisation: Organisation, creator, status: str,
               amount: str, submitted_at: datetime | None, qualified: bool, risk: bool = False,
               ends_on: date = date(2027, 6, 30), valid_until: date | None = date(2027, 3, 15)) -> Order:
    value = Decimal(amount)
    return OrderFactory(  # keeps the frameworks' stored committed totals true
        reference=f"BC-TEST-{key}", organisation=organisation, created_by=creator, framework=lot.framework,
        lot=lot, offer=offer, quantity=1, unit_price=value, amount=value, sensitivity="non_sensitive",
        starts_on=date(2026, 1, 1), ends_on=ends_on, justification="Test", status=status,
        offer_name=offer.name, provider_name=offer.provider.name,
        qualification_status=QualificationStatus.QUALIFIED if qualified else "",
        qualification_valid_until=valid_until if qualified else None, continuity_risk=risk,
        submitted_at=submitted_at,
    )


def build_world() -> ObservatoryWorld:
    offers, _qualifications = build_catalogue()
    framework_a = FrameworkFactory(reference="AC-A", slug="ac-a", starts_on=date(2024, 1, 1))
    framework_b = FrameworkFactory(reference="AC-B", slug="ac-b", starts_on=date(2024, 6, 1))
    lots = {
        "A1": LotFactory(framework=framework_a, number=1, title="Infrastructure"),
        "A2": LotFactory(framework=framework_a, number=2, title="Plateformes", service_model="PaaS"),
        "B1": LotFactory(framework=framework_b, number=1, title="Cloud public"),
    }
    for lot, keys in (("A1", ["fr", "suspended", "ending", "late", "draft"]), ("A2", ["de"]), ("B1", ["us"])):
        for key in keys:
            ReferencingFactory(lot=lots[lot], offer=offers[key])
    org1 = OrganisationFactory(name="Ministère A", slug="ministere-a")
    org2 = OrganisationFactory(name="Agence B", slug="agence-b")
    creator = make_user(username="auteur-observatoire")
    approved, fulfilled = OrderStatus.APPROVED, OrderStatus.FULFILLED
    specs = {
        "o1": (offers["fr"], "A1", org1, approved, "1000", paris(date(2026, 1, 15)), True, True),
        "o2": (offers["fr"], "A1", org2, fulfilled, "500", paris(date(2026, 3, 10)), True, False),
        "o3": (offers["de"], "A2", org1, approved, "300", paris(date(2026, 3, 20)), False, False),
        "o4": (offers["us"], "B1", org2, fulfilled, "200", paris(date(2026, 6, 1)), False, False),
        "o5": (offers["fr"], "A1", org1, OrderStatus.SUBMITTED, "700", paris(date(2026, 6, 5)), True, True),
        "o6": (offers["fr"], "A1", org1, OrderStatus.REJECTED, "900", paris(date(2026, 5, 5)), True, False),
        "o7": (offers["fr"], "A1", org1, approved, "400", paris(date(2025, 11, 30), 23, 30), True, False),
        "o8": (offers["fr"], "A1", org1, approved, "100", paris(date(2025, 12, 1), 0, 30), True, False),
        "o9": (offers["us"], "B1", org2, approved, "50", paris(date(2026, 11, 22), 23, 30), False, False),
    }
    orders = {}
    for key, (offer, lot, organisation, status, amount, submitted_at, qualified, risk) in specs.items():
        orders[key] = make_order(key=key, offer=offer, lot=lots[lot], organisation=organisation, creator=creator,
                                 status=status, amount=amount, submitted_at=submitted_at, qualified=qualified,
                                 risk=risk, ends_on=date(2027, 6, 15) if key == "o5" else date(2027, 6, 30))
    # Flagged, but no longer followed: a service that has ended, a cancelled order.
    orders["o10"] = make_order(key="o10", offer=offers["fr"], lot=lots["A1"], organisation=org1, creator=creator,
                               status=fulfilled, amount="80", submitted_at=paris(date(2024, 1, 10)), qualified=True,
                               risk=True, ends_on=date(2026, 10, 31))
    orders["o11"] = make_order(key="o11", offer=offers["fr"], lot=lots["A1"], organisation=org2, creator=creator,
                               status=OrderStatus.CANCELLED, amount="60", submitted_at=paris(date(2026, 2, 1)),
                               qualified=True, risk=True)
    return ObservatoryWorld(offers, framework_a, framework_b, lots, org1, org2, orders)
