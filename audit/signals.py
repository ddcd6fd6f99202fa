"""Role changes, whatever the channel: group membership, staff and superuser flags, account deletion.

The admin (audit.admin.AuditedUserAdmin) and any other code that knows who acts
wraps the change in `acting_as(user)`; elsewhere (seed_demo, a shell) the actor
is None, the system.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit.models import AuditAction
from audit.services import audit_record

# The account flags that grant powers, recorded with the groups.
ROLE_FLAGS = ("is_active", "is_staff", "is_superuser")

_actor: ContextVar = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(user):
    """Attribute the role changes made inside the block to `user`."""
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


def current_actor():
    return _actor.get()


def _flags_before(sender, instance, update_fields=None, **kwargs) -> None:
    if instance.pk is None or (update_fields is not None and not set(update_fields) & set(ROLE_FLAGS)):
        instance._audit_flags = None
        return
    instance._audit_flags = sender._default_manager.filter(pk=instance.pk).values(*ROLE_FLAGS).first()


def _flags_after(sender, instance, created, **kwargs) -> None:
    if created:
        flags = {name: [None, getattr(instance, name)] for name in ROLE_FLAGS}
        audit_record(actor=current_actor(), action=AuditAction.CREATED, obj=instance, changes=flags)
        return
    before = getattr(instance, "_audit_flags", None)
    if not before:
        return
    changes = {name: [before[name], getattr(instance, name)] for name in ROLE_FLAGS
               if before[name] != getattr(instance, name)}
    if changes:
        audit_record(actor=current_actor(), action=AuditAction.CHANGED, obj=instance, changes=changes)
    instance._audit_flags = None


def _deleted(sender, instance, **kwargs) -> None:
    audit_record(actor=current_actor(), action=AuditAction.DELETED, obj=instance)


def _record_groups(user, names: list[str], *, granted: bool) -> None:
    for name in sorted(names):
        audit_record(actor=current_actor(), action=AuditAction.ROLE_GRANTED if granted else AuditAction.ROLE_REVOKED,
                     obj=user, changes={"groups": [None, name] if granted else [name, None]})


def _groups_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    if action == "pre_clear":
        instance._audit_cleared = list(
            instance.user_set.all() if reverse else instance.groups.values_list("name", flat=True))
        return
    if action == "post_clear":
        cleared, instance._audit_cleared = getattr(instance, "_audit_cleared", []), []
        if reverse:
            for user in cleared:
                _record_groups(user, [instance.name], granted=False)
        else:
            _record_groups(instance, cleared, granted=False)
        return
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    granted = action == "post_add"
    if reverse:
        for user in get_user_model()._default_manager.filter(pk__in=pk_set):
            _record_groups(user, [instance.name], granted=granted)
    else:
        _record_groups(instance, list(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True)),
                       granted=granted)


def connect() -> None:
    user_model = get_user_model()
    pre_save.connect(_flags_before, sender=user_model, dispatch_uid="audit_user_flags_before")
    post_save.connect(_flags_after, sender=user_model, dispatch_uid="audit_user_flags_after")
    post_delete.connect(_deleted, sender=user_model, dispatch_uid="audit_user_deleted")
    m2m_changed.connect(_groups_changed, sender=user_model.groups.through, dispatch_uid="audit_user_groups")
