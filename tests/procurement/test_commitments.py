"""Stored committed totals: every transition moves the framework's and the lot's `committed_amount` by exactly the
order's amount (or not at all), they always equal the sum recomputed from the orders, and the database refuses a
negative total."""

from __future__ import annotations

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from broker.errors import RuleViolation
from procurement.models import FrameworkContract, Lot, OrderStatus
from procurement.selectors.frameworks import commitment_drift, framework_list
from procurement.services import orders as services
from procurement.services.frameworks import adjust_commitment, refresh_commitments
from tests.factories import LotFactory, OrderFactory, ReferencingFactory
from tests.procurement.order_builders import build_market, make_order

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("1080.00")  # 12 units at 100 € less 10 %
migration = importlib.import_module("procurement.migrations.0004_committed_amounts")


@pytest.fixture
def market(provider):
    return build_market(provider=provider, ceiling=Decimal("100000.00"), lot_ceiling=Decimal("50000.00"))


def stored(market) -> tuple[Decimal, Decimal]:
    """(framework, lot) committed amounts as stored now."""
    return (FrameworkContract.objects.get(pk=market.framework.pk).committed_amount,
            Lot.objects.get(pk=market.lot.pk).committed_amount)


def test_submit_adds_the_amount(market, users, today):
    """Submitting a draft adds its amount to the framework's and the lot's totals."""
    order = make_order(market, users=users, today=today)
    assert stored(market) == (Decimal("0"), Decimal("0"))
    services.order_submit(order=order, user=users["buyer"], today=today)
    assert stored(market) == (AMOUNT, AMOUNT)
    assert commitment_drift() == []


def test_reject_frees_the_amount(market, users, today):
    """Rejecting a submitted order takes its amount off both totals."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    services.order_reject(order=order, user=users["approver"], reason="Besoin non justifié")
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert stored(market) == (Decimal("0"), Decimal("0"))


@pytest.mark.parametrize("status", [OrderStatus.SUBMITTED, OrderStatus.APPROVED])
def test_cancel_of_a_committed_order_frees_the_amount(market, users, today, status):
    """Cancelling a submitted or an approved order takes its amount off both totals."""
    kept = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, quantity=1)
    order = make_order(market, users=users, today=today, status=status)
    assert stored(market) == (AMOUNT + kept.amount, AMOUNT + kept.amount)
    services.order_cancel(order=order, user=users["buyer"], reason="Plus nécessaire")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED
    assert stored(market) == (kept.amount, kept.amount)
    assert commitment_drift() == []


def test_cancel_of_a_draft_changes_nothing(market, users, today):
    """A draft was never committed: cancelling it leaves the totals as they are."""
    make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    draft = make_order(market, users=users, today=today)
    services.order_cancel(order=draft, user=users["buyer"])
    draft.refresh_from_db()
    assert draft.status == OrderStatus.CANCELLED
    assert stored(market) == (AMOUNT, AMOUNT)


def test_approve_and_fulfil_change_nothing(market, users, today):
    """An approved, then fulfilled order stays committed: the totals do not move."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    order = services.order_approve(order=order, user=users["approver"], today=today)
    assert stored(market) == (AMOUNT, AMOUNT)
    services.order_fulfil(order=order, user=users["vendor"])
    assert stored(market) == (AMOUNT, AMOUNT)
    assert commitment_drift() == []


def test_a_refused_submission_changes_nothing(provider, users, today):
    """A submission refused for its ceiling rolls back whole: order still a draft, totals unchanged."""
    market = build_market(provider=provider, lot_ceiling=Decimal("2000.00"))
    make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    draft = make_order(market, users=users, today=today)
    with pytest.raises(RuleViolation) as caught:
        services.order_submit(order=draft, user=users["buyer"], today=today)
    draft.refresh_from_db()
    assert caught.value.code == "ceiling_exceeded" and draft.status == OrderStatus.DRAFT
    assert stored(market) == (AMOUNT, AMOUNT)


def test_the_ceiling_check_reads_the_stored_total(provider, users, today):
    """The ceiling check trusts the locked rows' stored totals (no sum over orders on the submission's path)."""
    market = build_market(provider=provider, ceiling=Decimal("5000.00"))
    FrameworkContract.objects.filter(pk=market.framework.pk).update(committed_amount=Decimal("4000.00"))
    draft = make_order(market, users=users, today=today)
    with pytest.raises(RuleViolation) as caught:
        services.order_submit(order=draft, user=users["buyer"], today=today)
    assert caught.value.code == "ceiling_exceeded"
    assert [(drift.kind, drift.stored, drift.recomputed) for drift in commitment_drift()] == [
        ("framework", Decimal("4000.00"), Decimal("0"))]


