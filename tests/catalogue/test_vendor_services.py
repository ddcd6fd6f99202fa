"""Offer services: the publication pipeline, revisions of published offers, and who may do what."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from broker.errors import RuleViolation
from catalogue import services
from catalogue.models import (
    Offer,
    OfferReview,
    OfferRevision,
    OfferState,
    Qualification,
    ReviewDecision,
    RevisionState,
)
from procurement.models import Notification, NotificationKind
from tests.factories import CertificationFactory, OfferFactory, QualificationFactory, make_user

DRAFT_VALUES = {"name": "Cloud Souverain", "service_model": "PaaS", "category": "Conteneurs",
                "description": "Kubernetes managé", "list_price": Decimal("12.50"), "price_unit": "par mois",
                "locations": ["FR", "DE"],
                "certifications": [{"kind": "iso27001", "reference": "C-1", "valid_until": date(2028, 5, 1)}]}


@pytest.fixture
def draft(users, provider):
    return services.offer_create(user=users["vendor"], values=DRAFT_VALUES)


@pytest.fixture
def published(provider):
    offer = OfferFactory(provider=provider, name="IaaS Souverain", slug="ovh-iaas", description="Des VM",
                         list_price=Decimal("100.00"), locations=["FR"])
    CertificationFactory(offer=offer, kind="hds", valid_until=date(2029, 1, 1))
    QualificationFactory(offer=offer, decision_number="2024-17")
    return offer


def decisions(offer: Offer) -> list[str]:
    return list(offer.reviews.order_by("created_at", "id").values_list("decision", flat=True))


# --- Drafts --------------------------------------------------------------------------------------------------

def test_vendor_creates_a_draft_of_their_provider(draft, provider):
    """offer_create makes a draft of the vendor's provider, with its locations and certifications."""
    assert (draft.provider, draft.state) == (provider, OfferState.DRAFT)
    assert draft.slug == "ovhcloud-cloud-souverain"
    assert sorted(draft.locations.values_list("country", flat=True)) == ["DE", "FR"]
    certification = draft.certifications.get()
    assert (certification.kind, certification.reference, certification.valid_until) == (
        "iso27001", "C-1", date(2028, 5, 1))
    assert not draft.qualifications.exists()


@pytest.mark.parametrize("field", ["state", "status", "decision_number", "qualified_on", "valid_until",
                                   "qualification", "provider", "published_at", "slug"])
def test_a_vendor_can_never_set_what_anssi_or_the_review_sets(users, draft, field):
    """Any field beyond the vendor's is refused by name, on creation and on edit, and nothing changes."""
    with pytest.raises(RuleViolation) as refused:
        services.offer_create(user=users["vendor"], values={**DRAFT_VALUES, "name": "Autre", field: "x"})
    assert (refused.value.code, refused.value.field) == ("field_not_allowed", field)
    with pytest.raises(RuleViolation):
        services.offer_update_draft(offer=draft, user=users["vendor"], values={field: "2030-01-01"})
    assert Offer.objects.count() == 1
    draft.refresh_from_db()
    assert draft.state == OfferState.DRAFT


@pytest.mark.parametrize("role", ["buyer", "approver", "qualifier", "catalogue_manager"])
def test_only_vendors_create_offers(users, role):
    """No other role creates an offer."""
    with pytest.raises(PermissionDenied):
        services.offer_create(user=users[role], values=DRAFT_VALUES)
    assert not Offer.objects.exists()


def test_another_providers_vendor_cannot_touch_the_offer(users, draft):
    """A vendor of another provider may not edit, submit or withdraw the offer."""
    other = users["other_vendor"]
    with pytest.raises(PermissionDenied):
        services.offer_update_draft(offer=draft, user=other, values={"name": "Pris"})
    with pytest.raises(PermissionDenied):
        services.offer_submit(offer=draft, user=other)
    draft.refresh_from_db()
    assert (draft.name, draft.state) == ("Cloud Souverain", OfferState.DRAFT)


