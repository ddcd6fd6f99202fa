"""Writes to orders: drafting, the approval workflow and the checks at submission and approval.

Every channel (API, pages, seed_demo) calls these functions, and they enforce
every rule themselves: who may act (procurement/rules.py), the order pipeline
(ORDER_TRANSITIONS), the framework's dates, the referencing, the doctrine and
the ceilings. Prices are always computed here, never taken from a client.

Pricing: an offer's list price is per unit of its `price_unit` (most often a
unit per month); `quantity` is the number of such units ordered over the whole
period, so amount = unit price under the framework × quantity.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from broker import roles
from broker.errors import RuleViolation
from catalogue import doctrine
from catalogue.models import Offer
from catalogue.selectors import offer_with_facts, offers_visible
from procurement import rules
from procurement.models import (
    FrameworkContract,
    FrameworkStatus,
    Lot,
    NotificationKind,
    Order,
    OrderEvent,
    OrderStatus,
    Referencing,
)
from procurement.selectors.frameworks import CENT, discounted_price
from procurement.services.frameworks import (
    adjust_commitment,
    ensure_within_ceilings,
    euros,
    lock_for_commitment,
    lock_row,
)
from procurement.services.notifications import notify

# What a client may set on an order; everything else (prices, status, snapshots) is the server's.
ORDER_FIELDS = ("framework", "lot", "offer", "quantity", "sensitivity", "starts_on", "ends_on", "justification",
                "search")
OPTIONAL_FIELDS = frozenset({"search"})
# Order.amount has 14 digits, 2 of them decimals.
MAX_AMOUNT = Decimal("999999999999.99")
IDEMPOTENCY_KEY_MAX_LENGTH = 100


def _day(value: date) -> str:
    return date_format(value, "SHORT_DATE_FORMAT")


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


# --- Drafting ----------------------------------------------------------------------------------------------------

def order_price(*, referencing: Referencing, quantity: int) -> tuple[Decimal, Decimal]:
    """(unit price, amount) excluding VAT for `quantity` units of a referenced offer, discount applied."""
    list_price = referencing.offer.list_price
    if list_price is None:
        raise RuleViolation("no_price", _("L'offre %(offer)s n'a pas de prix catalogue : elle ne peut pas être "
                                          "commandée.") % {"offer": referencing.offer.name}, field="offer")
    unit_price = discounted_price(list_price=list_price, discount_percent=referencing.effective_discount)
    amount = (unit_price * quantity).quantize(CENT)
    if amount > MAX_AMOUNT:
        raise RuleViolation("amount_too_large", _("Le montant de la commande est trop élevé : réduisez la quantité."),
                            field="quantity")
    return unit_price, amount


def ensure_known_fields(fields: Iterable[str], *, allowed: Iterable[str] = ORDER_FIELDS) -> None:
    """Refuse (`invalid_field`) any field a client may not set: mass assignment is refused, not ignored."""
    unknown = sorted(set(fields) - set(allowed))
    if unknown:
        raise RuleViolation(
            "invalid_field",
            _("Champ non accepté : %(fields)s. Le prix, le montant et le statut sont fixés par le serveur.")
            % {"fields": ", ".join(unknown)},
            field=unknown[0],
        )


def _clean_values(*, data: dict, organisation) -> dict:
    """Check the shape of an order's fields (not the business rules of submission) and return them."""
    ensure_known_fields(data)
    values = {name: data.get(name) for name in ORDER_FIELDS}
    for name in ORDER_FIELDS:
        if name not in OPTIONAL_FIELDS and values[name] in (None, ""):
            raise RuleViolation("required", _("Ce champ est obligatoire : %(field)s.")
                                % {"field": Order._meta.get_field(name).verbose_name}, field=name)
    quantity = values["quantity"]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise RuleViolation("invalid_quantity", _("La quantité doit être un nombre entier positif."),
                            field="quantity")
    if values["sensitivity"] not in doctrine.SENSITIVITIES:
        raise RuleViolation("invalid_sensitivity", _("Sensibilité des données inconnue."), field="sensitivity")
    if values["ends_on"] < values["starts_on"]:
        raise RuleViolation("invalid_dates", _("La fin du service ne peut précéder son début."), field="ends_on")
    values["justification"] = str(values["justification"]).strip()
    if not values["justification"]:
        raise RuleViolation("required", _("La justification du besoin est obligatoire."), field="justification")
    if values["lot"].framework_id != values["framework"].pk:
        raise RuleViolation("invalid_lot", _("Ce lot n'appartient pas à l'accord-cadre choisi."), field="lot")
    search = values["search"]
    if search is not None and search.organisation_id != organisation.pk:
        raise RuleViolation("invalid_search", _("Cette recherche enregistrée n'appartient pas à votre "
                                                "administration."), field="search")
    return values


