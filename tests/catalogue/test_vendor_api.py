"""Vendor offers API: every role on every action, the vendor-only fields, and the journeys through the API."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue.models import Offer, OfferRevision, OfferState, ReviewDecision, RevisionState
from tests.factories import OfferFactory, QualificationFactory

OFFERS = "/api/v1/vendor/offers/"
NEW_OFFER = {"name": "Bases de données", "service_model": "PaaS", "description": "PostgreSQL managé",
             "locations": ["FR"], "list_price": "45.00", "price_unit": "par instance et par mois",
             "certifications": [{"kind": "hds", "reference": "HDS-2", "valid_until": "2029-06-30"}]}
ALL_ROLES = ["anonymous", "buyer", "approver", "vendor", "other_vendor", "qualifier", "catalogue_manager"]
NON_VENDORS = {"anonymous": 401, "buyer": 403, "approver": 403, "qualifier": 403, "catalogue_manager": 403}


@pytest.fixture
def draft(provider):
    return OfferFactory(provider=provider, name="Brouillon", slug="ovh-brouillon", state=OfferState.DRAFT,
                        description="Première version")


@pytest.fixture
def published(provider):
    offer = OfferFactory(provider=provider, name="IaaS", slug="ovh-iaas", description="Des VM")
    QualificationFactory(offer=offer, decision_number="2024-17")
    return offer


def detail(offer: Offer, action: str = "") -> str:
    return f"{OFFERS}{offer.slug}/{action + '/' if action else ''}"


# --- The role matrix -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ALL_ROLES)
def test_list_and_create_by_role(api, users, draft, role):
    """Vendors list their own offers and create drafts; every other role is refused (401 anonymous, 403)."""
    client = api(users[role])
    listed = client.get(OFFERS)
    created = client.post(OFFERS, NEW_OFFER, format="json")
    if role in NON_VENDORS:
        assert (listed.status_code, created.status_code) == (NON_VENDORS[role], NON_VENDORS[role])
        assert Offer.objects.count() == 1
        return
    assert listed.status_code == 200
    expected = ["ovh-brouillon"] if role == "vendor" else []
    assert [offer["slug"] for offer in listed.json()["results"]] == expected
    assert created.status_code == 201
    assert Offer.objects.get(slug=created.json()["slug"]).provider == users[role].profile.provider


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_action_on_a_draft_by_role(api, users, draft, role):
    """Only the offer's vendor reads, edits and submits it; another provider's vendor gets 404 everywhere."""
    client = api(users[role])
    answers = [
        client.get(detail(draft)).status_code,
        client.patch(detail(draft), {"description": "Changé"}, format="json").status_code,
        client.post(detail(draft, "submit")).status_code,
    ]
    draft.refresh_from_db()
    if role == "vendor":
        assert answers == [200, 200, 200]
        assert (draft.description, draft.state) == ("Changé", OfferState.SUBMITTED)
        return
    expected = 404 if role == "other_vendor" else NON_VENDORS[role]
    assert answers == [expected] * 3
    assert (draft.description, draft.state) == ("Première version", OfferState.DRAFT)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_withdraw_by_role(api, users, published, role):
    """Only the offer's vendor withdraws it."""
    response = api(users[role]).post(detail(published, "withdraw"), {"comment": "Fin"}, format="json")
    published.refresh_from_db()
    if role == "vendor":
        assert response.status_code == 200 and response.json()["state"] == "withdrawn"
        assert published.state == OfferState.WITHDRAWN
    else:
        assert response.status_code == (404 if role == "other_vendor" else NON_VENDORS[role])
        assert published.state == OfferState.PUBLISHED


# --- Fields a vendor may not set ------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [("state", "published"), ("qualification", {"status": "qualified"}),
                                         ("status", "qualified"), ("decision_number", "9999"),
                                         ("qualified_on", "2025-01-01"), ("valid_until", "2028-01-01"),
                                         ("published_at", "2026-01-01T00:00:00Z"), ("provider", "outscale")])