def test_offer_names_are_unique_per_provider(users, draft):
    """A second offer with the same name (any case) is refused on the name field."""
    with pytest.raises(RuleViolation) as refused:
        services.offer_create(user=users["vendor"], values={**DRAFT_VALUES, "name": "cloud souverain"})
    assert (refused.value.code, refused.value.field) == ("name_taken", "name")


def test_an_incomplete_draft_cannot_be_submitted(users):
    """Without a description and a data location the offer stays a draft, and the reasons are named."""
    offer = services.offer_create(user=users["vendor"], values={"name": "Vide", "service_model": "SaaS"})
    with pytest.raises(RuleViolation) as refused:
        services.offer_submit(offer=offer, user=users["vendor"])
    assert (refused.value.code, refused.value.field) == ("incomplete", "description")
    assert len(refused.value.reasons) == 2
    offer.refresh_from_db()
    assert offer.state == OfferState.DRAFT
    assert not offer.reviews.exists()


# --- The journey: submit, changes requested, resubmit, publish ------------------------------------------------

def test_submit_request_changes_resubmit_publish(users, draft):
    """The whole pipeline, each step recorded with who and the comment, the vendor and managers told."""
    vendor, manager = users["vendor"], users["catalogue_manager"]

    services.offer_submit(offer=draft, user=vendor)
    draft.refresh_from_db()
    assert draft.state == OfferState.SUBMITTED
    assert Notification.objects.filter(recipient=manager, kind=NotificationKind.OFFER_REVIEW).count() == 1

    services.offer_request_changes(offer=draft, user=manager, comment="Précisez la région d'hébergement.")
    draft.refresh_from_db()
    assert draft.state == OfferState.CHANGES_REQUESTED
    told = Notification.objects.get(recipient=vendor, kind=NotificationKind.OFFER_REVIEW)
    assert "Précisez la région" in told.body

    services.offer_update_draft(offer=draft, user=vendor, values={"description": "Kubernetes managé à Roubaix"})
    services.offer_submit(offer=draft, user=vendor)
    resubmission = draft.reviews.filter(decision=ReviewDecision.SUBMITTED).first()
    assert resubmission.changes == {"description": ["Kubernetes managé", "Kubernetes managé à Roubaix"]}

    services.offer_publish(offer=draft, user=manager, comment="Conforme.")
    draft.refresh_from_db()
    assert draft.state == OfferState.PUBLISHED and draft.published_at is not None
    assert decisions(draft) == ["submitted", "changes_requested", "submitted", "published"]
    request = draft.reviews.get(decision=ReviewDecision.CHANGES_REQUESTED)
    assert (request.actor, request.comment, request.state_from, request.state_to) == (
        manager, "Précisez la région d'hébergement.", "submitted", "changes_requested")


def test_requesting_changes_needs_a_comment(users, draft):
    """Without a comment, changes cannot be requested; the offer stays submitted."""
    services.offer_submit(offer=draft, user=users["vendor"])
    with pytest.raises(RuleViolation) as refused:
        services.offer_request_changes(offer=draft, user=users["catalogue_manager"], comment="  ")
    assert (refused.value.code, refused.value.field) == ("comment_required", "comment")
    draft.refresh_from_db()
    assert draft.state == OfferState.SUBMITTED


@pytest.mark.parametrize("role", ["vendor", "other_vendor", "buyer", "approver", "qualifier"])
def test_only_catalogue_managers_decide(users, draft, role):
    """Publishing and requesting changes are refused to every other role."""
    services.offer_submit(offer=draft, user=users["vendor"])
    with pytest.raises(PermissionDenied):
        services.offer_publish(offer=draft, user=users[role])
    with pytest.raises(PermissionDenied):
        services.offer_request_changes(offer=draft, user=users[role], comment="Non")
    draft.refresh_from_db()
    assert draft.state == OfferState.SUBMITTED


