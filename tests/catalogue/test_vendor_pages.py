"""The vendor space pages: what a vendor sees, the offer forms, and the journeys through the review pages."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalogue.models import (
    CertificationKind,
    Offer,
    OfferRevision,
    OfferState,
    QualificationAlert,
    ReviewDecision,
    RevisionState,
)
from procurement.models import OrderStatus
from tests.catalogue.vendor_builders import make_order
from tests.factories import OfferFactory, QualificationFactory

DASHBOARD = "/espace-fournisseur/"
CREATE = "/espace-fournisseur/nouvelle-offre/"
QUEUE = "/revue/"


def offer_url(offer: Offer, action: str = "") -> str:
    return f"/espace-fournisseur/offres/{offer.slug}/{action + '/' if action else ''}"


def review_url(offer: Offer) -> str:
    return f"/revue/offres/{offer.slug}/"


def offer_form(**values) -> dict:
    """The offer form as the page posts it (no certification ticked)."""
    data = {"name": "Stockage objet", "service_model": "IaaS", "category": "Stockage",
            "description": "Stockage S3 compatible", "list_price": "0.02", "price_unit": "par Go et par mois",
            "locations": ["FR"]}
    for kind in CertificationKind.values:
        data.update({f"certifications_{kind}_reference": "", f"certifications_{kind}_valid_until": ""})
    data.update(values)
    return data


@pytest.fixture
def published(provider):
    offer = OfferFactory(provider=provider, name="IaaS Souverain", slug="ovh-iaas", description="Des VM")
    QualificationFactory(offer=offer, valid_until=date(2026, 12, 20), qualified_on=date(2024, 1, 1))
    return offer


@pytest.fixture
def foreign(other_provider):
    return OfferFactory(provider=other_provider, name="Autre", slug="autre", state=OfferState.DRAFT)


# --- Who enters ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [DASHBOARD, CREATE, QUEUE])
def test_anonymous_is_sent_to_login(client, users, url):
    """The vendor space and the review queue need a login."""
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


@pytest.mark.parametrize("role", ["buyer", "approver", "qualifier", "catalogue_manager"])
def test_vendor_space_is_for_vendors(client, users, role):
    """Every other role is refused the vendor space and cannot create an offer."""
    client.force_login(users[role])
    assert client.get(DASHBOARD).status_code == 403
    assert client.post(CREATE, offer_form()).status_code == 403
    assert not Offer.objects.exists()


@pytest.mark.parametrize("role", ["buyer", "approver", "vendor", "other_vendor", "qualifier"])
def test_review_queue_is_for_catalogue_managers(client, users, published, role):
    """Only catalogue managers open the queue or decide."""
    published.state = OfferState.SUBMITTED
    published.save()
    client.force_login(users[role])
    assert client.get(QUEUE).status_code == 403
    assert client.post(review_url(published), {"decision": "publish"}).status_code == 403
    published.refresh_from_db()
    assert published.state == OfferState.SUBMITTED


@pytest.mark.parametrize("role", ["buyer", "approver", "qualifier", "catalogue_manager"])
def test_other_roles_cannot_act_on_a_vendors_offer(client, users, published, role):
    """Detail, edit, submit and withdraw in the vendor space are refused (403) to every non-vendor role."""
    client.force_login(users[role])
    assert client.get(offer_url(published)).status_code == 403
    assert client.post(offer_url(published, "modifier"), offer_form(description="Pris")).status_code == 403
    assert client.post(offer_url(published, "soumettre")).status_code == 403
    assert client.post(offer_url(published, "retirer")).status_code == 403
    published.refresh_from_db()
    assert (published.state, published.description) == (OfferState.PUBLISHED, "Des VM")
    assert not OfferRevision.objects.exists()


def test_another_providers_offer_is_not_found(client, users, foreign):
    """Detail, edit, submit and withdraw of another provider's offer answer 404, and nothing changes."""
    client.force_login(users["vendor"])
    for action in ("", "modifier", "soumettre", "retirer"):
        method = client.get if action in ("", "modifier") else client.post
        assert method(offer_url(foreign, action)).status_code == 404
    foreign.refresh_from_db()
    assert foreign.state == OfferState.DRAFT
    assert not foreign.reviews.exists()


# --- The dashboard -------------------------------------------------------------------------------------------

