"""The audit page /audit/: qualifiers and catalogue managers read the trail, filtered; no one else does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from audit.services import audit_record
from tests.factories import FrameworkFactory, OfferFactory

pytestmark = pytest.mark.django_db

URL = "/audit/"
EXPECTED = {"buyer": 403, "approver": 403, "other_buyer": 403, "vendor": 403, "other_vendor": 403,
            "qualifier": 200, "catalogue_manager": 200}


@pytest.fixture
def events(users):
    offer = OfferFactory(name="Stockage objet")
    framework = FrameworkFactory(reference="AC-2026-01")
    return {
        "offer": audit_record(actor=users["vendor"], action=AuditAction.STATE_CHANGED, obj=offer,
                              changes={"state": ["draft", "submitted"]}),
        "framework": audit_record(actor=users["catalogue_manager"], action=AuditAction.CHANGED, obj=framework,
                                  changes={"ceiling": ["1000.00", "2000.00"]}, reason="Avenant n° 2"),
    }


@pytest.mark.parametrize("role", EXPECTED)
def test_only_qualifiers_and_catalogue_managers_read_the_trail(client, users, events, role):
    """ANSSI staff and catalogue managers see every event; every other role is refused (403) and sees nothing."""
    client.force_login(users[role])

    response = client.get(URL)

    assert response.status_code == EXPECTED[role]
    if EXPECTED[role] == 200:
        assert f'id="audit-event-{events["offer"].pk}"' in response.content.decode()
        assert "Avenant n° 2" in response.content.decode()
    else:
        assert "Avenant" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(client, events):
    """Without a session the page redirects to the login page."""
    response = client.get(URL)

    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_filters_by_object_type_actor_and_day(client, users, events):
    """Type, actor and date filters narrow the list to the matching events."""
    client.force_login(users["qualifier"])
    today = timezone.localdate()

    by_type = client.get(URL, {"type": "procurement.frameworkcontract"})
    by_actor = client.get(URL, {"auteur": "fournisseur"})
    by_day = client.get(URL, {"du": today.isoformat(), "au": today.isoformat()})
    yesterday = client.get(URL, {"au": (today - timedelta(days=1)).isoformat()})

    assert list(by_type.context["events"]) == [events["framework"]]
    assert list(by_actor.context["events"]) == [events["offer"]]
    assert set(by_day.context["events"]) >= {events["offer"], events["framework"]}
    assert list(yesterday.context["events"]) == []
    assert "fr-table" in by_type.content.decode()


@pytest.mark.parametrize("query", [{"du": "pas-une-date"}, {"type": "auth.group"},
                                   {"du": "2026-11-22", "au": "2026-11-01"}])
def test_bad_filters_answer_400_naming_the_field(client, users, events, query):
    """An unknown type or a bad date is a form error (400) on the page, never a server error, and lists nothing."""
    client.force_login(users["catalogue_manager"])

    response = client.get(URL, query)

    assert response.status_code == 400
    assert response.context["form"].errors
    assert list(response.context["events"]) == []
    assert AuditEvent.objects.count() >= 2
