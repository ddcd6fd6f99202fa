"""Framework contracts: committed and remaining amounts in SQL, status from the dates, pages and API, and
negotiated prices hidden from anonymous visitors."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from catalogue.models import OfferState
from procurement.models import FrameworkStatus, OrderStatus
from procurement.selectors import frameworks as selectors
from tests.factories import FrameworkFactory, LotFactory, OfferFactory, ReferencingFactory
from tests.procurement.order_builders import (
    build_market,
    make_order,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(provider):
    """Ceiling 100 000 €, lot 1 capped at 10 000 €, one offer at 100 € less 10 %."""
    return build_market(provider=provider, ceiling=Decimal("100000.00"), lot_ceiling=Decimal("10000.00"))


@pytest.fixture
def committed(market, users, today):
    """One order in every status, each 1 080 €: submitted, approved and fulfilled count (3 240 €)."""
    for status in OrderStatus.values:
        make_order(market, users=users, today=today, status=status)
    return Decimal("3240.00")


def test_amounts_count_only_committed_orders(market, committed, provider, users, today):
    """Committed = submitted + approved + fulfilled, per framework and per lot; remaining = ceiling − committed."""
    second_lot = LotFactory(framework=market.framework, number=2, ceiling=None)
    ReferencingFactory(lot=second_lot, offer=market.offer)
    make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, lot=second_lot, quantity=1)
    framework = selectors.framework_list(user=None).get(pk=market.framework.pk)
    assert framework.committed == committed + Decimal("90.00")
    assert framework.remaining == Decimal("100000.00") - committed - Decimal("90.00")
    lots = {lot.number: lot for lot in framework.lots.all()}
    assert (lots[1].committed, lots[1].remaining) == (committed, Decimal("10000.00") - committed)
    assert (lots[2].committed, lots[2].remaining) == (Decimal("90.00"), None)


def test_amounts_are_computed_in_a_fixed_number_of_queries(market, committed, django_assert_num_queries):
    """The list costs the same number of queries however many frameworks and lots there are (no per-row loop)."""
    for _ in range(3):
        framework = FrameworkFactory()
        LotFactory(framework=framework, number=1)
        LotFactory(framework=framework, number=2)
    with django_assert_num_queries(2):
        rows = [(f.committed, [lot.committed for lot in f.lots.all()]) for f in selectors.framework_list(user=None)]
    assert len(rows) == 4


def test_an_empty_framework_has_nothing_committed(db):
    """Without orders, committed is 0 and remaining the whole ceiling."""
    framework = FrameworkFactory(ceiling=Decimal("5000.00"))
    row = selectors.framework_list(user=None).get(pk=framework.pk)
    assert (row.committed, row.remaining) == (Decimal("0.00"), Decimal("5000.00"))


@pytest.mark.parametrize(("day", "terminated_on", "status"), [
    (date(2024, 12, 31), None, FrameworkStatus.UPCOMING),
    (date(2025, 1, 1), None, FrameworkStatus.IN_FORCE),
    (date(2029, 12, 31), None, FrameworkStatus.IN_FORCE),
    (date(2030, 1, 1), None, FrameworkStatus.ENDED),
    (date(2026, 6, 1), date(2026, 6, 1), FrameworkStatus.TERMINATED),
])
def test_status_is_derived_from_the_dates(day, terminated_on, status):
    """A framework's status comes from its dates and its termination."""
    framework = FrameworkFactory(starts_on=date(2025, 1, 1), ends_on=date(2029, 12, 31), terminated_on=terminated_on)
    assert framework.status_on(day) == status


def test_api_list_for_anonymous_hides_negotiated_amounts(api, market, committed):
    """Visitors see frameworks, lots and ceilings, but no discount and no committed or remaining amount."""
    response = api(None).get("/api/v1/frameworks/")
    assert response.status_code == 200
    row = response.json()["results"][0]
    assert row["reference"] == market.framework.reference and row["ceiling"] == "100000.00"
    assert row["status"] == "in_force"
    assert not {"committed", "remaining", "discount_percent"} & set(row)
    assert not {"committed", "remaining"} & set(row["lots"][0])


