"""Queries per request of the main endpoints: an exact upper bound each, and no growth with page or data size.

Each test measures the same request on a small and on a larger data set (or page
size) and asserts the two counts are equal and within the bound. The bounds are
today's counts through the real stack (token or session authentication included),
on the backend that needs the most of them: raise one only with a reason.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from catalogue import selectors
from catalogue.freshness import bump_catalogue_version
from procurement.models import Order, OrderStatus
from procurement.services.frameworks import refresh_commitments
from tests.factories import (
    CertificationFactory,
    FrameworkFactory,
    LotFactory,
    OfferFactory,
    QualificationFactory,
    ReferencingFactory,
)

OFFERS = "/api/v1/offers/"


@pytest.fixture
def day():
    """Endpoints judge dates against the real clock: the data is built around it."""
    return selectors.today_local()


class World:
    """A catalogue that grows: offers of two providers, each qualified, certified, located and referenced."""

    def __init__(self, *, users, provider, other_provider, day):
        self.users, self.day = users, day
        self.providers = [provider, other_provider]
        self.framework = FrameworkFactory(starts_on=day - timedelta(days=100), ends_on=day + timedelta(days=900),
                                          ceiling=Decimal("900000000"))
        self.lot = LotFactory(framework=self.framework, number=1, service_model="")
        self.offers = []

    def add_offers(self, count: int) -> None:
        for _ in range(count):
            n = len(self.offers)
            offer = OfferFactory(provider=self.providers[n % 2], name=f"Stockage sécurisé {n}",
                                 slug=f"stockage-{n}", service_model=["IaaS", "PaaS", "SaaS"][n % 3],
                                 locations=["FR", "DE"])
            QualificationFactory(offer=offer, qualified_on=self.day - timedelta(days=100),
                                 valid_until=self.day + timedelta(days=400 + n))
            CertificationFactory(offer=offer, kind="iso27001", valid_until=self.day + timedelta(days=300))
            CertificationFactory(offer=offer, kind="hds", valid_until=self.day + timedelta(days=300))
            ReferencingFactory(lot=self.lot, offer=offer)
            self.offers.append(offer)

    def add_orders(self, count: int) -> None:
        buyer = self.users["buyer"]
        Order.objects.bulk_create([
            Order(reference=f"BC-TEST-{len(self.offers)}-{Order.objects.count() + n}",
                  organisation=buyer.profile.organisation, created_by=buyer, framework=self.framework, lot=self.lot,
                  offer=self.offers[n % len(self.offers)], quantity=1, unit_price=Decimal("90"),
                  amount=Decimal("90"), sensitivity="sensitive", starts_on=self.day,
                  ends_on=self.day + timedelta(days=300), justification="Besoin",
                  status=[OrderStatus.DRAFT, OrderStatus.SUBMITTED, OrderStatus.APPROVED][n % 3])
            for n in range(count)
        ])
        refresh_commitments(framework_ids=[self.framework.pk])  # bulk_create bypasses the order services


@pytest.fixture
def world(db, users, provider, other_provider, day) -> World:
    return World(users=users, provider=provider, other_provider=other_provider, day=day)


def api_client(user) -> Client:
    """A client that authenticates like an API consumer does: a token header, looked up on every request."""
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")


def page_client(user) -> Client:
    """A client with a real session (read from the database on every request), or anonymous."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def queries(client: Client, url: str, *, method: str = "get", **kwargs) -> int:
    getattr(client, method)(url, **kwargs)  # once first: per-process caches (content types, translations)
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


OFFER_SEARCHES = {
    "no filter": "",
    "keyword": "q=stockage+securise",
    "eligible_for": "eligible_for=sensitive",
    "three facets": "service_model=IaaS&certification=iso27001&data_location=FR",
    "framework, sorted by expiry": "framework={framework}&ordering=valid_until&qualification=qualified",
    "every filter": ("q=stockage&service_model=IaaS&qualification=qualified&certification=hds&data_location=FR"
                     "&eligible_for=health&valid_on={day}&expires_before={later}&provider=ovhcloud"),
}
OFFERS_API_MAX = 8


@pytest.mark.parametrize("search", OFFER_SEARCHES)
def test_offers_api_queries_do_not_grow(world, users, day, search):
    """The offers API costs the same few queries for 3 or 30 offers, and for a page of 2 or of 100."""
    params = OFFER_SEARCHES[search].format(framework=world.framework.slug, day=day.isoformat(),
                                           later=(day + timedelta(days=900)).isoformat())
    client = api_client(users["buyer"])
    world.add_offers(3)
    small = queries(client, f"{OFFERS}?{params}&page_size=2")
    world.add_offers(27)
    large = queries(client, f"{OFFERS}?{params}&page_size=100")
    deep = queries(client, f"{OFFERS}?{params}&page_size=2&page=2")
    assert small == large == deep <= OFFERS_API_MAX


def test_offers_api_anonymous_and_vendor_cost_the_same(world, users):
    """Anonymous visitors and vendors (who also see their drafts) cost at most one query more than a buyer."""
    world.add_offers(6)
    assert queries(page_client(None), OFFERS) <= OFFERS_API_MAX - 3  # no session, no roles
    # A vendor's visibility needs their provider (one more query: the profile).
    assert queries(api_client(users["vendor"]), f"{OFFERS}?page_size=100") <= OFFERS_API_MAX + 1


def test_offer_api_detail_queries(world, users):
    """One offer through the API: a fixed number of queries."""
    world.add_offers(3)
    assert queries(api_client(users["buyer"]), f"{OFFERS}{world.offers[0].slug}/") <= 6


