"""Reading the audit trail: who may, and the filtered list."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from broker import roles


def may_view_audit(user) -> bool:
    """ANSSI staff and catalogue managers (and superusers) read the trail; no one else."""
    return roles.is_qualifier(user) or roles.is_catalogue_manager(user)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events(*, user, object_type: str = "", actor: str = "", object_id: str = "", search: str = "",
                 since: date | None = None, until: date | None = None) -> QuerySet[AuditEvent]:
    """The trail, newest first, narrowed by object type, actor username, object, text and days (inclusive)."""
    if not may_view_audit(user):
        raise PermissionDenied(_("Le journal d'audit est réservé à l'ANSSI et aux gestionnaires du catalogue."))
    events = AuditEvent.objects.all()
    if object_type:
        events = events.filter(object_type=object_type)
    if actor:
        events = events.filter(actor_username__iexact=actor)
    if object_id:
        events = events.filter(object_id=object_id)
    if search:
        events = events.filter(object_repr__icontains=search)
    if since:
        events = events.filter(created_at__gte=_start_of(since))
    if until:
        events = events.filter(created_at__lt=_start_of(until) + timedelta(days=1))
    return events.order_by("-created_at", "-id")
