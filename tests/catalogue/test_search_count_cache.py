"""The number of results of a catalogue search is cached until the catalogue changes, per what the user may see."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import selectors, services
from catalogue.models import OfferState, QualificationStatus
from tests.factories import OfferFactory, QualificationFactory

pytestmark = pytest.mark.django_db

OFFERS = "/api/v1/offers/"


def count_and_queries(client, params: dict) -> tuple[int, int]:
    """The API's `count` for `params`, and how many COUNT queries over offers the request ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(OFFERS, params)
    assert response.status_code == 200
    counts = sum(1 for query in queries.captured_queries
                 if query["sql"].startswith("SELECT COUNT(") and '"catalogue_offer"' in query["sql"])
    return response.json()["count"], counts


@pytest.fixture
def qualified(db, provider):
    now = selectors.today_local()
    offers = [OfferFactory(provider=provider) for _ in range(3)]
    for offer in offers:
        QualificationFactory(offer=offer, qualified_on=now - timedelta(days=10), valid_until=now + timedelta(days=500))
    return offers


def test_second_identical_search_is_not_counted_again(api, qualified):
    """The same search twice: the second answer takes its count from the cache, and it is the same."""
    client = api(None)
    assert count_and_queries(client, {"eligible_for": "sensitive"}) == (3, 1)
    assert count_and_queries(client, {"eligible_for": "sensitive"}) == (3, 0)
    assert count_and_queries(client, {"eligible_for": "health"}) == (0, 1)  # another search, its own count


def test_count_is_exact_again_after_a_suspension(api, users, qualified):
    """A qualifier's suspension changes the catalogue's version: the next count is computed afresh."""
    client = api(None)
    count_and_queries(client, {"eligible_for": "sensitive"})
    decision = qualified[0].current_qualification
    services.qualification_update(qualification=decision, user=users["qualifier"],
                                  values={"status": QualificationStatus.SUSPENDED}, reason="Audit en cours")
    assert count_and_queries(client, {"eligible_for": "sensitive"}) == (2, 1)


def test_count_is_exact_again_after_a_new_offer(api, provider, qualified):
    """A newly published offer is counted at once."""
    client = api(None)
    assert count_and_queries(client, {})[0] == 3
    OfferFactory(provider=provider)
    assert count_and_queries(client, {}) == (4, 1)


def test_scopes_never_share_a_count(api, users, provider, qualified):
    """A vendor's own draft counts for the vendor only; the public count, cached first, is not reused."""
    OfferFactory(provider=provider, state=OfferState.DRAFT)
    assert count_and_queries(api(None), {})[0] == 3
    assert count_and_queries(api(users["vendor"]), {})[0] == 4
    assert count_and_queries(api(None), {}) == (3, 0)


def test_no_cache_when_disabled(api, settings, qualified):
    """FACET_CACHE_SECONDS = 0: every request counts."""
    settings.FACET_CACHE_SECONDS = 0
    client = api(None)
    assert count_and_queries(client, {}) == (3, 1)
    assert count_and_queries(client, {}) == (3, 1)


def test_search_that_can_match_nothing_counts_zero(api, qualified):
    """Restricted data matches no offer at all (the query is empty): zero, not an error."""
    assert count_and_queries(api(None), {"eligible_for": "restricted"}) == (0, 0)
