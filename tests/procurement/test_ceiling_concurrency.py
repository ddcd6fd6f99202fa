"""Ceilings hold under concurrency: many submissions at once against a nearly full ceiling (PostgreSQL).

Each thread has its own database connection and transaction, as concurrent
requests do; a barrier releases them together. The services lock the framework
row, then the lot row, and check the amount against their stored committed
totals inside the transaction, so exactly the orders that fit are accepted,
every other one is refused with `ceiling_exceeded`, and the stored totals end
equal to the sum of the committed orders.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.db.models import Sum

from broker.errors import RuleViolation
from procurement.models import COMMITTED_STATUSES, FrameworkContract, Lot, Order, OrderStatus
from procurement.selectors.frameworks import commitment_drift
from procurement.services import orders as services
from tests.factories import OfferFactory, QualificationFactory, ReferencingFactory
from tests.procurement.order_builders import (
    build_market,
    make_order,
    order_data,
)

THREADS = 24

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and real concurrency"),
]


def run_together(work, count: int) -> list:
    """Run work(index) in `count` threads released at once; each thread closes its own connection."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as error:  # noqa: BLE001 - reported by the test's assertions
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def submit_all(orders: list[Order], *, user, today) -> list:
    def work(index: int):
        try:
            services.order_submit(order=Order.objects.get(pk=orders[index].pk), user=user, today=today)
            return "accepted"
        except RuleViolation as violation:
            return violation.code

    return run_together(work, len(orders))


def committed_total(**scope) -> Decimal:
    return Order.objects.filter(status__in=COMMITTED_STATUSES, **scope).aggregate(t=Sum("amount"))["t"]


@pytest.mark.parametrize("capped", ["framework", "lot"])
def test_concurrent_submissions_never_pass_the_ceiling(provider, users, today, capped):
    """24 simultaneous 900 € submissions with 1 800 € left: 2 accepted, 22 `ceiling_exceeded`, stored totals exact."""
    ceiling = Decimal("10000.00")
    market = build_market(provider=provider, discount=Decimal("0"),
                          ceiling=ceiling if capped == "framework" else Decimal("1000000.00"),
                          lot_ceiling=ceiling if capped == "lot" else None)
    make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, quantity=82)  # 8 200 € committed
    drafts = [make_order(market, users=users, today=today, quantity=9) for _ in range(THREADS)]  # 900 € each

    results = submit_all(drafts, user=users["buyer"], today=today)

    accepted = results.count("accepted")
    refused = [result for result in results if result != "accepted"]
    total = committed_total(lot=market.lot)
    print(f"\n[{capped} ceiling] requests={THREADS} accepted={accepted} refused={len(refused)} "
          f"committed={total} ceiling={ceiling}")
    assert total <= ceiling
    assert accepted == 2 and total == Decimal("10000.00")
    assert refused == ["ceiling_exceeded"] * (THREADS - 2), refused
    assert Order.objects.filter(status=OrderStatus.SUBMITTED).count() == 3
    assert Order.objects.filter(status=OrderStatus.DRAFT).count() == THREADS - 2
    assert commitment_drift() == []
    assert FrameworkContract.objects.get(pk=market.framework.pk).committed_amount == total
    assert Lot.objects.get(pk=market.lot.pk).committed_amount == total


def test_concurrent_creates_with_one_idempotency_key_make_one_order(provider, users, today):
    """20 simultaneous creates with the same Idempotency-Key: one order, and every caller gets that one."""
    market = build_market(provider=provider)

    def work(_index: int):
        order, _created = services.order_create(user=users["buyer"], data=order_data(market),
                                                idempotency_key="retry-me", today=today)
        return order.pk

    results = run_together(work, 20)
    print(f"\n[idempotency] requests=20 orders={Order.objects.count()} distinct answers={len(set(results))}")
    assert all(isinstance(pk, int) for pk in results), results
    assert Order.objects.count() == 1 and set(results) == {Order.objects.get().pk}


def test_a_submission_waiting_for_an_edit_submits_the_draft_as_edited(provider, users, today):
    """A submission that waits for the lock of a draft being edited (another offer, another quantity) submits
    the draft as edited: the order is read again under lock, with the new offer's price, and never seen as gone."""
    market = build_market(provider=provider, discount=Decimal("0"))
    other = OfferFactory(provider=provider, list_price=Decimal("250.00"))
    QualificationFactory(offer=other, qualified_on=date(2025, 1, 1), valid_until=date(2028, 1, 1))
    ReferencingFactory(lot=market.lot, offer=other)
    draft = make_order(market, users=users, today=today, quantity=9)
    editing = threading.Event()

    def work(index: int):
        if index == 0:
            with transaction.atomic():
                services.order_update(order=draft, user=users["buyer"], data={"offer": other, "quantity": 2})
                editing.set()
                time.sleep(1)  # the submission now waits for the order row's lock
            return "edited"
        editing.wait(timeout=30)
        submitted = services.order_submit(order=Order.objects.get(pk=draft.pk), user=users["buyer"], today=today)
        return submitted.offer_id, submitted.amount

    results = run_together(work, 2)

    assert results == ["edited", (other.pk, Decimal("500.00"))], results
    order = Order.objects.get(pk=draft.pk)
    assert (order.status, order.offer_id, order.offer_name, order.amount) == (
        OrderStatus.SUBMITTED, other.pk, other.name, Decimal("500.00"))
    assert Lot.objects.get(pk=market.lot.pk).committed_amount == Decimal("500.00")
    assert commitment_drift() == []
