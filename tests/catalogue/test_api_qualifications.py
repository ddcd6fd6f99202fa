"""Qualifications API: who reads which decisions, who changes them (ANSSI staff only, with a reason), history."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import selectors
from catalogue.models import OfferState, Qualification, QualificationEvent, QualificationStatus
from tests.factories import OfferFactory, QualificationFactory, make_user

QUALIFICATIONS = "/api/v1/qualifications/"
ROLES = ("anonymous", "buyer", "approver", "other_buyer", "other_approver", "vendor", "other_vendor", "qualifier",
         "catalogue_manager")


@pytest.fixture
def day():
    """The API judges dates against the real clock: the tests build their data around it."""
    return selectors.today_local()


@pytest.fixture
def qualification(db, provider, day):
    offer = OfferFactory(provider=provider, name="Cloud Souverain", slug="cloud-souverain")
    return QualificationFactory(offer=offer, decision_number="2024-17", qualified_on=day - timedelta(days=100),
                                valid_until=day + timedelta(days=200), conditions="Région Paris uniquement.")


@pytest.fixture
def draft_qualification(db, provider):
    offer = OfferFactory(provider=provider, name="Brouillon", slug="brouillon", state=OfferState.DRAFT)
    return QualificationFactory(offer=offer, status=QualificationStatus.IN_PROGRESS, milestone="J0",
                                qualified_on=None, valid_until=None)


def detail_url(qualification: Qualification) -> str:
    return f"{QUALIFICATIONS}{qualification.pk}/"


def snapshot(qualification: Qualification) -> tuple:
    qualification.refresh_from_db()
    return (qualification.status, qualification.valid_until, qualification.decision_number,
            qualification.events.count())


# Reading.

def test_detail_shows_the_decision_its_offer_and_provider(api, qualification, day):
    """Anyone may read a published offer's decision, with its offer, provider, dates, conditions and timestamps."""
    response = api(None).get(detail_url(qualification))

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == qualification.pk
    assert body["offer"] == {"slug": "cloud-souverain", "name": "Cloud Souverain"}
    assert body["provider"] == {"slug": "ovhcloud", "name": "OVHcloud"}
    assert body["is_current"] is True
    assert body["status"] == "qualified"
    assert body["decision_number"] == "2024-17"
    assert body["valid_until"] == (day + timedelta(days=200)).isoformat()
    assert body["days_left"] == 200
    assert body["conditions"] == "Région Paris uniquement."
    assert body["created_at"] and body["updated_at"]


@pytest.mark.parametrize("role, visible", [
    ("anonymous", False), ("buyer", False), ("approver", False), ("other_buyer", False), ("vendor", True),
    ("other_vendor", False), ("qualifier", True), ("catalogue_manager", True),
])
def test_a_draft_offers_decision_is_scoped_like_the_offer(api, users, qualification, draft_qualification,
                                                          role, visible):
    """The decision of a draft offer is 404 and unlisted, except for its vendor, managers and ANSSI staff."""
    client = api(users[role])

    detail = client.get(detail_url(draft_qualification))
    history = client.get(f"{detail_url(draft_qualification)}history/")
    listed = {q["id"] for q in client.get(QUALIFICATIONS).json()["results"]}

    assert detail.status_code == history.status_code == (200 if visible else 404)
    assert (draft_qualification.pk in listed) is visible
    assert qualification.pk in listed


def test_list_filters(api, users, qualification, day):
    """The list filters on status, offer slug, provider slug, current decision and end of validity."""
    suspended = QualificationFactory(offer=OfferFactory(slug="autre"), status=QualificationStatus.SUSPENDED,
                                     qualified_on=day - timedelta(days=10), valid_until=day + timedelta(days=30))
    client = api(None)

    def ids(params):
        response = client.get(QUALIFICATIONS, params)
        assert response.status_code == 200
        return {q["id"] for q in response.json()["results"]}

    assert ids({}) == {qualification.pk, suspended.pk}
    assert ids({"status": "suspended"}) == {suspended.pk}
    assert ids({"status": ["suspended", "qualified"]}) == {qualification.pk, suspended.pk}
    assert ids({"offer": "cloud-souverain"}) == {qualification.pk}
    assert ids({"provider": "ovhcloud"}) == {qualification.pk}
    assert ids({"expires_before": (day + timedelta(days=100)).isoformat()}) == {suspended.pk}
    assert ids({"is_current": "true"}) == {qualification.pk, suspended.pk}
    assert ids({"is_current": "false"}) == set()


