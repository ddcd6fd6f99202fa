"""Offers API: what each offer shows, who sees which offers, pagination, a fixed number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import selectors
from catalogue.models import Offer, OfferLocation, OfferState
from tests.factories import CertificationFactory, OfferFactory, ProviderFactory, QualificationFactory

OFFERS = "/api/v1/offers/"
ROLES = ("anonymous", "buyer", "approver", "other_buyer", "vendor", "other_vendor", "qualifier", "catalogue_manager")


@pytest.fixture
def day():
    """The API judges dates against the real clock: the tests build their data around it."""
    return selectors.today_local()


@pytest.fixture
def qualified_offer(db, provider, day):
    offer = OfferFactory(provider=provider, name="Cloud Souverain", slug="cloud-souverain", service_model="IaaS",
                         category="Calcul", list_price=Decimal("42.50"), price_unit="par vCPU et par mois",
                         locations=["FR", "DE"])
    QualificationFactory(offer=offer, decision_number="2024-17", qualified_on=day - timedelta(days=300),
                         valid_until=day + timedelta(days=400), referential_version="3.2")
    CertificationFactory(offer=offer, kind="hds", valid_until=day + timedelta(days=100))
    CertificationFactory(offer=offer, kind="iso27001", valid_until=None)
    return offer


@pytest.fixture
def draft_offer(db, provider):
    return OfferFactory(provider=provider, name="Brouillon", slug="brouillon", state=OfferState.DRAFT)


def test_offer_detail_shows_qualification_certifications_and_eligibility(api, qualified_offer, day):
    """An offer shows its provider, locations, certifications, current decision, verdicts and page URL."""
    response = api(None).get(f"{OFFERS}cloud-souverain/")

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == "cloud-souverain"
    assert body["provider"] == {"slug": "ovhcloud", "name": "OVHcloud"}
    assert body["service_model"] == "IaaS"
    assert body["list_price"] == "42.50"
    assert body["price_unit"] == "par vCPU et par mois"
    assert body["state"] == "published"
    assert body["data_locations"] == ["DE", "FR"]
    assert body["certifications"] == [
        {"kind": "hds", "valid_until": (day + timedelta(days=100)).isoformat()},
        {"kind": "iso27001", "valid_until": None},
    ]
    current = qualified_offer.qualifications.get()
    assert body["qualification"] == {
        "id": current.pk, "status": "qualified", "milestone": "", "referential_version": "3.2",
        "decision_number": "2024-17", "qualified_on": (day - timedelta(days=300)).isoformat(),
        "valid_until": (day + timedelta(days=400)).isoformat(), "days_left": 400,
    }
    verdicts = {v["sensitivity"]: v for v in body["eligibility"]}
    assert list(verdicts) == ["non_sensitive", "sensitive", "health", "restricted"]
    assert verdicts["sensitive"] == {"sensitivity": "sensitive", "eligible": True, "reasons": [],
                                     "continuity_risk": False}
    assert verdicts["health"]["eligible"] is True
    assert verdicts["restricted"]["eligible"] is False
    assert verdicts["restricted"]["reasons"]
    assert body["url"] == "http://testserver/catalogue/cloud-souverain/"


def test_offer_without_qualification_shows_null_and_reasons(api, db, provider):
    """An offer with no decision shows `qualification: null` and is ineligible for sensitive data, saying why."""
    OfferFactory(provider=provider, slug="sans-decision")

    body = api(None).get(f"{OFFERS}sans-decision/").json()

    assert body["qualification"] is None
    sensitive = next(v for v in body["eligibility"] if v["sensitivity"] == "sensitive")
    assert sensitive["eligible"] is False
    assert any("qualification" in reason for reason in sensitive["reasons"])


def test_us_seated_provider_fails_sensitive_with_the_sovereignty_reason(api, db, day):
    """The eligibility of a US-seated provider's offer names the §19.6 failure."""
    provider = ProviderFactory(name="Hyperscaler", slug="hyperscaler", seat_country="US",
                               largest_non_eu_holding=Decimal("100"), total_non_eu_holding=Decimal("100"))
    offer = OfferFactory(provider=provider, slug="hyper")
    QualificationFactory(offer=offer, qualified_on=day - timedelta(days=10), valid_until=day + timedelta(days=10))

    body = api(None).get(f"{OFFERS}hyper/").json()

    sensitive = next(v for v in body["eligibility"] if v["sensitivity"] == "sensitive")
    assert sensitive["eligible"] is False
    assert any("§19.6" in reason for reason in sensitive["reasons"])