def _draft_referencing(*, values: dict, user) -> Referencing:
    """The referencing that prices a draft: the offer must be one the user sees, referenced in the lot."""
    offer, lot, framework = values["offer"], values["lot"], values["framework"]
    referencing = Referencing.objects.filter(lot=lot, offer=offer, offer__in=offers_visible(user=user)).first()
    if referencing is None:
        raise RuleViolation(
            "not_referenced",
            _("L'offre %(offer)s n'est pas référencée dans le lot %(lot)s de l'accord-cadre %(reference)s.")
            % {"offer": offer.name, "lot": lot.number, "reference": framework.reference},
            field="lot",
        )
    # _clean_values checked that the lot is the framework's.
    return _with_loaded_rows(referencing, lot=lot, framework=framework, offer=offer)


def _with_loaded_rows(referencing: Referencing, *, lot: Lot, framework: FrameworkContract, offer: Offer) -> Referencing:
    """`referencing` pointing at rows already loaded (its lot, the lot's framework, its offer): no query."""
    lot.framework = framework
    referencing.lot, referencing.offer = lot, offer
    return referencing


def _apply(order: Order, *, values: dict, referencing: Referencing) -> None:
    for name, value in values.items():
        setattr(order, name, value)
    order.unit_price, order.amount = order_price(referencing=referencing, quantity=values["quantity"])
    order.offer_name = referencing.offer.name
    order.provider_name = referencing.offer.provider.name


def _idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise RuleViolation("invalid_idempotency_key",
                            _("La clé d'idempotence doit compter de 1 à %(max)s caractères.")
                            % {"max": IDEMPOTENCY_KEY_MAX_LENGTH}, field="Idempotency-Key")
    return key


def _replayed(*, user, key: str | None) -> Order | None:
    if key is None:
        return None
    return Order.objects.filter(created_by=user, idempotency_key=key).first()


def order_replayed(*, user, idempotency_key: str) -> Order | None:
    """The order `user` already created with this idempotency key, if any."""
    return _replayed(user=user, key=_idempotency_key(idempotency_key))


def order_create(*, user, data: dict, idempotency_key: str | None = None, today: date,
                 replay_checked: bool = False) -> tuple[Order, bool]:
    """Draft an order for the user's administration; returns (order, created).

    With an idempotency key, a retry by the same user returns the first order and
    `created` is False: the unique constraint (created_by, idempotency_key) settles
    a race between two identical requests, and the loser returns the winner's order.
    `replay_checked`: the caller has just looked the key up with order_replayed() and
    found nothing, so it is not looked up again before the insert (the constraint still decides).
    """
    if not rules.may_create_order(user):
        raise PermissionDenied(_("Seuls les acheteurs et valideurs d'une administration peuvent commander."))
    key = _idempotency_key(idempotency_key)
    existing = None if replay_checked else _replayed(user=user, key=key)
    if existing is not None:
        return existing, False
    organisation = roles.organisation_of(user)
    values = _clean_values(data=data, organisation=organisation)
    referencing = _draft_referencing(values=values, user=user)
    order = Order(organisation=organisation, created_by=user, idempotency_key=key, status=OrderStatus.DRAFT,
                  # Unique placeholder until the primary key gives the number (below, same transaction).
                  reference=f"tmp-{uuid.uuid4().hex[:26]}")
    _apply(order, values=values, referencing=referencing)
    try:
        with transaction.atomic():
            order.save()
            # Numbered from the primary key: unique without a counter to lock.
            order.reference = f"BC-{today.year}-{order.pk:06d}"
            order.save(update_fields=["reference"])
            OrderEvent.objects.create(order=order, actor=user, status_from="", status_to=OrderStatus.DRAFT)
            audit_record(actor=user, action=AuditAction.CREATED, obj=order, changes={"status": [None, order.status]})
    except IntegrityError:
        existing = _replayed(user=user, key=key)
        if existing is None:
            raise
        return existing, False
    return order, True


