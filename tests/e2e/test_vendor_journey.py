"""A vendor submits a new offer, a catalogue manager publishes it, and it appears in the public catalogue."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

NEW_OFFER = "Stockage objet froid souverain"


def tick(page, scope: str, label: str) -> None:
    """Tick a DSFR checkbox by its visible label (the input itself is drawn under the label)."""
    box = page.locator(scope).get_by_role("checkbox", name=label, exact=True)
    page.locator(f"{scope} label", has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).click()
    expect(box).to_be_checked()


def test_vendor_submits_manager_publishes(demo, new_page, journey):
    """A new offer goes draft, submitted, published by the catalogue manager, then is found in the catalogue."""
    from catalogue.models import Offer, OfferState

    shots = journey("vendor")
    vendor = new_page()
    login(vendor, "fournisseur", next_path="/espace-fournisseur/")
    expect(vendor.get_by_role("heading", level=1)).to_have_text(re.compile("Espace fournisseur — OVHcloud"))
    shots.shot(vendor, "vendor-space")

    vendor.get_by_role("link", name="Nouvelle offre").click()
    vendor.get_by_label("Nom de l'offre").fill(NEW_OFFER)
    vendor.get_by_label("Modèle de service").select_option("IaaS")
    vendor.get_by_label("Catégorie").fill("Stockage")
    vendor.get_by_label("Description").fill("Archivage objet à froid, chiffré, hébergé en France. Tarif de test.")
    vendor.get_by_label("Prix catalogue HT (€)").fill("4.50")
    vendor.get_by_label("Unité de prix").fill("par To et par mois")
    tick(vendor, "main", "France")
    shots.shot(vendor, "offer-form")
    vendor.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(vendor.locator("#offer-state")).to_have_text("Brouillon")
    vendor.get_by_role("button", name="Soumettre à la revue").click()
    expect(vendor.locator("#offer-state")).to_have_text("Soumise pour revue")
    shots.shot(vendor, "offer-submitted")
    offer = Offer.objects.get(name=NEW_OFFER)
    assert offer.state == OfferState.SUBMITTED and offer.provider.name == "OVHcloud"

    # Not public yet.
    visitor = new_page()
    visitor.goto("/catalogue/?q=froid+souverain")
    expect(visitor.locator("#no-results")).to_be_visible()

    # The catalogue manager reviews and publishes it.
    manager = new_page()
    login(manager, "dinum", next_path="/revue/")
    manager.get_by_role("link", name=f"OVHcloud — {NEW_OFFER}").click()
    shots.shot(manager, "review")
    manager.get_by_label("Commentaire pour le fournisseur").fill("Offre complète, publiée.")
    manager.get_by_role("button", name="Publier", exact=True).click()
    expect(manager.get_by_role("alert").first).to_be_visible()
    shots.shot(manager, "published")
    offer.refresh_from_db()
    assert offer.state == OfferState.PUBLISHED

    # Anyone finds it in the catalogue now.
    visitor.goto("/catalogue/?q=froid+souverain")
    visitor.locator("#results").get_by_role("link", name=NEW_OFFER).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(NEW_OFFER)
    expect(visitor.locator("#price")).to_contain_text("4,50")
    shots.shot(visitor, "public-offer")

    # The vendor's space shows it published.
    vendor.goto("/espace-fournisseur/")
    expect(vendor.locator(f"#offer-{offer.slug}")).to_contain_text("Publiée")
    shots.shot(vendor, "vendor-space-published")