@pytest.mark.parametrize("parameter, value", [("status", "approved"), ("expires_before", "2026-02-30")])
def test_list_bad_filter_is_a_400_naming_it(api, qualification, parameter, value):
    """An unknown status or a malformed date answers 400 naming the parameter."""
    response = api(None).get(QUALIFICATIONS, {parameter: value})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"
    assert parameter in response.json()


@pytest.mark.parametrize("role, may_update", [(role, role == "qualifier") for role in ROLES])
def test_abilities_say_who_may_change_the_decision(api, users, qualification, role, may_update):
    """Each decision tells the caller whether a PATCH would be accepted, so clients offer only what works."""
    replaced = QualificationFactory(offer=qualification.offer, is_current=False)

    current = api(users[role]).get(detail_url(qualification)).json()
    old = api(users[role]).get(detail_url(replaced)).json()

    assert current["abilities"] == {"update": may_update}
    assert old["abilities"] == {"update": False}


def test_listing_decisions_costs_a_fixed_number_of_queries(api, users, day, django_assert_max_num_queries):
    """Listing ten decisions with their offers and providers costs as many queries as listing one."""
    client = api(users["qualifier"])
    QualificationFactory(offer=OfferFactory())
    with CaptureQueriesContext(connection) as one:
        client.get(QUALIFICATIONS)
    for _n in range(9):
        QualificationFactory(offer=OfferFactory())

    with django_assert_max_num_queries(len(one)):
        response = client.get(QUALIFICATIONS)

    assert response.json()["count"] == 10


# Changing a decision.

@pytest.mark.parametrize("role", ROLES)
def test_only_qualifiers_patch_a_decision(api, users, qualification, role):
    """PATCH: ANSSI staff change the decision and leave a reasoned event; everyone else is refused, nothing changes."""
    before = snapshot(qualification)

    response = api(users[role]).patch(detail_url(qualification), {"status": "suspended", "reason": "Audit en cours"},
                                      format="json")

    if role == "qualifier":
        assert response.status_code == 200
        assert response.json()["status"] == "suspended"
        qualification.refresh_from_db()
        assert qualification.status == QualificationStatus.SUSPENDED
        event = qualification.events.get()
        assert (event.actor, event.reason, event.status_from, event.status_to) == (
            users["qualifier"], "Audit en cours", "qualified", "suspended")
        assert event.changes == {"status": ["qualified", "suspended"]}
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert snapshot(qualification) == before


def test_superuser_may_patch(api, qualification):
    """A superuser counts as ANSSI staff."""
    admin = make_user(username="root", is_superuser=True, is_staff=True)

    response = api(admin).patch(detail_url(qualification), {"decision_number": "2024-99", "reason": "Coquille"},
                                format="json")

    assert response.status_code == 200
    qualification.refresh_from_db()
    assert qualification.decision_number == "2024-99"


@pytest.mark.parametrize("body", [{"status": "suspended"}, {"status": "suspended", "reason": ""},
                                  {"status": "suspended", "reason": "   "}])
