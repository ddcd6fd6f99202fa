"""Offers API search: each filter of the design narrows the results, and a bad value is a 400 naming it."""

from datetime import timedelta
from decimal import Decimal

import pytest

from catalogue import selectors
from catalogue.models import OfferState, QualificationStatus
from tests.factories import (
    CertificationFactory,
    OfferFactory,
    ProviderFactory,
    QualificationFactory,
    ReferencingFactory,
)

OFFERS = "/api/v1/offers/"


@pytest.fixture
def day():
    """The API judges dates against the real clock: the tests build their data around it."""
    return selectors.today_local()


@pytest.fixture
def catalogue(db, provider, other_provider, day):
    """A small catalogue in which each offer fails the doctrine in its own way (or not at all)."""
    us = ProviderFactory(name="Hyperscaler Inc", slug="hyperscaler", seat_country="US",
                         largest_non_eu_holding=Decimal("100"), total_non_eu_holding=Decimal("100"))

    def offer(slug, name, provider=provider, qualification=None, **kwargs):
        made = OfferFactory(provider=provider, slug=slug, name=name, description="Service en nuage", **kwargs)
        if qualification is not None:
            QualificationFactory(offer=made, **{"qualified_on": day - timedelta(days=365),
                                                "valid_until": day + timedelta(days=500), **qualification})
        return made

    offers = {
        "hds": offer("sante", "Hébergement Sécurisé Santé", qualification={}, service_model="IaaS"),
        "sovereign": offer("souverain", "Nuage souverain", provider=other_provider, service_model="PaaS",
                           qualification={"valid_until": day + timedelta(days=60)}),
        "us": offer("hyper", "Secured Platform", provider=us, qualification={}, service_model="PaaS"),
        "lapsed": offer("perime", "Ancienne offre", qualification={"valid_until": day - timedelta(days=1)},
                        service_model="SaaS"),
        "expired": offer("expire", "Offre expirée", qualification={"status": QualificationStatus.EXPIRED},
                         service_model="SaaS"),
        "abroad": offer("ailleurs", "Nuage lointain", provider=other_provider, qualification={},
                        locations=["FR", "US"], service_model="CaaS"),
        "in_progress": offer("en-cours", "En qualification", provider=other_provider,
                             qualification={"status": QualificationStatus.IN_PROGRESS, "milestone": "J1",
                                            "qualified_on": None, "valid_until": None}),
        "unqualified": offer("sans", "Sans décision", service_model="SaaS"),
        "draft": offer("brouillon", "Brouillon sécurisé", qualification={}, state=OfferState.DRAFT),
    }
    CertificationFactory(offer=offers["hds"], kind="hds", valid_until=day + timedelta(days=200))
    CertificationFactory(offer=offers["sovereign"], kind="hds", valid_until=day - timedelta(days=1))
    CertificationFactory(offer=offers["sovereign"], kind="iso27001", valid_until=None)
    return offers


def slugs(api, params, user=None) -> set[str]:
    response = api(user).get(OFFERS, params)
    assert response.status_code == 200, response.content
    return {offer["slug"] for offer in response.json()["results"]}


PUBLISHED = {"sante", "souverain", "hyper", "perime", "expire", "ailleurs", "en-cours", "sans"}


def test_no_filter_lists_every_published_offer(api, catalogue):
    """Without parameters, an anonymous visitor gets every published offer and no draft."""
    assert slugs(api, {}) == PUBLISHED


@pytest.mark.parametrize("query", ["securise", "SÉCURISÉ", "Sécurisé santé", "sante HEBERGEMENT"])
def test_keywords_ignore_accents_and_case(api, catalogue, query):
    """`q` matches whatever the accents and the case, every word required; drafts stay hidden."""
    assert slugs(api, {"q": query}) == {"sante"}


def test_keywords_search_the_provider_name(api, catalogue):
    """`q` also matches the provider's name."""
    assert slugs(api, {"q": "hyperscaler"}) == {"hyper"}


def test_service_model_accepts_several_values(api, catalogue):
    """`service_model` keeps the offers of any of the given models."""
    assert slugs(api, {"service_model": "PaaS"}) == {"souverain", "hyper"}
    assert slugs(api, {"service_model": ["PaaS", "CaaS"]}) == {"souverain", "hyper", "ailleurs"}


def test_qualification_status_and_none(api, catalogue):
    """`qualification` filters on the current decision's status; `none` finds offers without one."""
    assert slugs(api, {"qualification": "in_progress"}) == {"en-cours"}
    assert slugs(api, {"qualification": "expired"}) == {"expire"}
    assert slugs(api, {"qualification": "none"}) == {"sans"}


def test_certification(api, catalogue):
    """`certification` keeps offers holding every given certification."""
    assert slugs(api, {"certification": "hds"}) == {"sante", "souverain"}
    assert slugs(api, {"certification": ["hds", "iso27001"]}) == {"souverain"}


def test_provider(api, catalogue):
    """`provider` takes provider slugs."""
    assert slugs(api, {"provider": "outscale"}) == {"souverain", "ailleurs", "en-cours"}


def test_data_location(api, catalogue):
    """`data_location` keeps offers hosting data in one of the given countries."""
    assert slugs(api, {"data_location": "US"}) == {"ailleurs"}


def test_framework_and_lot(api, catalogue):
    """`framework` (slug) and `lot` (id) keep the offers referenced there."""
    referencing = ReferencingFactory(offer=catalogue["hds"], lot__framework__slug="ac-nuage")
    ReferencingFactory(offer=catalogue["us"])

    assert slugs(api, {"framework": "ac-nuage"}) == {"sante"}
    assert slugs(api, {"lot": referencing.lot_id}) == {"sante"}