def test_dashboard_shows_offers_alerts_orders_and_decisions(client, users, published, foreign):
    """Own offers with state, qualification and days left; open alerts; submitted orders only; decisions."""
    qualification = published.qualifications.get()
    QualificationAlert.objects.create(qualification=qualification, threshold_days=30, valid_until=date(2026, 12, 20),
                                      raised_on=date(2026, 11, 20))
    submitted = make_order(offer=published, creator=users["buyer"], status=OrderStatus.SUBMITTED)
    draft_order = make_order(offer=published, creator=users["buyer"], status=OrderStatus.DRAFT)
    published.reviews.create(decision=ReviewDecision.PUBLISHED, state_from="submitted", state_to="published",
                             actor=users["catalogue_manager"], comment="Bienvenue au catalogue")
    client.force_login(users["vendor"])

    response = client.get(DASHBOARD)

    html = response.content.decode()
    assert response.status_code == 200
    assert [offer.slug for offer in response.context["offers"]] == ["ovh-iaas"]
    assert "Autre" not in html
    assert "Publiée" in html and "Qualifiée" in html
    days = (date(2026, 12, 20) - timezone.localdate()).days
    assert f"{days} jours restants" in html or days <= 1
    assert [alert.pk for alert in response.context["alerts"]] == [qualification.alerts.get().pk]
    assert f"/commandes/{submitted.reference}/" in html
    assert draft_order.reference not in html
    assert "Bienvenue au catalogue" in html


def test_alerts_of_ended_decisions_are_not_open(client, users, published):
    """An alert on a decision since replaced is not shown."""
    old = published.qualifications.get()
    QualificationAlert.objects.create(qualification=old, threshold_days=90, valid_until=old.valid_until,
                                      raised_on=date(2026, 9, 21))
    old.is_current = False
    old.save()
    QualificationFactory(offer=published, valid_until=date(2029, 1, 1), qualified_on=date(2026, 1, 1))
    client.force_login(users["vendor"])
    assert list(client.get(DASHBOARD).context["alerts"]) == []


# --- Offer forms ---------------------------------------------------------------------------------------------

def test_create_a_draft_from_the_page(client, users, provider):
    """The form saves a draft of the vendor's provider, with a certification, and shows it."""
    client.force_login(users["vendor"])
    response = client.post(CREATE, offer_form(certifications_hds="on", certifications_hds_reference="HDS-1",
                                              certifications_hds_valid_until="2029-03-01"))
    offer = Offer.objects.get()
    assert response.status_code == 302 and response["Location"] == offer_url(offer)
    assert (offer.provider, offer.state, offer.list_price) == (provider, OfferState.DRAFT, Decimal("0.02"))
    assert offer.certifications.get().valid_until == date(2029, 3, 1)
    page = client.get(offer_url(offer))
    assert page.status_code == 200 and "Stockage S3 compatible" in page.content.decode()


def test_form_errors_show_on_their_fields(client, users):
    """Missing name, unknown model, negative price and a date without its box: 400, one error per field."""
    client.force_login(users["vendor"])
    response = client.post(CREATE, offer_form(name="", service_model="XaaS", list_price="-1",
                                              certifications_iso27001_valid_until="2029-01-01"))
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "service_model", "list_price",
                                                    "certifications_iso27001"}
    assert "fr-input-group--error" in response.content.decode()
    assert not Offer.objects.exists()


def test_a_posted_status_or_decision_is_ignored(client, users):
    """The form has no field for the state or a qualification: posted anyway, they change nothing."""
    client.force_login(users["vendor"])
    client.post(CREATE, offer_form(state="published", status="qualified", decision_number="9999",
                                   qualified_on="2025-01-01", valid_until="2028-01-01"))
    offer = Offer.objects.get()
    assert offer.state == OfferState.DRAFT
    assert not offer.qualifications.exists()


def test_a_duplicate_name_is_a_field_error(client, users, published):
    """The service's refusal comes back on the name field."""
    client.force_login(users["vendor"])
    response = client.post(CREATE, offer_form(name="IaaS Souverain"))
    assert response.status_code == 400
    assert "name" in response.context["form"].errors
    assert Offer.objects.count() == 1


def test_submitting_an_incomplete_draft_says_why(client, users, provider):
    """Submitting without description answers 400 with the reasons, the offer stays a draft."""
    offer = OfferFactory(provider=provider, state=OfferState.DRAFT, description="")
    client.force_login(users["vendor"])
    response = client.post(offer_url(offer, "soumettre"))
    assert response.status_code == 400
    assert "la description est vide" in response.content.decode()
    offer.refresh_from_db()
    assert offer.state == OfferState.DRAFT


# --- Journeys ------------------------------------------------------------------------------------------------

