"""Builders shared by the framework and order tests: a framework with one lot referencing one offer, and orders
brought to any status through the services (so their snapshots are the real ones)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from catalogue.models import Offer, Qualification
from procurement.models import FrameworkContract, Lot, Order, OrderStatus, Referencing
from procurement.services import orders as services
from tests.factories import FrameworkFactory, LotFactory, OfferFactory, QualificationFactory, ReferencingFactory

START = date(2026, 12, 1)
END = date(2027, 11, 30)


@dataclass
class Market:
    framework: FrameworkContract
    lot: Lot
    offer: Offer
    referencing: Referencing
    qualification: Qualification


def build_market(*, provider, ceiling: Decimal = Decimal("1000000.00"), lot_ceiling: Decimal | None = None,
                 list_price: Decimal = Decimal("100.00"), discount: Decimal = Decimal("10"),
                 valid_until: date = date(2028, 1, 1)) -> Market:
    """A framework in force 2025–2029 (discount 10 %), lot 1, a published SecNumCloud-qualified offer referenced."""
    framework = FrameworkFactory(ceiling=ceiling, discount_percent=discount)
    lot = LotFactory(framework=framework, number=1, ceiling=lot_ceiling)
    offer = OfferFactory(provider=provider, list_price=list_price)
    qualification = QualificationFactory(offer=offer, qualified_on=date(2025, 1, 1), valid_until=valid_until)
    referencing = ReferencingFactory(lot=lot, offer=offer)
    return Market(framework, lot, offer, referencing, qualification)


def order_data(market: Market, **overrides) -> dict:
    data = {
        "framework": market.framework, "lot": market.lot, "offer": market.offer, "quantity": 12,
        "sensitivity": "sensitive", "starts_on": START, "ends_on": END,
        "justification": "Hébergement de l'application de gestion des titres.", "search": None,
    }
    return {**data, **overrides}


def make_order(market: Market, *, users: dict, today: date, status: str = OrderStatus.DRAFT,
               creator: str = "buyer", **overrides) -> Order:
    """An order created by `users[creator]` and moved to `status` by the right people, through the services."""
    order, _created = services.order_create(user=users[creator], data=order_data(market, **overrides), today=today)
    if status == OrderStatus.DRAFT:
        return order
    if status == OrderStatus.CANCELLED:
        return services.order_cancel(order=order, user=users[creator], reason="")
    order = services.order_submit(order=order, user=users[creator], today=today)
    if status == OrderStatus.SUBMITTED:
        return order
    if status == OrderStatus.REJECTED:
        return services.order_reject(order=order, user=users["approver"], reason="Besoin non justifié")
    order = services.order_approve(order=order, user=users["approver"], today=today)
    if status == OrderStatus.APPROVED:
        return order
    return services.order_fulfil(order=order, user=users["vendor"])