def test_eligible_for_sensitive_applies_the_doctrine(api, catalogue):
    """`eligible_for=sensitive` excludes the US-seated provider, lapsed and expired decisions, data abroad."""
    assert slugs(api, {"eligible_for": "sensitive"}) == {"sante", "souverain"}


def test_eligible_for_health_requires_a_valid_hds(api, catalogue):
    """`eligible_for=health` also needs an HDS certification still valid."""
    assert slugs(api, {"eligible_for": "health"}) == {"sante"}


def test_eligible_for_restricted_returns_nothing(api, users, catalogue):
    """No commercial offer may host Diffusion Restreinte data, whoever asks."""
    assert slugs(api, {"eligible_for": "restricted"}) == set()
    assert slugs(api, {"eligible_for": "restricted"}, user=users["qualifier"]) == set()


def test_eligible_for_non_sensitive_is_every_published_offer(api, users, catalogue):
    """`non_sensitive` needs a published offer only: a qualifier, who sees drafts, does not get them."""
    assert slugs(api, {"eligible_for": "non_sensitive"}, user=users["qualifier"]) == PUBLISHED


def test_eligible_for_with_a_later_start(api, catalogue, day):
    """With `valid_on`, eligibility is judged for a service starting that day, in the filter and the verdicts."""
    later = (day + timedelta(days=300)).isoformat()  # after the HDS certification of "sante" lapses

    today_verdicts = api(None).get(OFFERS, {"q": "sante"}).json()["results"][0]["eligibility"]
    later_verdicts = api(None).get(OFFERS, {"q": "sante", "valid_on": later}).json()["results"][0]["eligibility"]

    assert slugs(api, {"eligible_for": "health"}) == {"sante"}
    assert slugs(api, {"eligible_for": "health", "valid_on": later}) == set()
    assert slugs(api, {"eligible_for": "sensitive", "valid_on": later}) == {"sante"}
    assert [v["eligible"] for v in today_verdicts] == [True, True, True, False]
    assert [v["eligible"] for v in later_verdicts] == [True, True, False, False]
    assert any("HDS" in reason for reason in later_verdicts[2]["reasons"])


def test_valid_on(api, catalogue, day):
    """`valid_on` keeps offers qualified on that day."""
    assert slugs(api, {"valid_on": day.isoformat()}) == {"sante", "souverain", "hyper", "ailleurs"}
    assert slugs(api, {"valid_on": (day + timedelta(days=100)).isoformat()}) == {"sante", "hyper", "ailleurs"}


def test_expires_before_and_within(api, catalogue, day):
    """`expires_before` and `expires_within` find qualified offers whose decision ends soon."""
    assert slugs(api, {"expires_before": (day + timedelta(days=100)).isoformat()}) == {"souverain", "perime"}
    assert slugs(api, {"expires_within": "90"}) == {"souverain"}


def test_ordering(api, catalogue):
    """`ordering` sorts the results; the default is by provider then name."""
    by_name = [o["slug"] for o in api(None).get(OFFERS, {"ordering": "-name"}).json()["results"]]
    by_end = [o["slug"] for o in api(None).get(OFFERS, {"ordering": "valid_until",
                                                         "qualification": "qualified"}).json()["results"]]

    assert by_name[:3] == ["hyper", "sans", "expire"]
    assert by_end[:2] == ["perime", "souverain"]


@pytest.mark.parametrize("ordering", ["valid_until", "-valid_until"])
def test_offers_without_an_end_date_come_last_both_ways(api, catalogue, ordering):
    """Sorted by end of qualification either way, offers with no end date (no decision, or one in progress)
    come last, by name, on every database."""
    listed = [o["slug"] for o in api(None).get(OFFERS, {"ordering": ordering}).json()["results"]]

    assert listed[-2:] == ["en-cours", "sans"]
    assert listed[0] == ("perime" if ordering == "valid_until" else "sante")


@pytest.mark.parametrize("parameter, value", [
    ("service_model", "XaaS"),
    ("qualification", "approved"),
    ("certification", "iso9001"),
    ("provider", "inconnu"),
    ("framework", "inconnu"),
    ("lot", "abc"),
    ("data_location", "ZZ"),
    ("eligible_for", "secret"),
    ("valid_on", "2026-13-45"),
    ("valid_on", "2026-02-30"),
    ("expires_before", "demain"),
    ("expires_within", "12"),
    ("ordering", "random"),
])
def test_bad_value_is_a_400_naming_the_parameter(api, catalogue, parameter, value):
    """An unknown value or a malformed date answers 400 with a code and the parameter's errors."""
    response = api(None).get(OFFERS, {parameter: value})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert set(body) == {"code", parameter}
    assert body[parameter] and all(isinstance(message, str) for message in body[parameter])


def test_several_bad_values_are_all_named(api, catalogue):
    """Every invalid parameter is reported at once."""
    body = api(None).get(OFFERS, {"valid_on": "x", "eligible_for": "y", "q": "ok"}).json()

    assert set(body) == {"code", "valid_on", "eligible_for"}


def test_search_form_shares_no_state_between_requests(api, users, db):
    """The search form's fields are built once (catalogue.filters.SharedOnCopy): a provider added since is a
    valid value, and one request's error does not carry over to the next."""
    client = api(users["buyer"])
    assert client.get(OFFERS, {"data_location": "XX"}).status_code == 400

    late = ProviderFactory(name="Arrivé après", slug="arrive-apres")
    OfferFactory(provider=late, name="Nouvelle offre", state=OfferState.PUBLISHED)

    response = client.get(OFFERS, {"provider": "arrive-apres", "data_location": "FR"})
    assert response.status_code == 200
    assert [offer["name"] for offer in response.json()["results"]] == ["Nouvelle offre"]
    assert client.get(OFFERS, {"provider": "inconnu"}).json()["code"] == "invalid_filter"
