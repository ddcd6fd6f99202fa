"""Builders for the vendor-space tests: orders made with the model directly (the order services are not needed)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.utils import timezone

from procurement.models import Order, OrderStatus
from tests.factories import FrameworkFactory, LotFactory

_SEQUENCE = iter(range(1, 10_000))


def make_order(*, offer, creator, status: str = OrderStatus.SUBMITTED, organisation=None, decided_by=None) -> Order:
    """An order on `offer` by `creator` (a buyer) in `status`; submitted_at is set unless it is a draft."""
    lot = LotFactory(framework=FrameworkFactory())
    return Order.objects.create(
        reference=f"BC-TEST-{next(_SEQUENCE):05d}", organisation=organisation or creator.profile.organisation,
        created_by=creator, framework=lot.framework, lot=lot, offer=offer, quantity=3,
        unit_price=Decimal("90.00"), amount=Decimal("270.00"), sensitivity="sensitive",
        starts_on=date(2026, 12, 1), ends_on=date(2027, 11, 30), justification="Hébergement", status=status,
        offer_name=offer.name, provider_name=offer.provider.name, decided_by=decided_by,
        submitted_at=None if status == OrderStatus.DRAFT else timezone.now(),
    )