def test_fields_beyond_the_vendors_are_refused(api, users, draft, published, field, value):
    """Create and PATCH with a qualification, state or ANSSI field answer 400 naming it; nothing changes."""
    client = api(users["vendor"])
    created = client.post(OFFERS, {**NEW_OFFER, field: value}, format="json")
    patched = client.patch(detail(draft), {"description": "x", field: value}, format="json")
    revised = client.patch(detail(published), {field: value}, format="json")
    for response in (created, patched, revised):
        assert response.status_code == 400
        assert (response.json()["code"], response.json()["field"]) == ("field_not_allowed", field)
    assert Offer.objects.count() == 2
    draft.refresh_from_db()
    assert (draft.state, draft.description) == (OfferState.DRAFT, "Première version")
    assert not OfferRevision.objects.exists()
    assert published.qualifications.get().decision_number == "2024-17"


def test_a_certification_cannot_smuggle_a_field(api, users, draft):
    """Unknown keys inside a certification are refused too."""
    response = api(users["vendor"]).patch(detail(draft), {"certifications": [
        {"kind": "hds", "valid_until": "2029-01-01", "status": "qualified"}]}, format="json")
    assert response.status_code == 400
    assert response.json()["field"] == "status"
    assert not draft.certifications.exists()


def test_validation_errors_name_the_field(api, users):
    """Bad values answer 400 on their field."""
    response = api(users["vendor"]).post(OFFERS, {**NEW_OFFER, "service_model": "XaaS", "locations": ["ZZ"],
                                                  "list_price": "-3"}, format="json")
    assert response.status_code == 400
    assert {"service_model", "locations", "list_price"} <= set(response.json())
    assert not Offer.objects.exists()


# --- Journeys through the API ----------------------------------------------------------------------------------

def test_submit_request_changes_resubmit_publish(api, users, provider):
    """Vendor submits, manager requests changes, vendor resubmits, manager publishes; every step in the history."""
    vendor, manager = api(users["vendor"]), api(users["catalogue_manager"])
    slug = vendor.post(OFFERS, NEW_OFFER, format="json").json()["slug"]
    assert vendor.post(f"{OFFERS}{slug}/submit/").json()["state"] == "submitted"

    queue = manager.get("/api/v1/reviews/offers/").json()
    assert [offer["slug"] for offer in queue["results"]] == [slug]
    assert {row["field"] for row in queue["results"][0]["diff"]} >= {"name", "description", "certifications"}
    no_comment = manager.post(f"/api/v1/reviews/offers/{slug}/request-changes/", {}, format="json")
    assert (no_comment.status_code, no_comment.json()["code"]) == (400, "comment_required")
    asked = manager.post(f"/api/v1/reviews/offers/{slug}/request-changes/",
                         {"comment": "Précisez la version de PostgreSQL."}, format="json")
    assert asked.status_code == 200 and asked.json()["state"] == "changes_requested"

    mine = vendor.get(f"{OFFERS}{slug}/").json()
    assert mine["reviews"][0]["comment"] == "Précisez la version de PostgreSQL."
    assert mine["abilities"]["edit"] and mine["abilities"]["submit"]
    vendor.patch(f"{OFFERS}{slug}/", {"description": "PostgreSQL 16 managé"}, format="json")
    vendor.post(f"{OFFERS}{slug}/submit/")

    diff = manager.get(f"/api/v1/reviews/offers/{slug}/").json()["diff"]
    assert diff == [{"field": "description", "label": "Description", "before": "PostgreSQL managé",
                     "after": "PostgreSQL 16 managé"}]
    published = manager.post(f"/api/v1/reviews/offers/{slug}/publish/", {"comment": "Bon pour publication"},
                             format="json")
    assert published.status_code == 200 and published.json()["state"] == "published"
    offer = Offer.objects.get(slug=slug)
    assert list(offer.reviews.order_by("created_at", "id").values_list("decision", "actor__username")) == [
        ("submitted", "fournisseur"), ("changes_requested", "dinum"), ("submitted", "fournisseur"),
        ("published", "dinum")]
    assert api(None).get(f"/api/v1/offers/{slug}/").status_code == 200


