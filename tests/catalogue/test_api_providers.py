"""Providers API: legal data, locations and the §19.6 sovereignty check; who sees which provider."""

from decimal import Decimal

import pytest

from catalogue.models import Provider
from tests.factories import OfferFactory, ProviderFactory

PROVIDERS = "/api/v1/providers/"
ROLES = ("anonymous", "buyer", "approver", "other_buyer", "vendor", "other_vendor", "qualifier", "catalogue_manager")


@pytest.fixture
def published(db, provider):
    """OVHcloud (the vendor's provider) has a published offer."""
    return OfferFactory(provider=provider)


def test_provider_detail_shows_legal_data_and_passing_sovereignty(api, published):
    """A provider shows its legal data, seat, holdings, locations and a passing §19.6 check."""
    Provider.objects.filter(slug="ovhcloud").update(
        legal_name="OVH SAS", siren="424761419", vat_number="FR22424761419", seat_country="FR",
        largest_non_eu_holding=Decimal("0"), total_non_eu_holding=Decimal("12.50"), data_locations=["FR", "DE"],
        support_locations=["FR"], website="https://www.ovhcloud.com/",
    )

    response = api(None).get(f"{PROVIDERS}ovhcloud/")

    assert response.status_code == 200
    assert response.json() == {
        "slug": "ovhcloud", "name": "OVHcloud", "legal_name": "OVH SAS", "siren": "424761419",
        "vat_number": "FR22424761419", "seat_country": "FR", "largest_non_eu_holding": "0.00",
        "total_non_eu_holding": "12.50", "data_locations": ["FR", "DE"], "support_locations": ["FR"],
        "website": "https://www.ovhcloud.com/", "sovereignty": {"passes": True, "reasons": []},
        "url": "http://testserver/fournisseurs/ovhcloud/",
    }


def test_sovereignty_gives_a_reason_for_each_failed_point(api, db):
    """A US seat over both caps fails §19.6 with three reasons."""
    provider = ProviderFactory(name="Hyperscaler", slug="hyperscaler", seat_country="US",
                               largest_non_eu_holding=Decimal("60"), total_non_eu_holding=Decimal("80"))
    OfferFactory(provider=provider)

    sovereignty = api(None).get(f"{PROVIDERS}hyperscaler/").json()["sovereignty"]

    assert sovereignty["passes"] is False
    assert len(sovereignty["reasons"]) == 3
    assert all("§19.6" in reason for reason in sovereignty["reasons"])


def test_undeclared_holdings_fail_sovereignty(api, db):
    """A provider that has not declared its non-EU holdings does not pass."""
    provider = ProviderFactory(slug="discret", largest_non_eu_holding=None, total_non_eu_holding=None)
    OfferFactory(provider=provider)

    sovereignty = api(None).get(f"{PROVIDERS}discret/").json()["sovereignty"]

    assert sovereignty == {"passes": False, "reasons": [sovereignty["reasons"][0]]}


@pytest.mark.parametrize("role, sees_outscale", [
    ("anonymous", False), ("buyer", False), ("approver", False), ("other_buyer", False), ("vendor", False),
    ("other_vendor", True), ("qualifier", True), ("catalogue_manager", True),
])
def test_provider_without_published_offer_is_scoped(api, users, published, role, sees_outscale):
    """Outscale has no published offer: only its own vendor, managers and ANSSI staff see it."""
    client = api(users[role])

    listed = [p["slug"] for p in client.get(PROVIDERS).json()["results"]]
    detail = client.get(f"{PROVIDERS}outscale/")

    assert "ovhcloud" in listed
    assert ("outscale" in listed) is sees_outscale
    assert detail.status_code == (200 if sees_outscale else 404)


@pytest.mark.parametrize("role", ROLES)
def test_providers_are_read_only(api, users, published, role):
    """No role edits a provider through this API (yet): 401 anonymous, 405 otherwise, nothing changes."""
    client = api(users[role])
    expected = 401 if role == "anonymous" else 405

    responses = [
        client.post(PROVIDERS, {"name": "Nouveau", "slug": "nouveau", "seat_country": "FR"}, format="json"),
        client.patch(f"{PROVIDERS}ovhcloud/", {"seat_country": "US"}, format="json"),
        client.delete(f"{PROVIDERS}ovhcloud/"),
    ]

    assert [r.status_code for r in responses] == [expected] * 3
    assert Provider.objects.get(slug="ovhcloud").seat_country == "FR"
    assert not Provider.objects.filter(slug="nouveau").exists()


def test_provider_list_is_paginated_and_sorted_by_name(api, db):
    """The list has the pagination envelope and is in name order."""
    for name in ("Zeta", "Alpha", "Mu"):
        OfferFactory(provider=ProviderFactory(name=name, slug=name.lower()))

    body = api(None).get(PROVIDERS, {"page_size": 2}).json()

    assert body["count"] == 3
    assert [p["slug"] for p in body["results"]] == ["alpha", "mu"]
    assert body["next"] is not None and body["previous"] is None