def test_the_transition_table_is_enforced(users, draft, published):
    """A draft cannot be published or withdrawn; a published offer cannot be submitted; withdrawn is final."""
    manager, vendor = users["catalogue_manager"], users["vendor"]
    with pytest.raises(RuleViolation) as refused:
        services.offer_publish(offer=draft, user=manager)
    assert refused.value.code == "invalid_transition"
    with pytest.raises(RuleViolation):
        services.offer_withdraw(offer=draft, user=vendor)
    with pytest.raises(RuleViolation):
        services.offer_submit(offer=published, user=vendor)
    services.offer_withdraw(offer=published, user=vendor, comment="Fin de commercialisation")
    with pytest.raises(RuleViolation):
        services.offer_submit(offer=published, user=vendor)
    published.refresh_from_db()
    assert published.state == OfferState.WITHDRAWN
    assert decisions(published) == ["withdrawn"]
    assert decisions(draft) == []


def test_abilities_follow_role_and_state(users, draft, published):
    """offer_abilities offers exactly what the services would accept."""
    vendor, manager = users["vendor"], users["catalogue_manager"]
    assert services.offer_abilities(offer=draft, user=vendor) == {
        "edit": True, "submit": True, "withdraw": False, "publish": False, "request_changes": False}
    assert services.offer_abilities(offer=published, user=vendor)["withdraw"] is True
    assert not any(services.offer_abilities(offer=draft, user=users["other_vendor"]).values())
    services.offer_submit(offer=draft, user=vendor)
    assert services.offer_abilities(offer=draft, user=manager) == {
        "edit": False, "submit": False, "withdraw": False, "publish": True, "request_changes": True}


# --- Revisions of a published offer ---------------------------------------------------------------------------

def test_editing_a_published_offer_proposes_a_revision_and_leaves_it_live(users, published):
    """The live offer does not change; the revision holds only the changed fields, the managers are told."""
    revision = services.offer_edit(offer=published, user=users["vendor"],
                                   values={"description": "Des VM et du stockage", "locations": ["FR", "BE"]})
    assert isinstance(revision, OfferRevision) and revision.state == RevisionState.PENDING
    assert revision.values == {"description": "Des VM et du stockage", "locations": ["BE", "FR"]}
    assert revision.base_values == {"description": "Des VM", "locations": ["FR"]}
    published.refresh_from_db()
    assert (published.description, published.state) == ("Des VM", OfferState.PUBLISHED)
    assert list(published.locations.values_list("country", flat=True)) == ["FR"]
    assert Notification.objects.filter(recipient=users["catalogue_manager"],
                                       link=f"/revue/modifications/{revision.pk}/").exists()


def test_a_new_proposal_replaces_the_pending_one_and_keeps_its_changes(users, published):
    """A second edit supersedes the pending revision; fields not given keep the pending proposal's values."""
    first = services.revision_propose(offer=published, user=users["vendor"], values={"description": "V2"})
    second = services.revision_propose(offer=published, user=users["vendor"], values={"price_unit": "par heure"})
    first.refresh_from_db()
    assert first.state == RevisionState.SUPERSEDED
    assert second.values == {"description": "V2", "price_unit": "par heure"}
    assert OfferRevision.objects.filter(offer=published, state=RevisionState.PENDING).get() == second


def test_a_proposal_that_changes_nothing_is_refused(users, published):
    """Proposing the published values is refused and records nothing."""
    with pytest.raises(RuleViolation) as refused:
        services.revision_propose(offer=published, user=users["vendor"], values={"description": "Des VM"})
    assert refused.value.code == "no_changes"
    assert not OfferRevision.objects.exists()


