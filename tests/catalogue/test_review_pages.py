"""Review queue pages: what catalogue managers see and decide."""

import pytest

from catalogue import services
from catalogue.models import OfferState, RevisionState
from procurement.models import Notification
from tests.factories import OfferFactory


@pytest.fixture
def submitted(users, provider):
    offer = OfferFactory(provider=provider, name="Soumise", slug="soumise", state=OfferState.DRAFT,
                         description="Texte")
    return services.offer_submit(offer=offer, user=users["vendor"])


@pytest.fixture
def revision(users, provider):
    offer = OfferFactory(provider=provider, name="Publiée", slug="publiee", description="Avant", category="Calcul")
    return services.revision_propose(offer=offer, user=users["vendor"], values={"category": "Stockage"})


def test_queue_lists_offers_and_revisions_with_their_diffs(client, users, submitted, revision):
    """The queue shows each submitted offer and pending revision with field, old and new values."""
    client.force_login(users["catalogue_manager"])
    response = client.get("/revue/")
    html = response.content.decode()
    assert response.status_code == 200
    assert [offer.slug for offer, _rows in response.context["offers"]] == ["soumise"]
    (queued, rows), = response.context["revisions"]
    assert queued == revision
    assert [(row.label, row.before, row.after) for row in rows] == [("Catégorie", "Calcul", "Stockage")]
    assert "/revue/offres/soumise/" in html and f"/revue/modifications/{revision.pk}/" in html
    assert "<del>Calcul</del>" in html and "<ins>Stockage</ins>" in html


def test_the_manager_was_told_and_the_link_opens_the_review(client, users, submitted):
    """The submission notification links to the offer's review page, which answers."""
    notification = Notification.objects.get(recipient=users["catalogue_manager"])
    client.force_login(users["catalogue_manager"])
    assert client.get(notification.link).status_code == 200


def test_an_unknown_decision_is_refused(client, users, submitted):
    """A POST without a known decision answers 400 and changes nothing."""
    client.force_login(users["catalogue_manager"])
    response = client.post("/revue/offres/soumise/", {"decision": "delete", "comment": "x"})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    submitted.refresh_from_db()
    assert submitted.state == OfferState.SUBMITTED


def test_a_published_offer_is_not_decided_again(client, users, submitted):
    """Once published, the review page offers no decision and a replayed POST is refused with the rule's message."""
    client.force_login(users["catalogue_manager"])
    client.post("/revue/offres/soumise/", {"decision": "publish"})
    page = client.get("/revue/offres/soumise/")
    assert "decision-form" not in page.content.decode()
    replay = client.post("/revue/offres/soumise/", {"decision": "request_changes", "comment": "Trop tard"})
    assert replay.status_code == 400
    submitted.refresh_from_db()
    assert submitted.state == OfferState.PUBLISHED
    assert list(submitted.reviews.values_list("decision", flat=True)) == ["published", "submitted"]


def test_revision_sent_back_from_the_page(client, users, revision):
    """Sending a revision back needs a comment; with one, the vendor is told and the offer is unchanged."""
    client.force_login(users["catalogue_manager"])
    url = f"/revue/modifications/{revision.pk}/"
    assert client.post(url, {"decision": "request_changes", "comment": ""}).status_code == 400
    assert client.post(url, {"decision": "request_changes", "comment": "Pourquoi ?"}).status_code == 302
    revision.refresh_from_db()
    revision.offer.refresh_from_db()
    assert revision.state == RevisionState.CHANGES_REQUESTED
    assert revision.offer.category == "Calcul"
    assert Notification.objects.filter(recipient=users["vendor"], body__contains="Pourquoi ?").exists()


def test_unknown_items_are_not_found(client, users):
    """An unknown offer or revision answers 404 to a manager."""
    client.force_login(users["catalogue_manager"])
    assert client.get("/revue/offres/inconnue/").status_code == 404
    assert client.get("/revue/modifications/999/").status_code == 404


@pytest.mark.parametrize("role", ["buyer", "approver", "vendor", "other_vendor", "qualifier"])
def test_revision_pages_are_for_managers_only(client, users, revision, role):
    """Every other role is refused the revision page and its decisions."""
    client.force_login(users[role])
    url = f"/revue/modifications/{revision.pk}/"
    assert client.get(url).status_code == 403
    assert client.post(url, {"decision": "approve"}).status_code == 403
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING


def test_anonymous_is_sent_to_login(client, users, revision):
    """The revision page needs a login."""
    response = client.post(f"/revue/modifications/{revision.pk}/", {"decision": "approve"})
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING
