"""Offers copy their provider's name (sort key, search text): the copies follow a rename on every path."""

import pytest
from django.urls import reverse

from catalogue.models import Offer, OfferState
from tests.factories import OfferFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def copies(offer: Offer) -> tuple[str, str]:
    offer.refresh_from_db()
    return offer.provider_name, offer.search_document


def test_a_saved_offer_copies_its_provider_name():
    """Creating an offer stores its provider's name as its sort key and in its search text."""
    offer = OfferFactory(provider=ProviderFactory(name="Société Générale Cloud"), name="Calcul")

    provider_name, document = copies(offer)

    assert provider_name == "Société Générale Cloud"
    assert "societe generale cloud" in document


def test_renaming_a_provider_refreshes_its_offers_only():
    """A provider saved with a new name refreshes the copies on its own offers, not on anyone else's."""
    provider, other = ProviderFactory(name="Ancien nom"), ProviderFactory(name="Voisin")
    offers = [OfferFactory(provider=provider), OfferFactory(provider=provider)]
    untouched = OfferFactory(provider=other)

    provider.name = "Nouveau nom"
    provider.save()

    for offer in offers:
        provider_name, document = copies(offer)
        assert provider_name == "Nouveau nom"
        assert "nouveau nom" in document and "ancien" not in document
    assert copies(untouched)[0] == "Voisin"


def test_a_rename_in_the_admin_reorders_and_refinds_the_offers(client, users):
    """Renamed in the admin, a provider's offers sort and are found under the new name (API and search)."""
    zeta = ProviderFactory(name="Zeta Cloud", slug="zeta")
    alpha = ProviderFactory(name="Alpha Cloud", slug="alpha")
    OfferFactory(provider=zeta, name="Stockage", state=OfferState.PUBLISHED)
    OfferFactory(provider=alpha, name="Calcul", state=OfferState.PUBLISHED)
    client.force_login(users["catalogue_manager"])

    response = client.post(reverse("admin:catalogue_provider_change", args=[zeta.pk]), {
        "name": "Aaa Cloud", "slug": "zeta", "legal_name": "", "siren": "", "vat_number": "",
        "seat_country": "FR", "largest_non_eu_holding": "0", "total_non_eu_holding": "0",
        "data_locations": '["FR"]', "support_locations": '["FR"]', "website": "",
    })

    assert response.status_code == 302
    listed = client.get("/api/v1/offers/", {"ordering": "provider"}).json()["results"]
    assert [offer["provider"]["name"] for offer in listed] == ["Aaa Cloud", "Alpha Cloud"]
    found = client.get("/api/v1/offers/", {"q": "aaa"}).json()["results"]
    assert [offer["name"] for offer in found] == ["Stockage"]