# The catalogue page with its facet counts computed (cache cold: a catalogue write just changed its version),
# then served from the cache (warm). Cold: 12 facet queries (they also give the number of results, so the
# page runs no COUNT of its own); warm: none of them, only the session, the user, the page's ids and cards.
CATALOGUE_MAX = 22  # 28 before the cache (the page also ran a COUNT), 26 before the user came with their profile
CATALOGUE_WARM_MAX = 10


def catalogue_queries(client: Client, url: str) -> tuple[int, int]:
    """Queries of `url` with the facet cache cold (version bumped), then warm."""
    queries(client, url)
    bump_catalogue_version()
    with CaptureQueriesContext(connection) as cold:
        assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as warm:
        assert client.get(url).status_code == 200
    return len(cold), len(warm)


@pytest.mark.parametrize("params", ["", "q=stockage", "service_model=IaaS&eligible_for=sensitive&certification=hds",
                                    "provider=ovhcloud&data_location=DE&expires_within=365"])
def test_catalogue_page_with_facets_does_not_grow(world, users, params):
    """The catalogue page, facet counts computed or cached, costs the same for 3 or 30 offers."""
    client = page_client(users["buyer"])
    world.add_offers(3)
    small_cold, small_warm = catalogue_queries(client, f"/catalogue/?{params}")
    world.add_offers(27)
    large_cold, large_warm = catalogue_queries(client, f"/catalogue/?{params}&page=2")
    assert small_cold == large_cold <= CATALOGUE_MAX
    assert small_warm == large_warm <= CATALOGUE_WARM_MAX
    assert small_cold - small_warm >= 10


def test_catalogue_page_anonymous(world):
    """Anonymous visitors browse the catalogue in fewer queries than signed-in users (no session)."""
    world.add_offers(5)
    cold, warm = catalogue_queries(page_client(None), "/catalogue/")
    assert cold <= CATALOGUE_MAX - 4
    assert warm <= CATALOGUE_WARM_MAX - 4


def test_offer_page_does_not_grow(world, users):
    """An offer page costs the same whatever the size of the catalogue and of the offer's history."""
    client = page_client(users["buyer"])
    world.add_offers(2)
    offer = world.offers[0]
    small = queries(client, f"/catalogue/{offer.slug}/")
    world.add_offers(10)
    QualificationFactory(offer=offer, is_current=False, status="expired", qualified_on=world.day - timedelta(days=900),
                         valid_until=world.day - timedelta(days=200))
    large = queries(client, f"/catalogue/{offer.slug}/")
    assert small == large <= 11


def test_provider_page_does_not_grow(world, users):
    """A provider page lists its offers in the same number of queries for 2 or 20 of them."""
    client = page_client(users["buyer"])
    world.add_offers(4)
    small = queries(client, "/fournisseurs/ovhcloud/")
    world.add_offers(36)
    large = queries(client, "/fournisseurs/ovhcloud/")
    assert small == large <= 9


def test_frameworks_api_does_not_grow(world, users, day):
    """The frameworks API (lots, committed and remaining amounts) costs the same for 1 or 4 frameworks."""
    client = api_client(users["buyer"])
    world.add_offers(2)
    world.add_orders(3)
    small = queries(client, "/api/v1/frameworks/")
    for number in range(3):
        framework = FrameworkFactory(starts_on=day, ends_on=day + timedelta(days=30))
        LotFactory(framework=framework, number=number + 1)
    world.add_orders(12)
    large = queries(client, "/api/v1/frameworks/")
    assert small == large <= 4


def test_orders_api_for_a_buyer_does_not_grow(world, users):
    """A buyer's order list costs the same for 3 or 60 orders, and for a page of 2 or of 100."""
    client = api_client(users["buyer"])
    world.add_offers(3)
    world.add_orders(3)
    small = queries(client, "/api/v1/orders/?page_size=2")
    world.add_orders(57)
    large = queries(client, "/api/v1/orders/?page_size=100")
    filtered = queries(client, "/api/v1/orders/?status=approved&page_size=100")
    assert small == large == filtered <= 5


def test_orders_page_for_a_buyer_does_not_grow(world, users):
    """The orders page costs the same for 3 or 60 orders."""
    client = page_client(users["buyer"])
    world.add_offers(3)
    world.add_orders(3)
    small = queries(client, "/commandes/")
    world.add_orders(57)
    large = queries(client, "/commandes/")
    assert small == large <= 7


def _create_and_submit(world, client) -> tuple[int, int]:
    payload = {"framework": world.framework.slug, "lot": world.lot.pk, "offer": world.offers[0].slug,
               "quantity": 2, "sensitivity": "sensitive", "starts_on": world.day.isoformat(),
               "ends_on": (world.day + timedelta(days=200)).isoformat(), "justification": "Besoin du service."}
    with CaptureQueriesContext(connection) as created:
        response = client.post("/api/v1/orders/", payload, content_type="application/json")
    assert response.status_code == 201, response.content
    reference = response.json()["reference"]
    with CaptureQueriesContext(connection) as submitted:
        response = client.post(f"/api/v1/orders/{reference}/submit/", content_type="application/json")
    assert response.status_code == 200, response.content
    assert Order.objects.get(reference=reference).status == OrderStatus.SUBMITTED
    return len(created), len(submitted)


def test_order_create_and_submit_do_not_grow(world, users):
    """Drafting and submitting an order cost the same with 0 or 60 orders already committed on the framework."""
    client = api_client(users["buyer"])
    world.add_offers(3)
    _create_and_submit(world, client)  # warm the per-process caches
    create_small, submit_small = _create_and_submit(world, client)
    world.add_orders(60)
    create_large, submit_large = _create_and_submit(world, client)
    assert create_small == create_large <= 13
    assert submit_small == submit_large <= 25  # 21 on PostgreSQL (notifications: one statement)
