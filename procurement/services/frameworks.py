"""Writes against framework contracts: committing an amount under the framework's and the lot's ceilings.

Framework contracts and lots themselves are managed by catalogue managers in the
admin; what every order channel needs from here is one safe way to commit money.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Model
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from broker.errors import RuleViolation
from procurement.models import FrameworkContract, Lot
from procurement.selectors.frameworks import committed_totals


def euros(amount: Decimal) -> str:
    """An amount as people read it: « 12 345,60 € »."""
    return _("%(amount)s €") % {"amount": number_format(amount, decimal_pos=2, force_grouping=True)}


def lock_row(model: type[Model], *, pk: int, touch: str) -> Model:
    """Lock one row until the end of the current transaction and return it, fresh.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite ignores FOR UPDATE and lets a
    deferred transaction read before it writes, so two writers could both read
    the same sum; a no-op UPDATE of `touch` makes this transaction the single
    writer at once (the others wait for the busy timeout) before anything is read.
    Call it as the first statement of the transaction.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_row() must run inside transaction.atomic()")
    if connection.vendor == "sqlite":
        model._default_manager.filter(pk=pk).update(**{touch: F(touch)})
    return model._default_manager.select_for_update().get(pk=pk)


def lock_for_commitment(*, framework_id: int, lot_id: int) -> tuple[FrameworkContract, Lot]:
    """Lock the framework row, then the lot row: always in that order, so two submissions never deadlock."""
    framework = lock_row(FrameworkContract, pk=framework_id, touch="ceiling")
    lot = lock_row(Lot, pk=lot_id, touch="number")
    return framework, lot


def ensure_within_ceilings(*, framework: FrameworkContract, lot: Lot, amount: Decimal) -> None:
    """Refuse (`ceiling_exceeded`) an amount that would push the framework or the lot past its ceiling.

    Recomputes what is committed now; call it under lock_for_commitment() in the
    transaction that then writes the order, so no concurrent submission slips in.
    """
    committed_framework, committed_lot = committed_totals(framework_id=framework.pk, lot_id=lot.pk)
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