def test_submit_request_changes_resubmit_publish_from_the_pages(client, users, provider):
    """The whole review journey through the pages, the comment shown to the vendor, the offer public at the end."""
    vendor, manager = users["vendor"], users["catalogue_manager"]
    client.force_login(vendor)
    client.post(CREATE, offer_form())
    offer = Offer.objects.get()
    assert client.post(offer_url(offer, "soumettre")).status_code == 302
    assert client.get(f"/catalogue/{offer.slug}/").status_code == 200  # the vendor sees their own offer

    client.force_login(manager)
    queue = client.get(QUEUE)
    assert [item[0].slug for item in queue.context["offers"]] == [offer.slug]
    assert "Stockage S3 compatible" in queue.content.decode()  # a new offer's diff shows every field
    refused = client.post(review_url(offer), {"decision": "request_changes", "comment": ""})
    assert refused.status_code == 400 and "comment" in refused.context["form"].errors
    client.post(review_url(offer), {"decision": "request_changes", "comment": "Indiquez la durée de rétention."})
    offer.refresh_from_db()
    assert offer.state == OfferState.CHANGES_REQUESTED

    client.force_login(vendor)
    detail = client.get(offer_url(offer)).content.decode()
    assert "Indiquez la durée de rétention." in detail
    client.post(offer_url(offer, "modifier"), offer_form(description="Stockage S3, rétention de 30 jours"))
    client.post(offer_url(offer, "soumettre"))

    client.force_login(manager)
    page = client.get(review_url(offer))
    assert [row.field for row in page.context["diff"]] == ["description"]
    client.post(review_url(offer), {"decision": "publish", "comment": ""})
    offer.refresh_from_db()
    assert offer.state == OfferState.PUBLISHED
    assert list(offer.reviews.order_by("created_at", "id").values_list("decision", flat=True)) == [
        "submitted", "changes_requested", "submitted", "published"]

    client.logout()
    assert client.get(f"/catalogue/{offer.slug}/").status_code == 200


def test_a_published_offer_edited_stays_live_until_the_revision_is_approved(client, users, published):
    """Editing a published offer proposes a revision; the public page changes only once a manager approves it."""
    client.force_login(users["vendor"])
    form = client.get(offer_url(published, "modifier"))
    assert "revision-notice" in form.content.decode()
    response = client.post(offer_url(published, "modifier"), offer_form(name="IaaS Souverain",
                                                                        description="Des VM et des GPU"))
    assert response.status_code == 302
    revision = OfferRevision.objects.get()
    assert revision.values == {"description": "Des VM et des GPU", "category": "Stockage",
                               "list_price": "0.02", "price_unit": "par Go et par mois"}
    client.logout()
    public = client.get(f"/catalogue/{published.slug}/").content.decode()
    assert "Des VM et des GPU" not in public

    client.force_login(users["catalogue_manager"])
    page = client.get(f"/revue/modifications/{revision.pk}/")
    assert page.status_code == 200
    assert {row.field: (row.before, row.after) for row in page.context["diff"]}["description"] == (
        "Des VM", "Des VM et des GPU")
    response = client.post(f"/revue/modifications/{revision.pk}/", {"decision": "approve", "comment": "Merci"})
    assert response.status_code == 302
    revision.refresh_from_db()
    assert revision.state == RevisionState.APPROVED

    client.logout()
    assert "Des VM et des GPU" in client.get(f"/catalogue/{published.slug}/").content.decode()


def test_the_edit_form_starts_from_the_pending_revision(client, users, published):
    """A vendor coming back to edit sees their pending proposal, not the live values."""
    client.force_login(users["vendor"])
    client.post(offer_url(published, "modifier"), offer_form(name="IaaS Souverain", description="Brouillon v2"))
    form = client.get(offer_url(published, "modifier")).context["form"]
    assert form.initial["description"] == "Brouillon v2"


def test_withdraw_from_the_page(client, users, published):
    """A vendor withdraws a published offer; the public page then answers 404."""
    client.force_login(users["vendor"])
    response = client.post(offer_url(published, "retirer"), {"comment": "Fin de vie"})
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.state == OfferState.WITHDRAWN
    assert published.reviews.get().comment == "Fin de vie"
    client.logout()
    assert client.get(f"/catalogue/{published.slug}/").status_code == 404


def test_pages_only_offer_allowed_actions(client, users, published, provider):
    """A published offer shows no submit button; a draft shows no withdraw form."""
    draft = OfferFactory(provider=provider, state=OfferState.DRAFT, name="Brouillon", slug="brouillon")
    client.force_login(users["vendor"])
    published_page = client.get(offer_url(published)).content.decode()
    draft_page = client.get(offer_url(draft)).content.decode()
    assert offer_url(published, "soumettre") not in published_page
    assert offer_url(published, "retirer") in published_page
    assert offer_url(draft, "soumettre") in draft_page
    assert offer_url(draft, "retirer") not in draft_page


def test_a_decided_revision_page_offers_no_decision(client, users, published):
    """Once approved, a revision's page shows no decision form and a new decision is refused."""
    revision = OfferRevision.objects.create(offer=published, values={"description": "V2"},
                                            base_values={"description": "Des VM"}, author=users["vendor"],
                                            state=RevisionState.APPROVED, decided_at=timezone.now() - timedelta(1))
    client.force_login(users["catalogue_manager"])
    page = client.get(f"/revue/modifications/{revision.pk}/")
    assert "decision-form" not in page.content.decode()
    response = client.post(f"/revue/modifications/{revision.pk}/", {"decision": "approve"})
    assert response.status_code == 400
    published.refresh_from_db()
    assert published.description == "Des VM"