def test_approving_a_revision_updates_the_live_offer_in_one_go(users, published):
    """Approval applies the revision (fields, locations, certifications, search text) and records the changes."""
    revision = services.revision_propose(offer=published, user=users["vendor"], values={
        "name": "IaaS Souverain Plus", "locations": ["FR", "BE"],
        "certifications": [{"kind": "hds", "reference": "HDS-9", "valid_until": date(2030, 1, 1)}]})
    services.revision_approve(revision=revision, user=users["catalogue_manager"], comment="OK")
    published.refresh_from_db()
    revision.refresh_from_db()
    assert revision.state == RevisionState.APPROVED and revision.decided_at is not None
    assert published.name == "IaaS Souverain Plus"
    assert "iaas souverain plus" in published.search_document
    assert sorted(published.locations.values_list("country", flat=True)) == ["BE", "FR"]
    assert published.certifications.get().valid_until == date(2030, 1, 1)
    assert published.slug == "ovh-iaas" and published.state == OfferState.PUBLISHED
    review = published.reviews.get(decision=ReviewDecision.REVISION_APPROVED)
    assert review.changes["name"] == ["IaaS Souverain", "IaaS Souverain Plus"]
    assert (review.actor, review.comment, review.revision) == (users["catalogue_manager"], "OK", revision)
    # ANSSI's decision is untouched.
    assert Qualification.objects.get(offer=published).decision_number == "2024-17"


def test_a_revision_sent_back_leaves_the_offer_unchanged(users, published):
    """Requesting changes on a revision needs a comment, keeps the live version, and tells the vendor."""
    revision = services.revision_propose(offer=published, user=users["vendor"], values={"description": "Moins"})
    with pytest.raises(RuleViolation):
        services.revision_request_changes(revision=revision, user=users["catalogue_manager"], comment="")
    services.revision_request_changes(revision=revision, user=users["catalogue_manager"],
                                      comment="Gardez la mention du stockage.")
    revision.refresh_from_db()
    published.refresh_from_db()
    assert revision.state == RevisionState.CHANGES_REQUESTED
    assert published.description == "Des VM"
    assert Notification.objects.filter(recipient=users["vendor"], body__contains="Gardez la mention").exists()
    with pytest.raises(RuleViolation) as refused:
        services.revision_approve(revision=revision, user=users["catalogue_manager"])
    assert refused.value.code == "not_pending"


@pytest.mark.parametrize("role", ["vendor", "other_vendor", "buyer", "approver", "qualifier"])
def test_only_catalogue_managers_decide_on_revisions(users, published, role):
    """Approving or sending back a revision is refused to every other role."""
    revision = services.revision_propose(offer=published, user=users["vendor"], values={"description": "V2"})
    with pytest.raises(PermissionDenied):
        services.revision_approve(revision=revision, user=users[role])
    with pytest.raises(PermissionDenied):
        services.revision_request_changes(revision=revision, user=users[role], comment="Non")
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING


def test_withdrawing_drops_the_pending_revision(users, published):
    """A withdrawn offer has no revision left to review."""
    revision = services.revision_propose(offer=published, user=users["vendor"], values={"description": "V2"})
    services.offer_withdraw(offer=published, user=users["vendor"])
    revision.refresh_from_db()
    assert revision.state == RevisionState.SUPERSEDED


def test_every_decision_is_recorded_with_its_author(users, draft):
    """Review rows keep the actor, the states and a snapshot of the offer."""
    services.offer_submit(offer=draft, user=users["vendor"])
    review = OfferReview.objects.get(offer=draft)
    assert (review.actor, review.state_from, review.state_to) == (users["vendor"], "draft", "submitted")
    assert review.snapshot["name"] == "Cloud Souverain"


def test_inactive_managers_are_not_told(users, draft):
    """Only active catalogue managers get the review notification."""
    gone = make_user("catalogue_manager", username="ancien", is_active=False)
    services.offer_submit(offer=draft, user=users["vendor"])
    assert not Notification.objects.filter(recipient=gone).exists()
    assert Notification.objects.filter(recipient=users["catalogue_manager"]).exists()