def test_totals_match_the_orders_after_a_mixed_sequence(market, users, today):
    """Orders on two lots moved through every transition: stored totals equal the recomputed sums."""
    second = LotFactory(framework=market.framework, number=2, ceiling=None)
    ReferencingFactory(lot=second, offer=market.offer)
    for status in OrderStatus.values:
        make_order(market, users=users, today=today, status=status)
        make_order(market, users=users, today=today, status=status, lot=second, quantity=3)
    for order in [make_order(market, users=users, today=today, status=OrderStatus.APPROVED, quantity=5),
                  make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, lot=second)]:
        services.order_cancel(order=order, user=users["approver"], reason="Doublon")
    assert commitment_drift() == []
    # submitted + approved + fulfilled: 3 × 1 080 € on lot 1, 3 × 270 € on lot 2.
    assert stored(market) == (Decimal("4050.00"), Decimal("3240.00"))
    framework = framework_list(user=None).get(pk=market.framework.pk)
    assert framework.committed == Decimal("4050.00") and framework.remaining == Decimal("95950.00")
    assert [(lot.committed, lot.remaining) for lot in framework.lots.all()] == [
        (Decimal("3240.00"), Decimal("46760.00")), (Decimal("810.00"), None)]


def test_the_migration_fills_the_totals_from_the_orders(market, users, today):
    """The data migration sets every framework and lot to the sum of its submitted, approved, fulfilled orders."""
    for status in OrderStatus.values:
        make_order(market, users=users, today=today, status=status)
    other = OrderFactory(status=OrderStatus.APPROVED, amount=Decimal("70.00"))
    FrameworkContract.objects.update(committed_amount=Decimal("0"))
    Lot.objects.update(committed_amount=Decimal("0"))
    assert len(commitment_drift()) == 4
    migration.fill_committed_amounts(apps, None)
    assert commitment_drift() == []
    assert stored(market) == (3 * AMOUNT, 3 * AMOUNT)
    assert Lot.objects.get(pk=other.lot_id).committed_amount == Decimal("70.00")


def test_refresh_repairs_a_drift_and_the_factory_keeps_totals_true(market, users, today):
    """refresh_commitments() recomputes stored totals; OrderFactory's committed orders are counted at once."""
    OrderFactory(lot=market.lot, offer=market.offer, status=OrderStatus.FULFILLED, amount=Decimal("500.00"))
    OrderFactory(lot=market.lot, offer=market.offer, status=OrderStatus.REJECTED, amount=Decimal("900.00"))
    assert stored(market) == (Decimal("500.00"), Decimal("500.00")) and commitment_drift() == []
    Lot.objects.filter(pk=market.lot.pk).update(committed_amount=Decimal("1.00"))
    refresh_commitments(framework_ids=[market.framework.pk])
    assert stored(market) == (Decimal("500.00"), Decimal("500.00")) and commitment_drift() == []


@pytest.mark.parametrize("model", [FrameworkContract, Lot])
def test_the_database_refuses_a_negative_total(market, model):
    """A check constraint refuses a committed amount below zero, on frameworks and on lots."""
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.update(committed_amount=Decimal("-0.01"))
    assert stored(market) == (Decimal("0"), Decimal("0"))


def test_freeing_more_than_committed_is_refused(market):
    """adjust_commitment() cannot push a total below zero: the transaction fails and nothing is written."""
    with pytest.raises(IntegrityError), transaction.atomic():
        adjust_commitment(framework=market.framework, lot=market.lot, delta=Decimal("-1.00"))
    assert stored(market) == (Decimal("0"), Decimal("0"))


@pytest.mark.django_db(transaction=True)
def test_adjust_commitment_needs_a_transaction(market):
    """Outside a transaction (so without the row locks) adjust_commitment() refuses to run."""
    with pytest.raises(RuntimeError):
        adjust_commitment(framework=market.framework, lot=market.lot, delta=Decimal("1.00"))
    assert stored(market) == (Decimal("0"), Decimal("0"))


def test_saving_a_stale_framework_keeps_the_stored_total(market, users, today):
    """A framework or lot read before a submission and saved after (an admin form) does not undo the commitment."""
    framework = FrameworkContract.objects.get(pk=market.framework.pk)
    lot = Lot.objects.get(pk=market.lot.pk)
    make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    framework.title, lot.title = "Nuage public (avenant 1)", "Infrastructure (avenant 1)"
    framework.save()
    lot.save()
    assert stored(market) == (AMOUNT, AMOUNT)
    assert FrameworkContract.objects.get(pk=framework.pk).title == "Nuage public (avenant 1)"
    assert Lot.objects.get(pk=lot.pk).title == "Infrastructure (avenant 1)"
