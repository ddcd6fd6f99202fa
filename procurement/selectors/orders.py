"""Reads of orders: which orders a user sees (scoped here, so a foreign order is simply not found)."""

from __future__ import annotations

from datetime import date

from django.db.models import Prefetch, Q, QuerySet

from broker import roles
from catalogue import doctrine
from catalogue.selectors import with_card_data
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


def order_detail(*, reference: str, user) -> Order:
    """One order `user` may see, with its history (Order.DoesNotExist otherwise: a 404 for every channel)."""
    return (
        orders_visible(user=user)
        .select_related("organisation", "created_by", "decided_by", "framework", "lot", "offer__provider", "search")
        .prefetch_related(Prefetch("events", queryset=OrderEvent.objects.select_related("actor")))
        .get(reference=reference)
    )


def order_preview_verdict(*, order: Order, today: date) -> doctrine.Verdict:
    """The doctrine's verdict if the order were checked today (drafts show it before submission)."""
    offer = with_card_data(type(order.offer).objects.filter(pk=order.offer_id)).get()
    return doctrine.assess(offer.facts(), order.sensitivity, start=order.starts_on, today=today, end=order.ends_on)


def searches_for_orders(*, user) -> QuerySet:
    """Recorded searches an order of `user` may point to: those of their administration."""
    organisation = roles.organisation_of(user) if roles.is_buyer(user) else None
    if organisation is None:
        return RecordedSearch.objects.none()
    return RecordedSearch.objects.filter(organisation=organisation).order_by("-created_at", "-id")

