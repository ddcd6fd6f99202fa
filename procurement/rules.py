"""May this user do this to this order? The one answer used by services, API, pages and serializers.

Seeing an order is settled earlier, by the selector (procurement/selectors/orders.py):
an order a user may not see is not found (404). For an order they see, `role_allows`
says whether the person may act at all (otherwise 403), `may` adds the state of the
order and the four-eyes rule, and `order_abilities` lists `may` for every action so a
page or a client only offers what the server would accept.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from broker import roles
from broker.errors import RuleViolation
from procurement.models import ORDER_TRANSITIONS, Order, OrderStatus

UPDATE = "update"
SUBMIT = "submit"
APPROVE = "approve"
REJECT = "reject"
CANCEL = "cancel"
FULFIL = "fulfil"
ACTIONS = (UPDATE, SUBMIT, APPROVE, REJECT, CANCEL, FULFIL)

# The status each workflow action moves an order to (UPDATE edits a draft in place).
ACTION_TARGETS: dict[str, str] = {
    SUBMIT: OrderStatus.SUBMITTED,
    APPROVE: OrderStatus.APPROVED,
    REJECT: OrderStatus.REJECTED,
    CANCEL: OrderStatus.CANCELLED,
    FULFIL: OrderStatus.FULFILLED,
}


def can_move(status_from: str, status_to: str) -> bool:
    """The order pipeline (ORDER_TRANSITIONS): may an order go from `status_from` to `status_to`?"""
    return status_to in ORDER_TRANSITIONS.get(status_from, frozenset())


def may_create_order(user) -> bool:
    """Buyers and approvers attached to an administration draft orders for it."""
    return roles.is_buyer(user)


def _same_organisation(user, order: Order) -> bool:
    organisation = roles.organisation_of(user)
    return organisation is not None and organisation.pk == order.organisation_id


def _is_creator(user, order: Order) -> bool:
    return order.created_by_id == user.pk


def role_allows(action: str, *, order: Order, user) -> bool:
    """Whether `user`'s role and ties to the order let them take `action` at all, whatever its status."""
    if user is None or not user.is_authenticated:
        return False
    if action == UPDATE:
        return _is_creator(user, order) and roles.is_buyer(user) and _same_organisation(user, order)
    if action == SUBMIT:
        return roles.is_buyer(user) and _same_organisation(user, order)
    if action in (APPROVE, REJECT):
        return roles.is_approver(user) and _same_organisation(user, order)
    if action == CANCEL:
        if not _same_organisation(user, order):
            return False
        return (_is_creator(user, order) and roles.is_buyer(user)) or roles.is_approver(user)
    if action == FULFIL:
        provider = roles.provider_of(user) if roles.is_vendor(user) else None
        return provider is not None and provider.pk == order.offer.provider_id
    raise ValueError(f"unknown order action {action!r}")


def may(action: str, *, order: Order, user) -> bool:
    """Whether the server would accept `action` now: role, four-eyes rule and order status."""
    if not role_allows(action, order=order, user=user):
        return False
    if action == APPROVE and _is_creator(user, order):
        return False
    if action == UPDATE:
        return order.status == OrderStatus.DRAFT
    return can_move(order.status, ACTION_TARGETS[action])


def order_abilities(*, order: Order, user) -> dict[str, bool]:
    """{action: allowed} for every action, for pages (which buttons) and API clients (`abilities`)."""
    return {action: may(action, order=order, user=user) for action in ACTIONS}


# Why the wrong person is refused (403).
REFUSALS = {
    UPDATE: gettext_lazy("Seul l'auteur d'un brouillon peut le modifier."),
    SUBMIT: gettext_lazy("Seuls les acheteurs et valideurs de l'administration peuvent soumettre cette commande."),
    APPROVE: gettext_lazy("Seuls les valideurs de l'administration peuvent valider cette commande."),
    REJECT: gettext_lazy("Seuls les valideurs de l'administration peuvent rejeter cette commande."),
    CANCEL: gettext_lazy("Seuls l'auteur de la commande et les valideurs de l'administration peuvent l'annuler."),
    FULFIL: gettext_lazy("Seul le fournisseur de l'offre peut déclarer cette commande exécutée."),
}


def ensure_allowed(action: str, *, order: Order, user) -> None:
    """Raise PermissionDenied for the wrong person, RuleViolation for one's own approval or the wrong status.

    Services call it on the order as read under lock, so the status is current.
    """
    if not role_allows(action, order=order, user=user):
        raise PermissionDenied(str(REFUSALS[action]))
    if action == APPROVE and _is_creator(user, order):
        raise RuleViolation("self_approval", _("Vous ne pouvez pas valider une commande que vous avez créée : "
                                               "un autre valideur de l'administration doit le faire."))
    if action == UPDATE:
        if order.status != OrderStatus.DRAFT:
            raise RuleViolation(
                "not_draft",
                _("Seul un brouillon peut être modifié (cette commande est « %(status)s »).")
                % {"status": order.get_status_display()},
            )
        return
    target = ACTION_TARGETS[action]
    if not can_move(order.status, target):
        raise RuleViolation(
            "invalid_transition",
            _("Une commande « %(old)s » ne peut pas passer au statut « %(new)s ».")
            % {"old": order.get_status_display(), "new": OrderStatus(target).label},
        )
