"""A buyer finds an offer, records the search, orders it; the doctrine refuses sensitive data on a generic
cloud; the approver validates the corrected order and the buyer sees it validated."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

GENERIC_CLOUD = "AWS public cloud (Paris region)"


def fill_order_form(page, *, sensitivity: str, search_pk: int, starts_on, ends_on) -> None:
    form = page.get_by_role("main")
    expect(form.get_by_label("Accord-cadre et lot")).to_contain_text("UGAP-NP-2024")
    form.get_by_label("Quantité").fill("240")
    form.get_by_label("Sensibilité des données").select_option(label=sensitivity)
    form.get_by_label("Début du service").fill(starts_on.isoformat())
    form.get_by_label("Fin du service").fill(ends_on.isoformat())
    form.get_by_label("Justification du besoin").fill("Hébergement du site institutionnel (20 vCPU pendant 12 mois).")
    form.get_by_label("Recherche enregistrée (facultatif)").select_option(value=str(search_pk))


def test_buyer_orders_and_approver_validates(demo, new_page, journey):
    """Search with keywords and facets, record it, draft, refusal for sensitive data, resubmit, approve."""
    from catalogue.selectors import today_local
    from procurement.models import Order, OrderStatus, RecordedSearch

    shots = journey("buyer")
    buyer = new_page()
    login(buyer, "acheteur")

    # Keywords from the home page, then a facet of the catalogue.
    buyer.get_by_label("Rechercher une offre").fill("cloud public")
    buyer.get_by_label("Rechercher une offre").press("Enter")
    expect(buyer).to_have_url(re.compile(r"/catalogue/\?q=cloud\+public"))
    shots.shot(buyer, "search-keywords")
    iaas = buyer.get_by_role("checkbox", name=re.compile(r"^IaaS"))
    buyer.locator("#facet-service_model label", has_text=re.compile(r"^\s*IaaS\b")).click()  # the DSFR's visible box
    expect(iaas).to_be_checked()
    buyer.locator("#facets").get_by_role("button", name="Appliquer", exact=True).click()
    expect(buyer).to_have_url(re.compile(r"service_model=IaaS"))
    expect(buyer.get_by_role("list", name="Filtres actifs")).to_contain_text("IaaS")
    results = buyer.locator("#results")
    expect(results.get_by_role("link", name=GENERIC_CLOUD)).to_be_visible()
    expect(results.get_by_role("link", name="Bleu (Microsoft Azure and 365 operated by Orange and Capgemini)")
           ).to_have_count(0)  # PaaS: left out by the facet
    shots.shot(buyer, "search-facets")

    # Record the search for the procurement file.
    buyer.get_by_role("button", name="Enregistrer cette recherche").click()
    expect(buyer.get_by_role("alert")).to_contain_text("Recherche enregistrée")
    search = RecordedSearch.objects.get()
    assert search.result_count >= 1 and "service_model=IaaS" in search.query_string
    shots.shot(buyer, "search-recorded")

    # Open the generic cloud's page from the live search.
    buyer.go_back()
    buyer.locator("#results").get_by_role("link", name=GENERIC_CLOUD).click()
    expect(buyer.get_by_role("heading", level=1)).to_have_text(GENERIC_CLOUD)
    expect(buyer.locator("#qualification")).to_contain_text("pas de qualification SecNumCloud")
    shots.shot(buyer, "offer")

    # Draft an order for sensitive data.
    buyer.get_by_role("link", name="Commander").click()
    expect(buyer.get_by_role("heading", level=1)).to_have_text("Nouvelle commande")
    today = today_local()
    starts_on, ends_on = today + timedelta(days=7), today + timedelta(days=371)
    fill_order_form(buyer, sensitivity="Sensibles", search_pk=search.pk, starts_on=starts_on, ends_on=ends_on)
    shots.shot(buyer, "order-form")
    buyer.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(buyer.locator("#order-status")).to_have_text("Brouillon")
    order = Order.objects.get(offer__name=GENERIC_CLOUD, status=OrderStatus.DRAFT)
    assert order.sensitivity == "sensitive" and order.search_id == search.pk
    shots.shot(buyer, "order-draft")

    # Submitting it: the doctrine refuses sensitive data on a cloud without SecNumCloud.
    buyer.get_by_role("button", name="Soumettre à validation").click()
    refusal = buyer.locator("#violation")
    expect(refusal).to_have_attribute("data-code", "not_eligible")
    expect(refusal).to_contain_text("ne permet pas d'héberger des données « Sensibles »")
    expect(refusal).to_contain_text(GENERIC_CLOUD)
    shots.shot(buyer, "order-refused")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT

    # The buyer corrects the sensitivity and submits again.
    buyer.get_by_role("link", name="Modifier le brouillon").click()
    buyer.get_by_label("Sensibilité des données").select_option(label="Non sensibles")
    buyer.get_by_role("button", name="Enregistrer les modifications").click()
    buyer.get_by_role("button", name="Soumettre à validation").click()
    expect(buyer.locator("#order-status")).to_have_text("Soumise")
    shots.shot(buyer, "order-submitted")

    # The approver of the same administration validates it.
    approver = new_page()
    login(approver, "valideur", next_path="/commandes/")
    approver.get_by_role("link", name=order.reference).click()
    shots.shot(approver, "approver-order")
    approver.get_by_role("button", name="Valider la commande").click()
    expect(approver.locator("#order-status")).to_have_text("Validée")
    shots.shot(approver, "approver-validated")

    # The buyer sees it validated.
    buyer.reload()
    expect(buyer.locator("#order-status")).to_have_text("Validée")
    expect(buyer.locator("#history")).to_contain_text("Soumise → Validée")
    shots.shot(buyer, "buyer-sees-validated")

    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    assert order.sensitivity == "non_sensitive" and order.decided_by.username == "valideur"
    assert order.amount > 0 and order.eligibility["eligible"] is True
