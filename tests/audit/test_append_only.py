"""No one changes or deletes the audit trail: not through the admin, not through any URL, and on PostgreSQL not
even with SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from tests.factories import OfferFactory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(users):
    return audit_record(actor=users["qualifier"], action=AuditAction.CHANGED, obj=OfferFactory(name="IaaS"),
                        changes={"category": ["a", "b"]}, reason="Motif d'origine")


@pytest.fixture
def superuser(db):
    return make_user(username="root", is_staff=True, is_superuser=True)


def unchanged(event: AuditEvent) -> bool:
    stored = AuditEvent.objects.get(pk=event.pk)
    return (stored.reason, stored.changes, stored.actor_username) == ("Motif d'origine", {"category": ["a", "b"]},
                                                                      "anssi")


@pytest.mark.parametrize("who", ["qualifier", "catalogue_manager", "superuser"])
def test_the_admin_shows_the_trail_and_refuses_add_change_and_delete(client, users, superuser, event, who):
    """Qualifiers, catalogue managers and even superusers may look in the admin; adding, changing or deleting a row
    answers 403 and the row stays as it was."""
    client.force_login(superuser if who == "superuser" else users[who])
    change_url = reverse("admin:audit_auditevent_change", args=[event.pk])

    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(change_url).status_code == 200
    assert client.post(change_url, {"reason": "Réécrit"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    bulk = client.post(reverse("admin:audit_auditevent_changelist"),
                       {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    assert bulk.status_code == 200  # no actions on this list: the request changes nothing
    assert unchanged(event)


@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_other_roles_do_not_see_the_trail_in_the_admin(client, users, event, role):
    """Staff members without a reading role get 403 on the trail's admin pages."""
    users[role].is_staff = True
    users[role].save()
    client.force_login(users[role])

    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 403


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_audit_page_accepts_no_write(client, users, event, method):
    """The only audit URL reads: every writing method answers 405 and the row stays."""
    client.force_login(users["catalogue_manager"])

    response = getattr(client, method)("/audit/", {"reason": "Réécrit"})

    assert response.status_code == 405
    assert unchanged(event)


def test_deleting_a_user_keeps_their_rows(users, event):
    """The actor is kept without a cascade: deleting the account leaves the row and the name at the time."""
    users["qualifier"].delete()

    assert unchanged(event)
    assert AuditEvent.objects.get(pk=event.pk).actor_label == "anssi"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_postgresql_refuses_update_and_delete_of_a_row(event):
    """A trigger refuses UPDATE and DELETE on the table, whoever sends them (ORM or raw SQL)."""
    for write in (lambda: AuditEvent.objects.filter(pk=event.pk).update(reason="Réécrit"),
                  lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
                  lambda: connection.cursor().execute("DELETE FROM audit_auditevent")):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            write()
    assert unchanged(event)
