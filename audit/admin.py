"""Admin side of the audit trail.

- `AuditEventAdmin`: the trail, read-only for qualifiers and catalogue managers;
  no one adds, changes or deletes a row here, superusers included.
- `AuditedAdmin`: a ModelAdmin mixin that records every add, change and delete
  made in the admin (the object and its inlines) with the field values before
  and after. Framework contracts, lots, referencings, offers and user
  affiliations are kept in the admin only, so this is where their changes are seen.
- `AuditedUserAdmin`: Django's user admin, with role changes attributed to the
  person who makes them (see audit.signals).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import FieldDoesNotExist

from audit.models import AuditAction, AuditEvent
from audit.selectors import may_view_audit
from audit.services import audit_record, json_safe
from audit.signals import acting_as


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_repr", "reason")
    list_filter = ("object_type", "action")
    search_fields = ("object_repr", "actor_username", "reason")
    date_hierarchy = "created_at"
    fields = ("created_at", "actor_username", "action", "object_type", "object_id", "object_repr", "changes",
              "reason")
    readonly_fields = fields
    actions = None

    def has_module_permission(self, request) -> bool:
        return may_view_audit(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return may_view_audit(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _stored(obj, names) -> dict:
    """The stored values of `names` on `obj`'s row, as the trail shows them (before a change)."""
    stored = type(obj)._default_manager.filter(pk=obj.pk).first()
    if stored is None:
        return {}
    return {name: _value(stored, name) for name in names}


def _value(obj, name: str):
    try:
        field = obj._meta.get_field(name)
    except FieldDoesNotExist:  # a form-only field: nothing stored to compare
        return None
    if field.many_to_many:
        return json_safe([str(item) for item in getattr(obj, name).all()]) if obj.pk else []
    return json_safe(getattr(obj, name))


def _diff(obj, before: dict, names) -> dict:
    after = {name: _value(obj, name) for name in names}
    return {name: [before.get(name), after[name]] for name in names if before.get(name) != after[name]}


class AuditedAdmin:
    """Record every add, change and delete made through this ModelAdmin, inlines included."""

    def save_model(self, request, obj, form, change) -> None:
        names = list(form.changed_data)
        before = _stored(obj, names) if change else {}
        super().save_model(request, obj, form, change)
        obj._audit_pending = (before, names, change)

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before, names, change = getattr(obj, "_audit_pending", ({}, list(form.changed_data), change))
        changes = _diff(obj, before, names)
        if changes or not change:
            audit_record(actor=request.user, action=AuditAction.CHANGED if change else AuditAction.CREATED,
                         obj=obj, changes=changes)

    def save_formset(self, request, form, formset, change) -> None:
        for inline in formset.deleted_forms:
            if inline.instance.pk is not None:
                audit_record(actor=request.user, action=AuditAction.DELETED, obj=inline.instance)
        changed = {inline.instance.pk: (inline, _stored(inline.instance, inline.changed_data))
                   for inline in formset.forms
                   if inline.instance.pk is not None and inline.has_changed() and inline not in formset.deleted_forms}
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit_record(actor=request.user, action=AuditAction.CREATED, obj=obj,
                         changes={name: [None, _value(obj, name)] for name in _form_of(formset, obj).changed_data})
        for obj, _names in formset.changed_objects:
            inline, before = changed.get(obj.pk, (None, {}))
            changes = _diff(obj, before, inline.changed_data if inline else [])
            if changes:
                audit_record(actor=request.user, action=AuditAction.CHANGED, obj=obj, changes=changes)

    def delete_model(self, request, obj) -> None:
        audit_record(actor=request.user, action=AuditAction.DELETED, obj=obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            audit_record(actor=request.user, action=AuditAction.DELETED, obj=obj)
        super().delete_queryset(request, queryset)


def _form_of(formset, obj):
    return next(inline for inline in formset.forms if inline.instance is obj)


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Django's user admin; group and flag changes made here are recorded under the admin user's name."""

    def changeform_view(self, request, *args, **kwargs):
        with acting_as(request.user):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        with acting_as(request.user):
            return super().changelist_view(request, *args, **kwargs)

    def delete_view(self, request, *args, **kwargs):
        with acting_as(request.user):
            return super().delete_view(request, *args, **kwargs)
