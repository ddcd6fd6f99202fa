"""The catalogue's facet counts are cached, exact again after every kind of write, per visibility scope;
the provider facet lists the providers with the most offers and says how many others there are."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalogue import lifecycle, selectors, services
from catalogue.freshness import bump_catalogue_version, catalogue_version
from catalogue.models import OfferState, QualificationStatus
from catalogue.services.offers import offer_publish, revision_approve, revision_propose
from tests.factories import (
    CertificationFactory,
    LotFactory,
    OfferFactory,
    ProviderFactory,
    QualificationFactory,
    ReferencingFactory,
)

CATALOGUE = "/catalogue/"


@pytest.fixture
def now():
    return selectors.today_local()


@pytest.fixture
def coffre(db, provider, now):
    """A published IaaS offer of the `provider` fixture (the vendor's), qualified, hosted in France."""
    offer = OfferFactory(provider=provider, name="Coffre", slug="coffre", service_model="IaaS", locations=["FR"])
    QualificationFactory(offer=offer, qualified_on=now - timedelta(days=100), valid_until=now + timedelta(days=400))
    return offer


def counted(client, url: str = CATALOGUE) -> tuple[dict, list[str]]:
    """The page's facet counts ({facet: {value: count}}) and the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    facets = {facet.name: {option.value: option.count for option in facet.options}
              for facet in response.context["facets"]}
    return facets, [query["sql"] for query in queries.captured_queries]


def facet_queries(sqls: list[str]) -> int:
    """Queries that count offers (the facets' GROUP BY and COUNT); the page's own queries count no offers."""
    return sum(1 for sql in sqls if "COUNT(" in sql.upper() and 'FROM "catalogue_offer"' in sql)


def warm(client, url: str = CATALOGUE) -> dict:
    """Fill the cache for `url`, check the second request is served from it, return its counts."""
    counted(client, url)
    facets, sqls = counted(client, url)
    assert facet_queries(sqls) == 0
    return facets


def test_second_request_serves_cached_counts(client, coffre):
    """The first request counts in SQL, the second runs only the page's non-facet queries, same counts."""
    client.get("/")  # the site's configuration is cached from any page (broker/site_config.py)
    first, first_sqls = counted(client)
    second, second_sqls = counted(client)
    assert facet_queries(first_sqls) >= 10
    assert facet_queries(second_sqls) == 0
    assert len(second_sqls) == len(first_sqls) - facet_queries(first_sqls)
    assert first == second
    assert first["service_model"]["IaaS"] == 1


def test_zero_seconds_disables_the_cache(client, coffre, settings):
    """FACET_CACHE_SECONDS=0: every request counts again."""
    settings.FACET_CACHE_SECONDS = 0
    counted(client)
    _, sqls = counted(client)
    assert facet_queries(sqls) >= 10


def test_version_is_created_once_and_bumped(db):
    """The token is stable between writes and changes with a bump."""
    version = catalogue_version()
    assert catalogue_version() == version
    bump_catalogue_version()
    assert catalogue_version() != version


def test_publishing_an_offer_shows_in_the_counts(client, users, provider, coffre):
    """An offer published through the service is counted at once."""
    assert warm(client)["service_model"]["SaaS"] == 0
    submitted = OfferFactory(provider=provider, service_model="SaaS", state=OfferState.SUBMITTED)
    offer_publish(offer=submitted, user=users["catalogue_manager"])
    facets, _ = counted(client)
    assert facets["service_model"]["SaaS"] == 1


def test_editing_an_offer_shows_in_the_counts(client, users, coffre):
    """A revision approved (locations rewritten in bulk) and a plain save are both counted at once."""
    assert "DE" not in warm(client)["data_location"]
    revision = revision_propose(offer=coffre, user=users["vendor"], values={"locations": ["DE", "FR"]})
    revision_approve(revision=revision, user=users["catalogue_manager"])
    facets, _ = counted(client)
    assert facets["data_location"]["DE"] == 1
    coffre.service_model = "PaaS"
    coffre.save()
    facets, _ = counted(client)
    assert (facets["service_model"]["IaaS"], facets["service_model"]["PaaS"]) == (0, 1)


def test_suspending_through_the_service_shows_in_the_counts(client, users, coffre):
    """A qualification suspended by a qualifier through the service leaves the "qualified" count."""
    assert warm(client)["qualification"]["qualified"] == 1
    services.qualification_update(qualification=coffre.current_qualification, user=users["qualifier"],
                                  values={"status": QualificationStatus.SUSPENDED}, reason="Incident")
    facets, _ = counted(client)
    assert (facets["qualification"]["qualified"], facets["qualification"]["suspended"]) == (0, 1)


def test_suspending_through_the_admin_shows_in_the_counts(client, users, coffre):
    """The admin change form goes through the service: the counts follow."""
    assert warm(client)["qualification"]["suspended"] == 0
    qualification = coffre.current_qualification
    users["qualifier"].is_staff = True
    users["qualifier"].save(update_fields=["is_staff"])
    client.force_login(users["qualifier"])
    response = client.post(reverse("admin:catalogue_qualification_change", args=[qualification.pk]), {
        "status": "suspended", "milestone": qualification.milestone,
        "referential_version": qualification.referential_version, "decision_number": qualification.decision_number,
        "qualified_on": qualification.qualified_on.isoformat(), "valid_until": qualification.valid_until.isoformat(),
        "conditions": qualification.conditions, "reason": "Incident de sécurité",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    })
    assert response.status_code == 302
    client.logout()
    facets, _ = counted(client)
    assert (facets["qualification"]["qualified"], facets["qualification"]["suspended"]) == (0, 1)


def test_daily_scan_expiring_a_qualification_shows_in_the_counts(client, provider, now):
    """The scan expires decisions with a queryset update (no signal): it bumps the version itself."""
    lapsed = OfferFactory(provider=provider, service_model="IaaS")
    QualificationFactory(offer=lapsed, qualified_on=now - timedelta(days=400), valid_until=now - timedelta(days=1))
    assert warm(client)["qualification"]["expired"] == 0
    report = lifecycle.scan_qualifications(today=now)
    assert len(report.expired) == 1
    facets, _ = counted(client)
    assert (facets["qualification"]["qualified"], facets["qualification"]["expired"]) == (0, 1)


def test_adding_a_certification_shows_in_the_counts(client, coffre):
    """A new certification is counted at once."""
    assert "hds" not in warm(client)["certification"]
    CertificationFactory(offer=coffre, kind="hds")
    facets, _ = counted(client)
    assert facets["certification"]["hds"] == 1


def test_referencing_an_offer_shows_in_the_framework_counts(client, coffre):
    """An offer referenced in a lot (a Referencing row, or lot.offers.add) counts under that framework."""
    lot = LotFactory()
    url = f"{CATALOGUE}?framework={lot.framework.slug}"
    assert warm(client, url)["service_model"]["IaaS"] == 0
    ReferencingFactory(lot=lot, offer=coffre)
    facets, _ = counted(client, url)
    assert facets["service_model"]["IaaS"] == 1
    other = OfferFactory(provider=coffre.provider, service_model="IaaS")
    warm(client, url)
    lot.offers.add(other)
    facets, _ = counted(client, url)
    assert facets["service_model"]["IaaS"] == 2


def test_changing_the_seat_country_shows_in_the_eligibility_counts(client, provider, coffre):
    """A provider moving its seat out of the EU no longer counts as eligible for sensitive data."""
    assert warm(client)["eligible_for"]["sensitive"] == 1
    provider.seat_country = "US"
    provider.save()
    facets, _ = counted(client)
    assert facets["eligible_for"]["sensitive"] == 0


def test_a_write_registers_a_bump_on_commit(db, django_capture_on_commit_callbacks):
    """Inside a transaction the version changes again when it commits, once however many rows it writes."""
    with django_capture_on_commit_callbacks() as callbacks:
        provider = ProviderFactory()
        OfferFactory(provider=provider)
        OfferFactory(provider=provider)
    assert callbacks == [bump_catalogue_version]


def test_scopes_never_share_an_entry(client, users, provider, coffre):
    """A vendor's own draft is counted for that vendor only, whichever of the two asks first."""
    OfferFactory(provider=provider, service_model="SaaS", state=OfferState.DRAFT)
    public = warm(client)
    client.force_login(users["vendor"])
    vendor = warm(client)
    client.force_login(users["other_vendor"])
    other = warm(client)
    client.logout()
    again = warm(client)
    assert (public["service_model"]["SaaS"], vendor["service_model"]["SaaS"], other["service_model"]["SaaS"],
            again["service_model"]["SaaS"]) == (0, 1, 0, 0)


def test_equivalent_searches_share_an_entry(client, coffre):
    """The same filters spelt in another order, or with other case in the keywords, hit the same entry."""
    warm(client, f"{CATALOGUE}?service_model=SaaS&service_model=IaaS&q=Coffre")
    _, sqls = counted(client, f"{CATALOGUE}?q=coffre&service_model=IaaS&service_model=SaaS&ordering=name")
    assert facet_queries(sqls) == 0


@pytest.fixture
def thirty_providers(db):
    """30 providers with one published offer each, and a 31st whose three offers put it first despite its name."""
    providers = [ProviderFactory(name=f"Fournisseur {n:02d}", slug=f"f-{n:02d}") for n in range(30)]
    for provider in providers:
        OfferFactory(provider=provider)
    busiest = ProviderFactory(name="Zèbre Cloud", slug="zebre")
    for _ in range(3):
        OfferFactory(provider=busiest)
    return providers


def provider_facet(response):
    return next(facet for facet in response.context["facets"] if facet.name == "provider")


def test_provider_facet_shows_the_busiest_25_and_says_how_many_others(client, thirty_providers):
    """Only 25 providers are listed (most offers first, ties by name), sorted by name, then the others counted."""
    response = client.get(CATALOGUE)
    facet = provider_facet(response)
    values = [option.value for option in facet.options]
    assert len(values) == selectors.PROVIDER_FACET_LIMIT == 25
    assert values == ["f-00", *[f"f-{n:02d}" for n in range(1, 24)], "zebre"]
    assert facet.note == ("6 autres fournisseurs : précisez la recherche par mot-clé "
                          "ou ouvrez la page d'un fournisseur.")
    assert b'id="facet-provider-more"' in response.content
    assert response.context["page"].paginator.count == 33


def test_a_chosen_provider_outside_the_25_stays_ticked(client, thirty_providers):
    """A provider chosen from its page stays listed and ticked even when it is not among the busiest."""
    response = client.get(f"{CATALOGUE}?provider=f-29")
    facet = provider_facet(response)
    chosen = next(option for option in facet.options if option.value == "f-29")
    assert (chosen.selected, chosen.count) == (True, 1)
    assert len(facet.options) == 26
    assert facet.note.startswith("5 autres fournisseurs")
    assert response.context["page"].paginator.count == 1


def test_no_note_when_every_provider_is_listed(client, coffre):
    """A small catalogue lists every provider and says nothing more."""
    response = client.get(CATALOGUE)
    assert provider_facet(response).note == ""
    assert b'id="facet-provider-more"' not in response.content


def test_keyword_search_finds_a_provider_by_name(client, thirty_providers):
    """The note sends people to the keyword search: it does match providers' names."""
    response = client.get(f"{CATALOGUE}?q=zebre")
    assert response.context["page"].paginator.count == 3


def test_home_figures_are_cached_until_the_next_write(client, users, provider, coffre):
    """The home page's figures come from the cache until a catalogue write, then are exact again."""
    assert client.get("/").context["figures"]["offers"] == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").context["figures"]["offers"] == 1
    assert not any('FROM "catalogue_offer"' in query["sql"] for query in queries.captured_queries)
    submitted = OfferFactory(provider=provider, state=OfferState.SUBMITTED)
    offer_publish(offer=submitted, user=users["catalogue_manager"])
    assert client.get("/").context["figures"]["offers"] == 2