def _lock_order(pk: int) -> Order:
    """Lock an order row and return it fresh, with its administration and author read in the same query
    (they never change, see lock_row)."""
    return lock_row(Order, pk=pk, touch="updated_at", related=("organisation", "created_by"))


def order_update(*, order: Order, user, data: dict) -> Order:
    """Change a draft (its author only); the price is recomputed, the status untouched."""
    with transaction.atomic():
        order = _lock_order(order.pk)
        rules.ensure_allowed(rules.UPDATE, order=order, user=user)
        current = {name: getattr(order, name) for name in ORDER_FIELDS}
        values = _clean_values(data={**current, **data}, organisation=order.organisation)
        referencing = _draft_referencing(values=values, user=user)
        _apply(order, values=values, referencing=referencing)
        order.save()
    return order


# --- Checks at submission and approval ---------------------------------------------------------------------------

def _framework_closed(order: Order, *, today: date) -> RuleViolation | None:
    framework = order.framework
    in_force_today = framework.status_on(today) == FrameworkStatus.IN_FORCE
    if in_force_today and framework.covers(order.starts_on, order.ends_on):
        return None
    message = _("L'accord-cadre %(reference)s n'est pas en vigueur sur toute la période de la commande "
                "(du %(start)s au %(end)s) : il court du %(from)s au %(to)s.") % {
        "reference": framework.reference, "start": _day(order.starts_on), "end": _day(order.ends_on),
        "from": _day(framework.starts_on), "to": _day(framework.ends_on)}
    reasons = []
    if framework.terminated_on:
        reasons.append(_("Il est résilié à compter du %(date)s.") % {"date": _day(framework.terminated_on)})
    if not in_force_today:
        reasons.append(_("Il n'est pas en vigueur ce jour (%(status)s).")
                       % {"status": FrameworkStatus(framework.status_on(today)).label})
    return RuleViolation("framework_closed", message, reasons=reasons, field="starts_on")


def _referencing(order: Order, *, offer: Offer) -> Referencing | None:
    """The referencing of the order's offer in its lot, if the lot is still the framework's."""
    framework, lot = order.framework, order.lot
    if lot.framework_id != framework.pk:
        return None
    referencing = Referencing.objects.filter(lot_id=lot.pk, offer_id=offer.pk).first()
    if referencing is None:
        return None
    return _with_loaded_rows(referencing, lot=lot, framework=framework, offer=offer)


def _check_orderable(order: Order, *, today: date) -> tuple[Referencing, doctrine.Verdict, Offer]:
    """The rules an order must meet when submitted and again when approved; raise the first one broken.

    Returns the offer as the doctrine read it (current qualification, certifications, locations), also set as
    `order.offer`.
    """
    refusal = _framework_closed(order, today=today)
    if refusal is not None:
        raise refusal
    offer = offer_with_facts(order.offer_id)
    order.offer = offer
    referencing = _referencing(order, offer=offer)
    if referencing is None:
        raise RuleViolation(
            "not_referenced",
            _("L'offre %(offer)s n'est pas référencée dans le lot %(lot)s de l'accord-cadre %(reference)s.")
            % {"offer": offer.name, "lot": order.lot.number, "reference": order.framework.reference},
            field="lot",
        )
    if not offer.is_published:
        raise RuleViolation("not_referenced", _("L'offre %(offer)s n'est plus publiée au catalogue : elle ne peut "
                                                "pas être commandée.") % {"offer": offer.name}, field="offer")
    verdict = doctrine.assess(offer.facts(), order.sensitivity, start=order.starts_on, today=today,
                              end=order.ends_on)
    if not verdict.eligible:
        raise RuleViolation(
            "not_eligible",
            _("La doctrine « cloud au centre » ne permet pas d'héberger des données « %(sensitivity)s » sur "
              "l'offre %(offer)s pour ce service.")
            % {"sensitivity": doctrine.SENSITIVITY_LABELS[order.sensitivity], "offer": offer.name},
            reasons=list(verdict.reasons),
            field="sensitivity",
        )
    return referencing, verdict, offer