def test_patch_without_a_reason_is_a_400_naming_reason(api, users, qualification, body):
    """A change without a reason is refused, naming `reason`, and nothing changes."""
    before = snapshot(qualification)

    response = api(users["qualifier"]).patch(detail_url(qualification), body, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()
    assert snapshot(qualification) == before


def test_patch_refuses_a_transition_outside_the_table(api, users, qualification):
    """A qualified decision cannot go back to in_progress: 400 with a code and the field."""
    before = snapshot(qualification)

    response = api(users["qualifier"]).patch(detail_url(qualification),
                                             {"status": "in_progress", "reason": "Erreur"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_transition"
    assert response.json()["field"] == "status"
    assert snapshot(qualification) == before


def test_patch_refuses_a_validity_beyond_three_years(api, users, qualification):
    """`valid_until` may never be later than three years after `qualified_on`."""
    before = snapshot(qualification)
    too_late = qualification.qualified_on + timedelta(days=3 * 366)

    response = api(users["qualifier"]).patch(detail_url(qualification),
                                             {"valid_until": too_late.isoformat(), "reason": "Prolongation"},
                                             format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_dates"
    assert response.json()["field"] == "valid_until"
    assert snapshot(qualification) == before


@pytest.mark.parametrize("body, field", [
    ({"valid_until": "2027-02-30", "reason": "x"}, "valid_until"),
    ({"status": "approved", "reason": "x"}, "status"),
    ({"milestone": "J9", "reason": "x"}, "milestone"),
])
def test_patch_with_malformed_values_is_a_400_naming_the_field(api, users, qualification, body, field):
    """A malformed date or an unknown choice answers 400 naming the field."""
    before = snapshot(qualification)

    response = api(users["qualifier"]).patch(detail_url(qualification), body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert snapshot(qualification) == before


def test_patch_new_qualification_date_moves_the_end_of_validity(api, users, qualification):
    """Changing `qualified_on` alone sets `valid_until` to three years later, and the event records both."""
    response = api(users["qualifier"]).patch(detail_url(qualification),
                                             {"qualified_on": "2025-03-01", "reason": "Date de la décision"},
                                             format="json")

    assert response.status_code == 200
    assert response.json()["valid_until"] == "2028-03-01"
    qualification.refresh_from_db()
    assert qualification.valid_until == date(2028, 3, 1)
    assert set(qualification.events.get().changes) == {"qualified_on", "valid_until"}


def test_patch_of_a_replaced_decision_is_refused(api, users, qualification):
    """Only the decision in force may change: an old one answers 400 `not_current`."""
    Qualification.objects.filter(pk=qualification.pk).update(is_current=False)

    response = api(users["qualifier"]).patch(detail_url(qualification), {"status": "revoked", "reason": "x"},
                                             format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "not_current"
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.QUALIFIED


@pytest.mark.parametrize("role", ROLES)
def test_put_and_delete_are_not_allowed(api, users, qualification, role):
    """No one replaces or deletes a decision through the API."""
    client = api(users[role])
    expected = {"anonymous": 401, "qualifier": 405}.get(role, 403)

    put = client.put(detail_url(qualification), {"status": "revoked", "reason": "x"}, format="json")
    delete = client.delete(detail_url(qualification))

    assert (put.status_code, delete.status_code) == (expected, expected)
    assert Qualification.objects.filter(pk=qualification.pk, status=QualificationStatus.QUALIFIED).exists()


# Recording a new decision (renewal).

@pytest.mark.parametrize("role", ROLES)
def test_only_qualifiers_record_a_new_decision(api, users, qualification, role):
    """POST: ANSSI staff record a renewal, which becomes current while the old one stays in history."""
    body = {"offer": "cloud-souverain", "status": "qualified", "qualified_on": "2026-06-01",
            "decision_number": "2026-42", "reason": "Renouvellement"}

    response = api(users[role]).post(QUALIFICATIONS, body, format="json")

    decisions = Qualification.objects.filter(offer=qualification.offer)
    if role == "qualifier":
        assert response.status_code == 201
        created = response.json()
        assert created["is_current"] is True
        assert created["valid_until"] == "2029-06-01"
        assert decisions.count() == 2
        qualification.refresh_from_db()
        assert qualification.is_current is False
        renewal = decisions.get(is_current=True)
        assert renewal.pk == created["id"]
        assert renewal.events.get().reason == "Renouvellement"
    else:
        assert response.status_code == (401 if role == "anonymous" else 403)
        assert list(decisions) == [qualification]


def test_new_decision_requires_a_known_offer_and_a_reason(api, users, qualification):
    """A renewal names an existing offer and carries a reason; otherwise 400 naming what is wrong."""
    response = api(users["qualifier"]).post(QUALIFICATIONS, {"offer": "inconnue"}, format="json")

    assert response.status_code == 400
    assert {"offer", "reason"} <= set(response.json())
    assert Qualification.objects.count() == 1


# History.

def test_history_lists_every_change_newest_first(api, users, qualification):
    """The history gives when, who, why, the statuses and each field's [before, after]; the system has no actor."""
    client = api(users["qualifier"])
    client.patch(detail_url(qualification), {"status": "suspended", "reason": "Audit"}, format="json")
    client.patch(detail_url(qualification), {"status": "qualified", "reason": "Audit levé"}, format="json")
    QualificationEvent.objects.create(qualification=qualification, actor=None, reason="Échéance atteinte",
                                      status_from="qualified", status_to="expired", changes={})

    response = api(users["buyer"]).get(f"{detail_url(qualification)}history/")

    assert response.status_code == 200
    events = response.json()["results"]
    assert [e["reason"] for e in events] == ["Échéance atteinte", "Audit levé", "Audit"]
    assert events[0]["actor"] is None and events[0]["by_system"] is True
    assert events[2]["actor"] == "anssi" and events[2]["by_system"] is False
    assert (events[2]["status_from"], events[2]["status_to"]) == ("qualified", "suspended")
    assert events[2]["changes"] == {"status": ["qualified", "suspended"]}
    assert events[2]["created_at"]


def test_history_hides_people_from_anonymous_visitors(api, users, qualification):
    """Anonymous visitors see the reasons but not who made the change."""
    api(users["qualifier"]).patch(detail_url(qualification), {"status": "suspended", "reason": "Audit"},
                                  format="json")

    event = api(None).get(f"{detail_url(qualification)}history/").json()["results"][0]

    assert event["reason"] == "Audit"
    assert event["actor"] is None
    assert event["by_system"] is False
