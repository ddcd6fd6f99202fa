"""Writes against framework contracts: committing an amount under the framework's and the lot's ceilings.

Framework contracts and lots themselves are managed by catalogue managers in the
admin; what every order channel needs from here is one safe way to commit money.

Each framework and lot keeps `committed_amount`, the running total of its
submitted, approved and fulfilled orders, so the ceiling check reads one locked
row instead of summing orders. Every transition that changes what is committed
locks the framework, then the lot, then the order (lock_for_commitment, always
in that order) and moves the totals with adjust_commitment() in the same
transaction; refresh_commitments() recomputes them from the orders (seeds,
fixtures, reconciliation) and commitment_drift() (selectors) checks them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Model
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from broker.errors import RuleViolation
from procurement.models import FrameworkContract, Lot
from procurement.selectors.frameworks import committed_sum


def euros(amount: Decimal) -> str:
    """An amount as people read it: « 12 345,60 € »."""
    return _("%(amount)s €") % {"amount": number_format(amount, decimal_pos=2, force_grouping=True)}


def lock_row(model: type[Model], *, pk: int, touch: str, related: tuple[str, ...] = ()) -> Model:
    """Lock one row until the end of the current transaction and return it, fresh.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite ignores FOR UPDATE and lets a
    deferred transaction read before it writes, so two writers could both read
    the same sum; a no-op UPDATE of `touch` makes this transaction the single
    writer at once (the others wait for the busy timeout) before anything is read.
    Call it as the first statement of the transaction.

    `related` names foreign keys read in the same query (FOR UPDATE OF this row only). Name only keys that
    never change: after waiting for a lock, PostgreSQL re-reads the locked row but not the joined ones, so a
    changed key would no longer join and the row would seem to be gone.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_row() must run inside transaction.atomic()")
    if connection.vendor == "sqlite":
        model._default_manager.filter(pk=pk).update(**{touch: F(touch)})
    rows = model._default_manager.all()
    if related:
        rows = rows.select_related(*related).select_for_update(of=("self",))
    else:
        rows = rows.select_for_update()
    return rows.get(pk=pk)


def lock_for_commitment(*, framework_id: int, lot_id: int) -> tuple[FrameworkContract, Lot]:
    """Lock the framework row, then the lot row: always in that order, so two submissions never deadlock."""
    framework = lock_row(FrameworkContract, pk=framework_id, touch="ceiling")
    lot = lock_row(Lot, pk=lot_id, touch="number")
    return framework, lot


def ensure_within_ceilings(*, framework: FrameworkContract, lot: Lot, amount: Decimal) -> None:
    """Refuse (`ceiling_exceeded`) an amount that would push the framework or the lot past its ceiling.

    Reads the stored committed amounts of the rows lock_for_commitment() returned: call it under those
    locks, in the transaction that then writes the order and adjust_commitment(), so no concurrent
    submission slips in.
    """
    committed_framework, committed_lot = framework.committed_amount, lot.committed_amount
    remaining = framework.ceiling - committed_framework
    if amount > remaining:
        raise RuleViolation(
            "ceiling_exceeded",
            _("Le montant de la commande (%(amount)s HT) dépasse ce qui reste sous le plafond de l'accord-cadre "
              "%(reference)s : %(remaining)s HT sur %(ceiling)s HT.")
            % {"amount": euros(amount), "reference": framework.reference, "remaining": euros(max(remaining, 0)),
               "ceiling": euros(framework.ceiling)},
            field="quantity",
        )
    if lot.ceiling is not None:
        remaining = lot.ceiling - committed_lot
        if amount > remaining:
            raise RuleViolation(
                "ceiling_exceeded",
                _("Le montant de la commande (%(amount)s HT) dépasse ce qui reste sous le plafond du lot "
                  "%(number)s : %(remaining)s HT sur %(ceiling)s HT.")
                % {"amount": euros(amount), "number": lot.number, "remaining": euros(max(remaining, 0)),
                   "ceiling": euros(lot.ceiling)},
                field="quantity",
            )


def adjust_commitment(*, framework: FrameworkContract, lot: Lot, delta: Decimal) -> None:
    """Add `delta` (negative to free an amount) to the committed totals of a framework and of its lot.

    Call it only while holding the locks of lock_for_commitment(), in the transaction that changes the
    order's status. The database refuses a total below zero (check constraints).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("adjust_commitment() must run inside transaction.atomic(), under lock_for_commitment()")
    if not delta:
        return
    FrameworkContract.objects.filter(pk=framework.pk).update(committed_amount=F("committed_amount") + delta)
    Lot.objects.filter(pk=lot.pk).update(committed_amount=F("committed_amount") + delta)
    framework.committed_amount += delta
    lot.committed_amount += delta


def refresh_commitments(*, framework_ids: list[int] | None = None) -> None:
    """Recompute the stored committed totals of frameworks (all, or `framework_ids`) and of their lots from
    their orders: one set-based UPDATE per table.

    For rows written outside the order services (demo history, test fixtures, bulk loads) and for a
    reconciliation. The rows are locked first, frameworks then lots as submissions do, so a submission
    running meanwhile is either counted or waits for the recomputation.
    """
    frameworks = FrameworkContract.objects.all()
    lots = Lot.objects.all()
    if framework_ids is not None:
        frameworks = frameworks.filter(pk__in=framework_ids)
        lots = lots.filter(framework_id__in=framework_ids)
    with transaction.atomic():
        list(frameworks.select_for_update().order_by("pk").values_list("pk", flat=True))
        list(lots.select_for_update().order_by("framework_id", "pk").values_list("pk", flat=True))
        frameworks.update(committed_amount=committed_sum("framework"))
        lots.update(committed_amount=committed_sum("lot"))
