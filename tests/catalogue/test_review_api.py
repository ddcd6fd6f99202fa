"""Review queue API: catalogue managers only, for submitted offers and pending revisions."""

import pytest

from catalogue import services
from catalogue.models import OfferRevision, OfferState, RevisionState
from tests.factories import OfferFactory

ALL_ROLES = ["anonymous", "buyer", "approver", "vendor", "other_vendor", "qualifier", "catalogue_manager"]
REFUSED = {"anonymous": 401, "buyer": 403, "approver": 403, "vendor": 403, "other_vendor": 403, "qualifier": 403}


@pytest.fixture
def submitted(provider):
    return OfferFactory(provider=provider, name="Soumise", slug="soumise", state=OfferState.SUBMITTED)


@pytest.fixture
def revision(users, provider):
    offer = OfferFactory(provider=provider, name="Publiée", slug="publiee", description="Avant")
    return services.revision_propose(offer=offer, user=users["vendor"], values={"description": "Après"})


@pytest.mark.parametrize("role", ALL_ROLES)
def test_reading_the_queue_by_role(api, users, submitted, revision, role):
    """Lists and details of the queue are for catalogue managers only."""
    client = api(users[role])
    answers = [client.get("/api/v1/reviews/offers/").status_code,
               client.get("/api/v1/reviews/offers/soumise/").status_code,
               client.get("/api/v1/reviews/revisions/").status_code,
               client.get(f"/api/v1/reviews/revisions/{revision.pk}/").status_code]
    assert answers == [REFUSED.get(role, 200)] * 4


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("action", ["publish", "request-changes"])
def test_deciding_on_an_offer_by_role(api, users, submitted, role, action):
    """Only catalogue managers publish or send back a submitted offer."""
    response = api(users[role]).post(f"/api/v1/reviews/offers/soumise/{action}/", {"comment": "Vu"}, format="json")
    submitted.refresh_from_db()
    if role == "catalogue_manager":
        assert response.status_code == 200
        assert submitted.state == ("published" if action == "publish" else "changes_requested")
        assert submitted.reviews.get().comment == "Vu"
    else:
        assert response.status_code == REFUSED[role]
        assert submitted.state == OfferState.SUBMITTED
        assert not submitted.reviews.exists()


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("action", ["approve", "request-changes"])
def test_deciding_on_a_revision_by_role(api, users, revision, role, action):
    """Only catalogue managers approve or send back a revision; the live offer changes only on approval."""
    response = api(users[role]).post(f"/api/v1/reviews/revisions/{revision.pk}/{action}/", {"comment": "Vu"},
                                     format="json")
    revision.refresh_from_db()
    revision.offer.refresh_from_db()
    if role == "catalogue_manager":
        assert response.status_code == 200
        approved = action == "approve"
        assert revision.state == (RevisionState.APPROVED if approved else RevisionState.CHANGES_REQUESTED)
        assert revision.offer.description == ("Après" if approved else "Avant")
    else:
        assert response.status_code == REFUSED[role]
        assert revision.state == RevisionState.PENDING
        assert revision.offer.description == "Avant"


def test_only_submitted_offers_and_pending_revisions_are_in_the_queue(api, users, submitted, revision, provider):
    """Drafts, published offers and decided revisions are not in the queue (404 on their detail)."""
    OfferFactory(provider=provider, name="Brouillon", slug="brouillon", state=OfferState.DRAFT)
    manager = api(users["catalogue_manager"])
    assert [o["slug"] for o in manager.get("/api/v1/reviews/offers/").json()["results"]] == ["soumise"]
    assert manager.post("/api/v1/reviews/offers/brouillon/publish/", {}, format="json").status_code == 404
    manager.post(f"/api/v1/reviews/revisions/{revision.pk}/approve/", {}, format="json")
    assert manager.get("/api/v1/reviews/revisions/").json()["count"] == 0
    again = manager.post(f"/api/v1/reviews/revisions/{revision.pk}/approve/", {}, format="json")
    assert again.status_code == 404
    assert OfferRevision.objects.get().state == RevisionState.APPROVED


def test_decision_input_refuses_unknown_fields(api, users, submitted):
    """A decision takes a comment only; a smuggled state is refused by name."""
    response = api(users["catalogue_manager"]).post("/api/v1/reviews/offers/soumise/publish/",
                                                    {"state": "withdrawn"}, format="json")
    assert (response.status_code, response.json()["field"]) == (400, "state")
    submitted.refresh_from_db()
    assert submitted.state == OfferState.SUBMITTED


def test_abilities_tell_the_manager_what_they_may_do(api, users, submitted, revision):
    """The queue's items say which decisions the server would accept."""
    manager = api(users["catalogue_manager"])
    offer = manager.get("/api/v1/reviews/offers/soumise/").json()
    assert offer["abilities"]["publish"] and offer["abilities"]["request_changes"]
    assert not offer["abilities"]["edit"]
    assert manager.get(f"/api/v1/reviews/revisions/{revision.pk}/").json()["abilities"] == {
        "approve": True, "request_changes": True}
