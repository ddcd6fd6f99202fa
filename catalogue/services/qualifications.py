"""Writes to the catalogue. Every channel (pages, API, admin, commands) calls these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from audit.models import AuditAction
from audit.services import audit_record
from broker import roles
from broker.errors import RuleViolation
from catalogue import doctrine
from catalogue.models import (
    QUALIFICATION_TRANSITIONS,
    Offer,
    Qualification,
    QualificationEvent,
    QualificationStatus,
)
from catalogue.models.qualification import validate_dates

# The fields of a decision that ANSSI staff set, and no one else.
QUALIFICATION_FIELDS = ("status", "milestone", "referential_version", "decision_number", "qualified_on",
                        "valid_until", "conditions")


def ensure_qualifier(user) -> None:
    """Only ANSSI staff (and superusers) change qualifications, through any channel."""
    if not roles.is_qualifier(user):
        raise PermissionDenied(_("Seuls les agents de l'ANSSI peuvent modifier une qualification."))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("reason_required", _("Un motif est obligatoire pour modifier une qualification."),
                            field="reason")
    return reason


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _check_transition(old_status: str, new_status: str) -> None:
    if new_status not in QualificationStatus.values:
        raise RuleViolation("invalid_status", _("Statut de qualification inconnu : %(status)s.")
                            % {"status": new_status}, field="status")
    if new_status != old_status and new_status not in QUALIFICATION_TRANSITIONS[old_status]:
        raise RuleViolation(
            "invalid_transition",
            _("Une qualification « %(old)s » ne peut pas passer au statut « %(new)s ». "
              "Un renouvellement est une nouvelle décision.")
            % {"old": QualificationStatus(old_status).label, "new": QualificationStatus(new_status).label},
            field="status",
        )


def _apply(qualification: Qualification, values: dict) -> dict:
    """Set `values` on `qualification`, validate, and return the changes as {field: [old, new]}."""
    before = {name: getattr(qualification, name) for name in QUALIFICATION_FIELDS}
    unknown = set(values) - set(QUALIFICATION_FIELDS)
    if unknown:
        raise RuleViolation("invalid_field", _("Champ non modifiable : %(fields)s.")
                            % {"fields": ", ".join(sorted(unknown))}, field=sorted(unknown)[0])
    for name, value in values.items():
        if name in ("milestone", "decision_number", "conditions", "referential_version") and value is None:
            value = ""
        setattr(qualification, name, value)
    if "qualified_on" in values and "valid_until" not in values and qualification.qualified_on:
        qualification.valid_until = doctrine.three_years_after(qualification.qualified_on)
    if qualification.status != QualificationStatus.IN_PROGRESS:
        qualification.milestone = ""
    errors = validate_dates(qualified_on=qualification.qualified_on, valid_until=qualification.valid_until)
    for field, message in errors.items():
        raise RuleViolation("invalid_dates", message, field=field)
    return {
        name: [_json_value(before[name]), _json_value(getattr(qualification, name))]
        for name in QUALIFICATION_FIELDS
        if before[name] != getattr(qualification, name)
    }


def qualification_update(*, qualification: Qualification, user, values: dict, reason: str) -> Qualification:
    """Change the current decision of an offer (status, dates, milestone...), recording who, when and why."""
    ensure_qualifier(user)
    reason = _require_reason(reason)
    with transaction.atomic():
        locked = Qualification.objects.select_for_update().get(pk=qualification.pk)
        if not locked.is_current:
            raise RuleViolation("not_current", _("Cette décision a été remplacée : modifiez la décision en vigueur."))
        old_status = locked.status
        _check_transition(old_status, values.get("status", old_status))
        changes = _apply(locked, values)
        if not changes:
            return locked
        locked.save()
        QualificationEvent.objects.create(qualification=locked, actor=user, reason=reason, status_from=old_status,
                                          status_to=locked.status, changes=changes)
        audit_record(actor=user, action=AuditAction.CHANGED, obj=locked, changes=changes, reason=reason)
    return locked


def qualification_renew(*, offer: Offer, user, values: dict, reason: str) -> Qualification:
    """Record a new ANSSI decision for `offer`: the previous one stays in the history, no longer current."""
    ensure_qualifier(user)
    reason = _require_reason(reason)
    with transaction.atomic():
        previous = Qualification.objects.select_for_update().filter(offer=offer, is_current=True).first()
        status_from = ""
        if previous is not None:
            status_from = previous.status
            previous.is_current = False
            previous.save(update_fields=["is_current", "updated_at"])
        qualification = Qualification(offer=offer, status=values.get("status", QualificationStatus.IN_PROGRESS))
        _check_transition(qualification.status, qualification.status)
        changes = _apply(qualification, values)
        qualification.save()
        QualificationEvent.objects.create(qualification=qualification, actor=user, reason=reason,
                                          status_from=status_from, status_to=qualification.status, changes=changes)
        audit_record(actor=user, action=AuditAction.RENEWED, obj=qualification, reason=reason,
                     changes={"status": [status_from or None, qualification.status], **changes})
    return qualification


def qualifications_set_status(*, qualifications: Iterable[Qualification], user, status: str,
                              reason: str) -> tuple[int, list[str]]:
    """Bulk status change (admin action). Returns how many changed and why the others were refused."""
    ensure_qualifier(user)
    _require_reason(reason)
    changed, refused = 0, []
    for qualification in qualifications:
        try:
            updated = qualification_update(qualification=qualification, user=user, values={"status": status},
                                           reason=reason)
        except RuleViolation as refusal:
            refused.append(f"{qualification.offer}: {refusal.message}")
        else:
            changed += updated.status == status
    return changed, refused