def _record_verdict(order: Order, *, offer: Offer, verdict: doctrine.Verdict, today: date) -> None:
    """Snapshot the qualification the verdict relied on, the verdict itself and the continuity risk."""
    qualification = offer.current_qualification
    order.qualification_status = qualification.status if qualification else ""
    order.qualification_valid_until = qualification.valid_until if qualification else None
    order.eligibility = {**verdict.as_dict(), "checked_on": today.isoformat()}
    order.continuity_risk = verdict.continuity_risk


def _move(order: Order, *, to: str, user, reason: str = "") -> None:
    """Save the order in its new status and record who moved it, when, from what and why."""
    status_from = order.status
    order.status = to
    order.save()
    OrderEvent.objects.create(order=order, actor=user, status_from=status_from, status_to=to, reason=reason)
    audit_record(actor=user, action=AuditAction.STATE_CHANGED, obj=order, changes={"status": [status_from, to]},
                 reason=reason)


def _notify(*, recipients, order: Order, event: str, title: str, body: str) -> None:
    """In-app notifications written in the caller's transaction (e-mailed by the outbox after commit),
    never twice for the same order event."""
    notify(recipients=recipients, kind=NotificationKind.ORDER, title=title, body=body,
           link=order.get_absolute_url(), dedup_key=f"order:{order.pk}:{event}")


def _approvers(order: Order, *, actor):
    """The ids of the administration's active approvers other than `actor` (notify needs no more)."""
    return (
        get_user_model().objects.filter(is_active=True, groups__name=roles.APPROVER,
                                        profile__organisation=order.organisation_id)
        .exclude(pk=actor.pk).distinct().values_list("pk", flat=True)
    )


def _creator(order: Order, *, actor) -> list:
    creator = order.created_by
    return [creator] if creator.pk != actor.pk and creator.is_active else []


def _summary(order: Order) -> dict:
    return {"reference": order.reference, "offer": order.offer_name, "provider": order.provider_name,
            "amount": euros(order.amount), "organisation": order.organisation.name}


# --- The workflow -------------------------------------------------------------------------------------------------

def order_submit(*, order: Order, user, today: date) -> Order:
    """Submit a draft: framework in force, offer referenced and published, doctrine, then the ceilings.

    One transaction: lock the framework then the lot row (fixed order), then the
    order; check the amount against their stored committed totals, refuse or write
    the order and add its amount to both totals. Price, offer, provider,
    qualification and verdict are snapshotted on the order.
    """
    with transaction.atomic():
        framework, lot = lock_for_commitment(framework_id=order.framework_id, lot_id=order.lot_id)
        order = _lock_order(order.pk)
        rules.ensure_allowed(rules.SUBMIT, order=order, user=user)
        if (order.framework_id, order.lot_id) != (framework.pk, lot.pk):
            raise RuleViolation("order_changed", _("La commande a été modifiée pendant sa soumission : réessayez."))
        order.framework, order.lot = framework, lot
        referencing, verdict, offer = _check_orderable(order, today=today)
        order.unit_price, order.amount = order_price(referencing=referencing, quantity=order.quantity)
        ensure_within_ceilings(framework=framework, lot=lot, amount=order.amount)
        order.offer_name = offer.name
        order.provider_name = offer.provider.name
        _record_verdict(order, offer=offer, verdict=verdict, today=today)
        order.submitted_at = timezone.now()
        _move(order, to=OrderStatus.SUBMITTED, user=user)
        adjust_commitment(framework=framework, lot=lot, delta=order.amount)
        summary = _summary(order)
        body = _("%(person)s a soumis la commande %(reference)s de %(organisation)s : %(offer)s (%(provider)s), "
                 "%(amount)s HT.") % {"person": _person(user), **summary}
        if order.continuity_risk:
            body += " " + _("Risque de continuité : la qualification de l'offre prend fin avant la fin du service.")
        _notify(recipients=_approvers(order, actor=user), order=order, event=OrderStatus.SUBMITTED,
                title=_("Commande %(reference)s à valider") % summary, body=body)
    return order


