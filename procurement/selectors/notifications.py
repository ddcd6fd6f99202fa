"""Reads of the inbox: a user only ever sees their own notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from procurement.models import Notification


def notifications_for(*, user, unread: bool | None = None) -> QuerySet:
    """`user`'s notifications, newest first; only the unread (True) or read (False) ones if asked."""
    if user is None or not user.is_authenticated:
        return Notification.objects.none()
    notifications = Notification.objects.filter(recipient=user)
    if unread is not None:
        notifications = notifications.filter(read_at__isnull=unread)
    return notifications.order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    return notifications_for(user=user, unread=True).count()