@pytest.mark.parametrize("role, visible", [
    ("anonymous", False), ("buyer", False), ("approver", False), ("other_buyer", False), ("vendor", True),
    ("other_vendor", False), ("qualifier", True), ("catalogue_manager", True),
])
def test_draft_offer_visible_only_to_its_vendor_managers_and_qualifiers(api, users, draft_offer, role, visible):
    """A draft answers 404 to everyone but its own vendor, catalogue managers and ANSSI staff, in detail and list."""
    client = api(users[role])

    detail = client.get(f"{OFFERS}brouillon/")
    listed = [offer["slug"] for offer in client.get(OFFERS).json()["results"]]

    assert detail.status_code == (200 if visible else 404)
    assert ("brouillon" in listed) is visible
    assert Offer.objects.get(slug="brouillon").state == OfferState.DRAFT


@pytest.mark.parametrize("role", ROLES)
def test_offers_are_read_only_for_every_role(api, users, qualified_offer, role):
    """No role can create, replace, change or delete an offer through this API."""
    client = api(users[role])
    expected = 401 if role == "anonymous" else 405

    responses = [
        client.post(OFFERS, {"name": "Nouvelle", "slug": "nouvelle"}, format="json"),
        client.put(f"{OFFERS}cloud-souverain/", {"name": "Renommée"}, format="json"),
        client.patch(f"{OFFERS}cloud-souverain/", {"name": "Renommée"}, format="json"),
        client.delete(f"{OFFERS}cloud-souverain/"),
    ]

    assert [r.status_code for r in responses] == [expected] * 4
    assert Offer.objects.get(slug="cloud-souverain").name == "Cloud Souverain"
    assert not Offer.objects.filter(slug="nouvelle").exists()


def test_unknown_offer_is_404(api, users):
    """A slug that does not exist answers 404."""
    assert api(users["qualifier"]).get(f"{OFFERS}inexistante/").status_code == 404


def test_pagination_shape_and_page_size(api, db, provider):
    """The list answers count/next/previous/results and honours page_size."""
    for n in range(3):
        OfferFactory(provider=provider, name=f"Offre {n}", slug=f"offre-{n}")

    first = api(None).get(OFFERS, {"page_size": 2}).json()
    second = api(None).get(OFFERS, {"page_size": 2, "page": 2}).json()

    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 3
    assert [o["slug"] for o in first["results"]] == ["offre-0", "offre-1"]
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert [o["slug"] for o in second["results"]] == ["offre-2"]
    assert second["next"] is None
    assert second["previous"] is not None


def test_page_size_is_capped_at_100(api, db, provider):
    """A client asking for 500 offers per page gets 100."""
    Offer.objects.bulk_create(
        Offer(provider=provider, name=f"Offre {n:03d}", slug=f"offre-{n:03d}", service_model="IaaS",
              state=OfferState.PUBLISHED)
        for n in range(101)
    )

    body = api(None).get(OFFERS, {"page_size": 500}).json()

    assert body["count"] == 101
    assert len(body["results"]) == 100
    assert body["next"] is not None


def _make_full_offers(count: int, day) -> None:
    """`count` published offers, each from its own provider, with a decision, two certifications, two locations."""
    for n in range(count):
        offer = OfferFactory(provider=ProviderFactory(), locations=["FR", "BE"])
        QualificationFactory(offer=offer, qualified_on=day - timedelta(days=30), valid_until=day + timedelta(days=n))
        CertificationFactory(offer=offer, kind="hds")
        CertificationFactory(offer=offer, kind="iso27001")


def _queries_for_list(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(OFFERS, {"page_size": 20})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["anonymous", "buyer", "qualifier"])
def test_listing_offers_costs_a_fixed_number_of_queries(api, users, day, role, django_assert_max_num_queries):
    """Listing 20 offers with decisions, certifications and verdicts costs as many queries as listing one."""
    client = api(users[role])
    _make_full_offers(1, day)
    with_one = _queries_for_list(client)
    _make_full_offers(19, day)

    with django_assert_max_num_queries(with_one):
        response = client.get(OFFERS, {"page_size": 20})

    assert len(response.json()["results"]) == 20
    assert all(len(offer["eligibility"]) == 4 for offer in response.json()["results"])
    assert with_one <= 10


def test_offer_locations_come_from_the_offer_not_the_provider(api, db, provider):
    """`data_locations` lists the offer's own hosting countries."""
    offer = OfferFactory(provider=provider, slug="locale", locations=[])
    OfferLocation.objects.create(offer=offer, country="LU")

    assert api(None).get(f"{OFFERS}locale/").json()["data_locations"] == ["LU"]