def _lock_with_commitment(order: Order) -> tuple[Order, FrameworkContract, Lot]:
    """Lock the order's framework, then its lot, then the order: the order of order_submit, so a transition
    that frees an amount never deadlocks with a submission. Returns the fresh order and the locked rows."""
    framework, lot = lock_for_commitment(framework_id=order.framework_id, lot_id=order.lot_id)
    order = _lock_order(order.pk)
    if (order.framework_id, order.lot_id) == (framework.pk, lot.pk):
        order.framework, order.lot = framework, lot
    elif order.is_committed:
        # A draft moved to another lot and submitted since it was read: its own rows are not the ones locked.
        raise RuleViolation("order_changed", _("La commande a été modifiée entre-temps : réessayez."))
    return order, framework, lot


def order_approve(*, order: Order, user, today: date) -> Order:
    """Approve a submitted order (an approver of the administration, never its author), re-checking it today."""
    with transaction.atomic():
        # The order stays committed: the committed totals do not move, so only the order row is locked.
        order = _lock_order(order.pk)
        rules.ensure_allowed(rules.APPROVE, order=order, user=user)
        _referencing, verdict, offer = _check_orderable(order, today=today)
        _record_verdict(order, offer=offer, verdict=verdict, today=today)
        order.decided_by = user
        order.decided_at = timezone.now()
        _move(order, to=OrderStatus.APPROVED, user=user)
        summary = _summary(order)
        _notify(recipients=_creator(order, actor=user), order=order, event=OrderStatus.APPROVED,
                title=_("Commande %(reference)s validée") % summary,
                body=_("%(person)s a validé la commande %(reference)s : %(offer)s (%(provider)s), %(amount)s HT.")
                % {"person": _person(user), **summary})
    return order


def _required_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("reason_required", _("Indiquez le motif du rejet."), field="reason")
    return reason


def order_reject(*, order: Order, user, reason: str) -> Order:
    """Reject a submitted order (an approver of the administration), with a mandatory reason."""
    with transaction.atomic():
        order, framework, lot = _lock_with_commitment(order)
        rules.ensure_allowed(rules.REJECT, order=order, user=user)
        reason = _required_reason(reason)
        order.decided_by = user
        order.decided_at = timezone.now()
        _move(order, to=OrderStatus.REJECTED, user=user, reason=reason)
        adjust_commitment(framework=framework, lot=lot, delta=-order.amount)
        summary = _summary(order)
        _notify(recipients=_creator(order, actor=user), order=order, event=OrderStatus.REJECTED,
                title=_("Commande %(reference)s rejetée") % summary,
                body=_("%(person)s a rejeté la commande %(reference)s : %(reason)s")
                % {"person": _person(user), "reason": reason, **summary})
    return order


def order_cancel(*, order: Order, user, reason: str = "") -> Order:
    """Cancel a draft, submitted or approved order (its author or an approver); frees the amount committed."""
    with transaction.atomic():
        order, framework, lot = _lock_with_commitment(order)
        rules.ensure_allowed(rules.CANCEL, order=order, user=user)
        freed = order.amount if order.is_committed else Decimal("0")
        _move(order, to=OrderStatus.CANCELLED, user=user, reason=(reason or "").strip())
        adjust_commitment(framework=framework, lot=lot, delta=-freed)
    return order


def order_fulfil(*, order: Order, user) -> Order:
    """The offer's provider declares an approved order fulfilled."""
    with transaction.atomic():
        # Approved and fulfilled both count as committed: the totals do not move, no framework lock.
        order = _lock_order(order.pk)
        rules.ensure_allowed(rules.FULFIL, order=order, user=user)
        _move(order, to=OrderStatus.FULFILLED, user=user)
    return order
