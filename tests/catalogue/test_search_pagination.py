"""Pages of a search: a page past the middle, read backwards from the end, holds exactly the forward order's rows."""

from datetime import timedelta

import pytest

from catalogue import selectors
from catalogue.models import OfferState
from catalogue.pagination import SearchPaginator
from tests.factories import OfferFactory, ProviderFactory, QualificationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offers():
    """23 published offers: names and providers that tie, some qualified (various end dates), some not."""
    today = selectors.today_local()
    providers = [ProviderFactory(name=name) for name in ("Beta", "Alpha", "Gamma")]
    made = []
    for n in range(23):
        offer = OfferFactory(provider=providers[n % 3], name=f"Offre {n % 5}-{n}", state=OfferState.PUBLISHED,
                             list_price=None if n % 4 == 0 else 10 + n % 6)
        if n % 3 == 0:
            QualificationFactory(offer=offer, valid_until=today + timedelta(days=30 * (n % 4)))
        made.append(offer)
    return made


@pytest.mark.parametrize("ordering", list(selectors.ORDERINGS))
@pytest.mark.parametrize("per_page", [2, 5, 7])
def test_every_page_matches_the_forward_order(offers, ordering, per_page):
    """For every ordering and page size, the pages together are the search's order, each page in place."""
    ids = selectors.page_ids(selectors.ordered(selectors.offers_in_scope("public"), ordering))
    expected = list(ids)
    paginator = SearchPaginator(ids, per_page)

    pages = [list(paginator.page(number)) for number in paginator.page_range]

    assert [pk for page in pages for pk in page] == expected
    assert all(len(page) == per_page for page in pages[:-1])


def test_a_known_count_is_used_as_is(offers):
    """The catalogue page gives the count it has from its facets: the paginator does not count again."""
    ids = selectors.page_ids(selectors.ordered(selectors.offers_in_scope("public"), None))

    paginator = SearchPaginator(ids, 10, count=23)

    assert paginator.count == 23
    assert list(paginator.page(3)) == list(ids)[20:]


def test_the_api_and_the_page_show_the_same_last_page(client, offers):
    """The API's and the catalogue page's last pages list the same offers, in the same order as page 1's order."""
    every = [offer["slug"] for offer in client.get("/api/v1/offers/", {"page_size": 100}).json()["results"]]

    last = client.get("/api/v1/offers/", {"page_size": 20, "page": 2}).json()["results"]
    page = client.get("/catalogue/", {"page": 2}).content.decode()

    assert [offer["slug"] for offer in last] == every[20:]
    positions = [page.index(f"/catalogue/{slug}/") for slug in every[20:]]
    assert positions == sorted(positions)