def test_edit_a_published_offer_then_approve_the_revision(api, users, published):
    """PATCH on a published offer leaves it live and unchanged until a manager approves the revision."""
    vendor, manager = api(users["vendor"]), api(users["catalogue_manager"])
    response = vendor.patch(detail(published), {"description": "Des VM et des GPU", "locations": ["FR", "DE"]},
                            format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["description"] == "Des VM" and body["locations"] == ["FR"]
    assert body["pending_revision"]["values"] == {"description": "Des VM et des GPU", "locations": ["DE", "FR"]}
    assert api(None).get(f"/api/v1/offers/{published.slug}/").json()["description"] == "Des VM"

    revisions = manager.get("/api/v1/reviews/revisions/").json()["results"]
    assert [(r["offer"], r["state"]) for r in revisions] == [("ovh-iaas", "pending")]
    rows = {row["field"]: (row["before"], row["after"]) for row in revisions[0]["diff"]}
    assert rows == {"description": ("Des VM", "Des VM et des GPU"), "locations": ("France", "Allemagne, France")}

    approved = manager.post(f"/api/v1/reviews/revisions/{revisions[0]['id']}/approve/", {}, format="json")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    public = api(None).get(f"/api/v1/offers/{published.slug}/").json()
    assert public["description"] == "Des VM et des GPU"
    published.refresh_from_db()
    assert published.reviews.filter(decision=ReviewDecision.REVISION_APPROVED).exists()
    assert vendor.get(detail(published)).json()["pending_revision"] is None


def test_a_revision_sent_back_through_the_api(api, users, published):
    """Request changes on a revision needs a comment; the vendor reads it; the offer is unchanged."""
    api(users["vendor"]).patch(detail(published), {"description": "V2"}, format="json")
    revision = OfferRevision.objects.get()
    manager = api(users["catalogue_manager"])
    url = f"/api/v1/reviews/revisions/{revision.pk}/request-changes/"
    assert manager.post(url, {"comment": ""}, format="json").status_code == 400
    assert manager.post(url, {"comment": "Trop court"}, format="json").json()["state"] == "changes_requested"
    history = api(users["vendor"]).get(detail(published)).json()["reviews"]
    assert history[0]["decision"] == "revision_changes_requested" and history[0]["comment"] == "Trop court"
    published.refresh_from_db()
    assert published.description == "Des VM"


def test_a_refused_transition_answers_400_with_its_code(api, users, published, draft):
    """Submitting a published offer or withdrawing a draft is refused with `invalid_transition`."""
    vendor = api(users["vendor"])
    refused = vendor.post(detail(published, "submit"))
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_transition")
    refused = vendor.post(detail(draft, "withdraw"), {}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (400, "invalid_transition")
    draft.locations.all().delete()
    incomplete = vendor.post(detail(draft, "submit"))
    assert (incomplete.status_code, incomplete.json()["code"], incomplete.json()["field"]) == (
        400, "incomplete", "locations")


def test_withdrawn_offers_cannot_be_edited(api, users, published):
    """A withdrawn offer is final: PATCH answers 400."""
    api(users["vendor"]).post(detail(published, "withdraw"), {}, format="json")
    response = api(users["vendor"]).patch(detail(published), {"description": "Retour"}, format="json")
    assert response.status_code == 400
    published.refresh_from_db()
    assert published.description == "Des VM"


def test_vendor_sees_qualification_read_only(api, users, published):
    """The offer shows its ANSSI decision, days left from today included."""
    body = api(users["vendor"]).get(detail(published)).json()
    assert body["qualification"]["decision_number"] == "2024-17"
    assert body["qualification"]["valid_until"] == date(2028, 1, 1).isoformat()


def test_revisions_states_are_recorded(api, users, published):
    """A second PATCH supersedes the pending revision."""
    vendor = api(users["vendor"])
    vendor.patch(detail(published), {"description": "V2"}, format="json")
    vendor.patch(detail(published), {"price_unit": "par heure"}, format="json")
    assert list(OfferRevision.objects.order_by("pk").values_list("state", flat=True)) == [
        RevisionState.SUPERSEDED, RevisionState.PENDING]


def test_listing_costs_the_same_for_more_offers(api, users, provider, django_assert_max_num_queries):
    """The vendor's list loads qualifications, revisions, locations and certifications in a fixed number of queries."""
    client = api(users["vendor"])
    for number in range(2):
        OfferFactory(provider=provider, name=f"Offre {number}", slug=f"ovh-{number}")
    client.get(OFFERS)  # warm the user's role and profile caches
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(OFFERS).json()["results"]) == 2
    for number in range(2, 7):
        offer = OfferFactory(provider=provider, name=f"Offre {number}", slug=f"ovh-{number}")
        QualificationFactory(offer=offer)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get(OFFERS).json()["results"]) == 7
