"""Input limits: body size, page size, page numbers, string lengths and search strings answer 400/404 with a message.

The CSV upload limit (5 MB, admin ANSSI list import) is proved in tests/catalogue/test_admin_import_upload.py.
"""

import json

import pytest
from django.test import override_settings

from catalogue.models import Offer, Provider, Qualification
from procurement.models import Order, OrderStatus, RecordedSearch
from tests.factories import OfferFactory, QualificationFactory
from tests.procurement.order_builders import build_market, make_order

pytestmark = pytest.mark.django_db

HUGE = "x" * 10_000


@pytest.fixture
def market(provider):
    return build_market(provider=provider)


def order_payload(market, **overrides) -> dict:
    return {"framework": market.framework.slug, "lot": market.lot.pk, "offer": market.offer.slug, "quantity": 12,
            "sensitivity": "sensitive", "starts_on": "2026-12-01", "ends_on": "2027-11-30",
            "justification": "Hébergement de l'application de gestion des titres.", **overrides}


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64 * 1024)
def test_body_over_the_limit_is_a_400_with_a_message(api, users, market):
    """A JSON body past DATA_UPLOAD_MAX_MEMORY_SIZE answers 400 with a code and a message; nothing is created."""
    body = json.dumps(order_payload(market, justification="y" * (100 * 1024)))
    response = api(users["buyer"]).post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["detail"]
    assert not Order.objects.exists()


def test_malformed_json_is_a_400_with_a_code(api, users, market):
    """A body that is not JSON answers 400 with a code and a message, not a 500."""
    response = api(users["buyer"]).post("/api/v1/orders/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Order.objects.exists()


def test_page_size_is_capped_at_100(api, users, provider):
    """?page_size=100000 answers at most 100 results while the count tells the whole."""
    OfferFactory.create_batch(105, provider=provider)
    response = api(users["buyer"]).get("/api/v1/offers/", {"page_size": 100000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 100
    assert response.json()["count"] == Offer.objects.count() == 105


@pytest.mark.parametrize("page", ["abc", "99999", "0", "-1"])
def test_invalid_or_past_the_end_page_is_a_clean_404(api, users, provider, page):
    """A page that is not a number or past the end answers a JSON 404 with a message."""
    OfferFactory.create_batch(3, provider=provider)
    response = api(users["buyer"]).get("/api/v1/offers/", {"page": page})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert Offer.objects.count() == 3


def test_order_justification_too_long(api, users, market):
    """A 10,000-character justification is refused naming the field; no order is created."""
    response = api(users["buyer"]).post("/api/v1/orders/", order_payload(market, justification=HUGE), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "justification" in response.json()
    assert not Order.objects.exists()


def test_order_reason_too_long(api, users, market, today):
    """A 10,000-character reason for cancelling is refused naming the field; the order stays a draft."""
    order = make_order(market, users=users, today=today)
    response = api(users["buyer"]).post(f"/api/v1/orders/{order.reference}/cancel/", {"reason": HUGE},
                                        format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_search_title_too_long(api, users, provider):
    """A 10,000-character recorded-search title is refused naming the field; nothing is recorded."""
    response = api(users["buyer"]).post("/api/v1/searches/", {"query_string": "", "title": HUGE}, format="json")
    assert response.status_code == 400
    assert "title" in response.json()
    assert not RecordedSearch.objects.exists()


def test_vendor_offer_name_too_long(api, users, provider):
    """A 10,000-character offer name is refused naming the field; no offer is created."""
    response = api(users["vendor"]).post("/api/v1/vendor/offers/", {
        "name": HUGE, "service_model": "PaaS", "description": "PostgreSQL managé", "locations": ["FR"],
        "list_price": "45.00", "price_unit": "par instance et par mois"}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Offer.objects.exists()


def test_provider_website_too_long(api, users, provider):
    """A website longer than the column (200) is refused naming the field; the profile is unchanged."""
    website = "https://example.fr/" + "a" * 300
    response = api(users["vendor"]).patch("/api/v1/vendor/provider/", {"website": website}, format="json")
    assert response.status_code == 400
    assert "website" in response.json()
    assert Provider.objects.get(pk=provider.pk).website != website


def test_qualification_reason_too_long(api, users, provider):
    """A 10,000-character reason on a qualification change is refused naming the field; nothing changes."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider), decision_number="2024-17")
    response = api(users["qualifier"]).patch(f"/api/v1/qualifications/{qualification.pk}/",
                                             {"decision_number": "2024-18", "reason": HUGE}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Qualification.objects.get(pk=qualification.pk).decision_number == "2024-17"


@pytest.mark.parametrize("url", ["/api/v1/offers/", "/catalogue/"])
def test_search_string_too_long(api, users, provider, url):
    """A 10,000-character q= is refused (400 naming q on the API, a form error on the page), never a 500."""
    OfferFactory(provider=provider)
    response = api(users["buyer"]).get(url, {"q": HUGE})
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["code"] == "invalid_filter"
        assert "q" in response.json()
    assert Offer.objects.count() == 1
