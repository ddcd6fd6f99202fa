"""Writing the audit trail. The services that change qualifications, offers, providers and orders call
`audit_record` where they write their own history; the admin of frameworks, lots, offers and user
affiliations calls it through `audit.admin.AuditedAdmin`; role changes come from `audit.signals`.
There is no function to change or delete a row: the trail is append-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from audit.models import AuditEvent

# Objects named after the offer they belong to.
OFFER_PARTS = ("catalogue.qualification", "catalogue.offerlocation", "catalogue.certification")
REPR_LIMIT = AuditEvent._meta.get_field("object_repr").max_length


def json_safe(value: Any) -> Any:
    """A value as the trail keeps it: dates in ISO format, decimals as strings, objects by their name."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset | models.QuerySet):
        items = [json_safe(item) for item in value]
        return items if isinstance(value, list | tuple) else sorted(items, key=str)
    return str(value)


def object_name(obj: models.Model) -> str:
    """How the trail names `obj`: a qualification, a location or a certification by its offer too."""
    if obj._meta.label_lower in OFFER_PARTS:
        return f"{obj.offer} — {obj}"
    return str(obj)


def _actor(user) -> tuple[int | None, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.get_username()


def audit_record(*, actor, action: str, obj: models.Model, changes: dict | None = None,
                 reason: str = "") -> AuditEvent:
    """Record that `actor` (None: the system) did `action` to `obj`; `changes` is {field: [before, after]}."""
    actor_id, username = _actor(actor)
    return AuditEvent.objects.create(
        actor_id=actor_id, actor_username=username, action=action, object_type=obj._meta.label_lower,
        object_id=str(obj.pk), object_repr=object_name(obj)[:REPR_LIMIT], changes=json_safe(changes or {}),
        reason=(reason or "").strip(),
    )


def audit_record_many(*, actor, action: str, model: type[models.Model],
                      entries: Iterable[tuple[Any, str, dict, str]]) -> int:
    """One row per (pk, name, changes, reason) of `model`, in one INSERT (for the daily job's batches)."""
    actor_id, username = _actor(actor)
    rows = [
        AuditEvent(actor_id=actor_id, actor_username=username, action=action, object_type=model._meta.label_lower,
                   object_id=str(pk), object_repr=str(name)[:REPR_LIMIT], changes=json_safe(changes),
                   reason=(reason or "").strip())
        for pk, name, changes, reason in entries
    ]
    return len(AuditEvent.objects.bulk_create(rows))
