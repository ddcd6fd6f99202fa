"""Reads of orders: which orders a user sees (scoped here, so a foreign order is simply not found)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from broker import roles
from catalogue import doctrine
from catalogue.selectors import offer_with_facts
from procurement.models import Order, OrderEvent, RecordedSearch


def orders_visible(*, user) -> QuerySet:
    """Orders `user` may see.

    Buyers and approvers: their administration's orders. Vendors: orders on their
    provider's offers once submitted (never drafts). Catalogue managers: all.
    Anyone else: none. Roles add up.
    """
    if user is None or not user.is_authenticated:
        return Order.objects.none()
    if roles.is_catalogue_manager(user):
        return Order.objects.all()
    condition = Q()
    matched = False
    if roles.is_buyer(user):
        condition |= Q(organisation=roles.organisation_of(user))
        matched = True
    if roles.is_vendor(user):
        condition |= Q(offer__provider=roles.provider_of(user), submitted_at__isnull=False)
        matched = True
    return Order.objects.filter(condition) if matched else Order.objects.none()


def order_list(*, user) -> QuerySet:
    """The orders `user` sees, newest first, with what a list shows (filters: procurement.forms.OrderFilterSet)."""
    orders = orders_visible(user=user)
    return (
        orders.select_related("organisation", "created_by", "decided_by", "framework", "lot", "offer__provider")
        .prefetch_related(Prefetch("events", queryset=OrderEvent.objects.select_related("actor")))
        .order_by("-created_at", "-id")
    )


# What an order's page shows besides the order row itself.
DETAIL_RELATIONS = ("organisation", "created_by", "decided_by", "framework", "lot", "offer__provider", "search")


def _history() -> Prefetch:
    return Prefetch("events", queryset=OrderEvent.objects.select_related("actor"))


def order_detail(*, reference: str, user) -> Order:
    """One order `user` may see, with its history (Order.DoesNotExist otherwise: a 404 for every channel)."""
    return (
        orders_visible(user=user)
        .select_related(*DETAIL_RELATIONS)
        .prefetch_related(_history())
        .get(reference=reference)
    )


def order_to_act_on(*, reference: str, user) -> Order:
    """One order `user` may see, its row alone (Order.DoesNotExist otherwise): what a workflow action starts
    from, since the services read the order again under lock."""
    return orders_visible(user=user).get(reference=reference)


def order_with_history(*, order: Order, relations: Sequence[str]) -> Order:
    """`order` with its history and the rows its foreign keys `relations` point to.

    For the order a service returns after writing it: read under lock (so with no history loaded yet), it
    already holds most of those rows. This reads the history, and the rows still missing in one query,
    instead of reading the whole order again.
    """
    missing = [name for name in relations if _not_loaded(order, name)]
    if missing:
        loaded = Order.objects.select_related(*missing).get(pk=order.pk)
        for name in missing:
            setattr(order, name, getattr(loaded, name))
    prefetch_related_objects([order], _history())
    return order


def _not_loaded(order: Order, name: str) -> bool:
    field = Order._meta.get_field(name)
    return getattr(order, field.attname) is not None and not field.is_cached(order)


def order_preview_verdict(*, order: Order, today: date) -> doctrine.Verdict:
    """The doctrine's verdict if the order were checked today (drafts show it before submission)."""
    offer = offer_with_facts(order.offer_id)
    return doctrine.assess(offer.facts(), order.sensitivity, start=order.starts_on, today=today, end=order.ends_on)


def searches_for_orders(*, user) -> QuerySet:
    """Recorded searches an order of `user` may point to: those of their administration."""
    organisation = roles.organisation_of(user) if roles.is_buyer(user) else None
    if organisation is None:
        return RecordedSearch.objects.none()
    return RecordedSearch.objects.filter(organisation=organisation).order_by("-created_at", "-id")