def test_api_list_for_users_gives_committed_and_remaining(api, market, committed, users):
    """Signed-in users get committed and remaining amounts, for the framework and each lot."""
    row = api(users["buyer"]).get("/api/v1/frameworks/").json()["results"][0]
    assert (row["committed"], row["remaining"], row["discount_percent"]) == ("3240.00", "96760.00", "10.00")
    assert row["lots"] == [{"id": market.lot.pk, "number": 1, "title": "Infrastructure", "service_model": "IaaS",
                            "ceiling": "10000.00", "committed": "3240.00", "remaining": "6760.00"}]


def test_api_detail_lists_referenced_offers_with_discounted_prices(api, market, users, provider):
    """The detail gives each lot's referenced published offers; signed-in users also get discount and price."""
    hidden = OfferFactory(provider=provider, state=OfferState.DRAFT)
    ReferencingFactory(lot=market.lot, offer=hidden)
    url = f"/api/v1/frameworks/{market.framework.slug}/"
    signed_in = api(users["buyer"]).get(url).json()
    assert signed_in["lots"][0]["offers"] == [{
        "offer": market.offer.slug, "offer_name": market.offer.name, "provider": "OVHcloud",
        "service_model": "IaaS", "list_price": "100.00", "price_unit": "par mois", "discount_percent": "10.00",
        "discounted_price": "90.00",
    }]
    public = api(None).get(url).json()
    assert public["lots"][0]["offers"] == [{
        "offer": market.offer.slug, "offer_name": market.offer.name, "provider": "OVHcloud",
        "service_model": "IaaS", "list_price": "100.00", "price_unit": "par mois",
    }]
    assert api(None).get("/api/v1/frameworks/inconnu/").status_code == 404


def test_list_page_shows_status_dates_ceiling_and_progress(market, committed, users):
    """The frameworks page shows each framework's status, dates, ceiling, committed, remaining and a progress bar."""
    client = Client()
    client.force_login(users["buyer"])
    page = client.get("/cadres/").content.decode().replace("\xa0", " ").replace("\u202f", " ")
    assert market.framework.reference in page and "En vigueur" in page
    assert "100 000,00 € HT" in page and "3 240,00 € HT" in page and "96 760,00 € HT" in page
    assert '<progress class="courtier-progress" max="100" value="3"' in page


def test_list_page_for_anonymous_hides_committed_amounts(market, committed):
    """Visitors see the framework and its ceiling, not what is committed."""
    page = Client().get("/cadres/").content.decode().replace("\xa0", " ").replace("\u202f", " ")
    assert market.framework.reference in page and "100 000,00 € HT" in page
    assert "3 240,00" not in page and "<progress" not in page


def test_detail_page_shows_lots_offers_and_discounted_prices(market, committed, users):
    """The framework page lists lots with their ceilings and amounts, and offers with price, discount and the
    discounted price for signed-in users."""
    client = Client()
    client.force_login(users["vendor"])
    page = client.get(f"/cadres/{market.framework.slug}/").content.decode()
    page = page.replace("\xa0", " ").replace("\u202f", " ")
    assert "Lot 1" in page and "10 000,00 € HT" in page and "6 760,00 € HT" in page
    assert market.offer.name in page and "100,00 € par mois" in page
    assert '<td class="discounted-price">90,00 € par mois</td>' in page and "<td>10 %</td>" in page


def test_detail_page_for_anonymous_hides_negotiated_prices(market, committed):
    """Visitors see the offers and list prices, never the discount or the discounted price."""
    response = Client().get(f"/cadres/{market.framework.slug}/")
    page = response.content.decode()
    assert response.status_code == 200 and market.offer.name in page
    assert "discounted-price" not in page and "Remise" not in page and 'id="framework-committed"' not in page


def test_unknown_framework_page_is_404(db):
    """An unknown slug is a 404."""
    assert Client().get("/cadres/inconnu/").status_code == 404
