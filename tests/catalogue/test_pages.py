"""The public catalogue pages: home, faceted search, offer page, provider page, login and error pages."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from catalogue import selectors, services
from catalogue.models import Offer, OfferState, Qualification, QualificationEvent, QualificationStatus
from tests.factories import (
    CertificationFactory,
    OfferFactory,
    ProviderFactory,
    QualificationFactory,
    ReferencingFactory,
)

CATALOGUE = "/catalogue/"


@pytest.fixture
def now():
    """The pages' own idea of today (selectors.today_local); dates below are built from it."""
    return selectors.today_local()


@pytest.fixture
def catalogue(db, now):
    """Two contrasting published offers and a draft one.

    - "coffre": IaaS by Alpha (FR), qualified until now + 20 days, HDS, hosted in France, described "sécurisée";
    - "messagerie": SaaS by Beta (DE), no qualification, hosted in Germany;
    - "brouillon": a draft of Alpha, qualified.
    """
    alpha = ProviderFactory(name="Alpha Cloud", slug="alpha")
    beta = ProviderFactory(name="Beta Hosting", slug="beta", seat_country="DE")
    coffre = OfferFactory(provider=alpha, name="Coffre", slug="coffre", service_model="IaaS",
                          description="Stockage objet sécurisée", locations=["FR"])
    QualificationFactory(offer=coffre, qualified_on=now - timedelta(days=900), valid_until=now + timedelta(days=20))
    CertificationFactory(offer=coffre, kind="hds", valid_until=now + timedelta(days=400))
    messagerie = OfferFactory(provider=beta, name="Messagerie", slug="messagerie", service_model="SaaS",
                              description="Courriel collaboratif", locations=["DE"])
    brouillon = OfferFactory(provider=alpha, name="Brouillon", slug="brouillon", state=OfferState.DRAFT,
                             description="Pas encore publiée")
    QualificationFactory(offer=brouillon, qualified_on=now - timedelta(days=10))
    return {"alpha": alpha, "beta": beta, "coffre": coffre, "messagerie": messagerie, "brouillon": brouillon}


def result_slugs(response) -> list[str]:
    return [result["offer"].slug for result in response.context["results"]]


def facet_count(response, facet: str, value: str) -> int | None:
    facet_obj = next(f for f in response.context["facets"] if f.name == facet)
    option = next((o for o in facet_obj.options if o.value == value), None)
    return option.count if option else None


# Home


def test_home_shows_search_box_and_key_figures(client, catalogue, now):
    """The home page has a search form to /catalogue/ and the key figures counted by the selector."""
    response = client.get("/")
    assert response.status_code == 200
    figures = response.context["figures"]
    assert figures == selectors.key_figures(today=now)
    assert figures == {"offers": 2, "qualified": 1, "providers": 2, "expiring": 1}
    html = response.content.decode()
    assert 'action="/catalogue/"' in html and 'name="q"' in html
    assert '<span class="courtier-figure">2</span>' in html
    assert "?eligible_for=health" in html and "?expires_within=180" in html
    assert "Diffusion Restreinte" in html
    assert Offer.objects.filter(state=OfferState.PUBLISHED).count() == 2


# Search


def test_keyword_search_ignores_accents_and_case(client, catalogue):
    """"SECURISE" finds the offer described "sécurisée" and nothing else; the count says so."""
    response = client.get(CATALOGUE, {"q": "SECURISE"})
    assert response.status_code == 200
    assert result_slugs(response) == ["coffre"]
    assert "1 offre trouvée" in response.content.decode()
    assert Offer.objects.get(slug="coffre").description == "Stockage objet sécurisée"


def test_search_without_parameters_lists_published_offers_only(client, catalogue):
    """With no filter the catalogue lists every published offer, never a draft, to an anonymous visitor."""
    response = client.get(CATALOGUE)
    assert response.status_code == 200
    assert sorted(result_slugs(response)) == ["coffre", "messagerie"]
    assert "Brouillon" not in response.content.decode()
    assert Offer.objects.filter(slug="brouillon", state=OfferState.DRAFT).exists()


@pytest.mark.parametrize(("parameter", "value", "expected"), [
    ("service_model", "SaaS", ["messagerie"]),
    ("qualification", "qualified", ["coffre"]),
    ("qualification", "none", ["messagerie"]),
    ("certification", "hds", ["coffre"]),
    ("provider", "beta", ["messagerie"]),
    ("data_location", "DE", ["messagerie"]),
    ("eligible_for", "sensitive", ["coffre"]),
    ("eligible_for", "health", ["coffre"]),
    ("eligible_for", "non_sensitive", ["coffre", "messagerie"]),
    ("expires_within", "30", ["coffre"]),
])
def test_each_facet_narrows_results_and_shows_counts(client, catalogue, parameter, value, expected):
    """Each facet keeps only the matching offers, ticks the chosen value and shows how many it gives."""
    response = client.get(CATALOGUE, {parameter: value})
    assert response.status_code == 200
    assert sorted(result_slugs(response)) == expected
    assert facet_count(response, parameter, value) == len(expected)
    html = response.content.decode()
    assert f'name="{parameter}" value="{value}" checked' in html
    assert f'data-count="{len(expected)}"' in html


def test_facet_counts_ignore_their_own_facet_but_apply_the_others(client, catalogue):
    """Choosing SaaS still counts IaaS offers in the model facet, while other facets count within SaaS."""
    response = client.get(CATALOGUE, {"service_model": "SaaS"})
    assert facet_count(response, "service_model", "IaaS") == 1
    assert facet_count(response, "service_model", "SaaS") == 1
    assert facet_count(response, "qualification", "qualified") == 0
    assert facet_count(response, "data_location", "FR") is None  # not offered: no SaaS offer hosted in France
    assert facet_count(response, "data_location", "DE") == 1


def test_restricted_data_has_no_commercial_offer(client, catalogue):
    """Asking for Diffusion Restreinte offers gives none, as the doctrine says."""
    response = client.get(CATALOGUE, {"eligible_for": "restricted"})
    assert response.status_code == 200
    assert result_slugs(response) == []
    assert 'id="no-results"' in response.content.decode()


@pytest.mark.parametrize(("query", "parameter"), [
    ({"valid_on": "2026-13-45"}, "valid_on"),
    ({"service_model": "Mainframe"}, "service_model"),
    ({"eligible_for": "secret"}, "eligible_for"),
    ({"provider": "nobody"}, "provider"),
    ({"ordering": "random"}, "ordering"),
    ({"expires_within": "7"}, "expires_within"),
])
def test_bad_parameter_answers_400_naming_it(client, catalogue, query, parameter):
    """An unknown value or a malformed date gives a 400 page whose error alert names the parameter."""
    response = client.get(CATALOGUE, query)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="search-errors"' in html
    assert f"<code>{parameter}</code>" in html
    assert [error["parameter"] for error in response.context["errors"]] == [parameter]
    assert "results" not in response.context
    assert Offer.objects.count() == 3


def test_several_bad_parameters_are_all_named(client, catalogue):
    """Two bad parameters give two messages, each with its parameter."""
    response = client.get(CATALOGUE, {"valid_on": "demain", "service_model": "Mainframe", "q": "coffre"})
    assert response.status_code == 400
    assert {error["parameter"] for error in response.context["errors"]} == {"valid_on", "service_model"}
    assert response.context["query"] == "coffre"


def test_sorting_by_name_descending(client, catalogue):
    """The `ordering` parameter sorts the results and the select shows the chosen order."""
    response = client.get(CATALOGUE, {"ordering": "-name"})
    assert response.status_code == 200
    assert result_slugs(response) == ["messagerie", "coffre"]
    assert '<option value="-name" selected>' in response.content.decode()


def test_pagination_keeps_the_other_parameters(client, db):
    """25 matching offers make two pages of 20 and 5; page links keep the search and the facets."""
    provider = ProviderFactory(slug="gamma")
    for number in range(25):
        OfferFactory(provider=provider, name=f"Stockage {number:02d}", slug=f"stockage-{number:02d}",
                     service_model="PaaS", description="Stockage")
    OfferFactory(provider=provider, name="Autre", service_model="IaaS", description="Calcul")
    first = client.get(CATALOGUE, {"q": "stockage", "service_model": "PaaS", "ordering": "name"})
    assert first.status_code == 200
    assert len(first.context["results"]) == 20
    assert first.context["page"].paginator.count == 25
    html = first.content.decode()
    assert 'href="?q=stockage&amp;service_model=PaaS&amp;ordering=name&amp;page=2"' in html
    assert 'class="fr-pagination ' in html
    second = client.get(CATALOGUE, {"q": "stockage", "service_model": "PaaS", "ordering": "name", "page": 2})
    assert second.status_code == 200
    assert result_slugs(second) == [f"stockage-{n:02d}" for n in range(20, 25)]
    assert client.get(CATALOGUE, {"page": "beaucoup"}).status_code == 200
    assert Offer.objects.count() == 26


def test_active_filter_tags_remove_one_value(client, catalogue):
    """Each chosen value shows as a tag whose link gives the same search without that value."""
    response = client.get(CATALOGUE, {"q": "stockage", "service_model": ["IaaS", "SaaS"]})
    removals = {tag.label: tag.remove_url for tag in response.context["active_filters"]}
    assert removals["Modèle de service : SaaS"] == "?q=stockage&service_model=IaaS"
    assert removals["Mots-clés : stockage"] == "?service_model=IaaS&service_model=SaaS"


def test_buyer_sees_record_search_button_with_the_query_string(client, catalogue, users):
    """A buyer gets a POST form recording the current search; an anonymous visitor does not."""
    assert 'id="record-search"' not in client.get(CATALOGUE, {"q": "coffre"}).content.decode()
    client.force_login(users["buyer"])
    response = client.get(CATALOGUE, {"q": "coffre", "service_model": "IaaS"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<form method="post" action="{reverse("procurement:search-record")}" id="record-search">' in html
    assert 'name="query_string" value="q=coffre&amp;service_model=IaaS"' in html
    assert 'id="record-search"' not in client.get(CATALOGUE, {"valid_on": "demain"}).content.decode()


# Offer page


@pytest.fixture
def foreign_offer(db, users, now):
    """A published offer of a US provider, qualified then suspended by ANSSI through the services."""
    provider = ProviderFactory(name="Nuage Américain", slug="nuage-us", seat_country="US",
                               largest_non_eu_holding=Decimal("100"), total_non_eu_holding=Decimal("100"))
    offer = OfferFactory(provider=provider, name="Calcul US", slug="calcul-us", locations=["FR", "US"])
    qualification = services.qualification_renew(
        offer=offer, user=users["qualifier"], reason="Décision initiale de l'ANSSI",
        values={"status": QualificationStatus.QUALIFIED, "decision_number": "2024-77",
                "qualified_on": now - timedelta(days=100), "conditions": "Réserve sur la journalisation"},
    )
    services.qualification_update(qualification=qualification, user=users["qualifier"],
                                  values={"status": QualificationStatus.SUSPENDED},
                                  reason="Audit de surveillance en cours")
    return offer


def test_offer_page_shows_qualification_history_eligibility_and_sovereignty(client, foreign_offer, now):
    """The offer page shows badge, decision, days left, each change with who and why, and the doctrine's reasons."""
    response = client.get(f"/catalogue/{foreign_offer.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    qualification = Qualification.objects.get(offer=foreign_offer, is_current=True)
    assert qualification.status == QualificationStatus.SUSPENDED
    assert "fr-badge--warning" in html and "Suspendue" in html
    assert "2024-77" in html and "Réserve sur la journalisation" in html
    days_left = (qualification.valid_until - now).days
    assert f"{days_left} jours restants" in html
    # History: both events, with the qualifier and the reasons.
    assert QualificationEvent.objects.filter(qualification=qualification).count() == 2
    assert html.count('class="courtier-history-event"') == 2
    assert "Décision initiale de l&#x27;ANSSI" in html and "Audit de surveillance en cours" in html
    assert "anssi" in html
    assert "Qualifiée → Suspendue" in html
    # Eligibility per sensitivity, with reasons.
    verdicts = {v.sensitivity: v for v in response.context["verdicts"]}
    assert verdicts["non_sensitive"].eligible and not verdicts["sensitive"].eligible
    assert 'id="eligibility-sensitive"' in html
    assert "hors de l&#x27;Union européenne : US" in html
    # Sovereignty: the US seat and holdings are named.
    assert "(US) n&#x27;est pas dans l&#x27;Union européenne" in html
    assert "au-delà du plafond individuel de 24 %" in html


def test_offer_page_of_a_qualified_offer_shows_success_and_sovereignty_pass(client, catalogue):
    """A qualified offer of an EU provider shows a green badge, its certification, price and §19.6 pass."""
    response = client.get("/catalogue/coffre/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "fr-badge--success" in html
    assert "remplit le critère de souveraineté" in html
    assert "HDS (hébergeur de données de santé)" in html
    assert "20 jours restants" in html
    assert all(v.eligible for v in response.context["verdicts"] if v.sensitivity != "restricted")


def test_offer_page_lists_frameworks_and_lots(client, catalogue, users):
    """The frameworks and lots an offer is referenced in appear; the discount only for buyers."""
    referencing = ReferencingFactory(offer=catalogue["coffre"], lot__title="Stockage", lot__number=3,
                                     lot__framework__reference="AC-2026-CLOUD")
    html = client.get("/catalogue/coffre/").content.decode()
    assert "AC-2026-CLOUD" in html and "Lot 3 — Stockage" in html
    assert "remise" not in html
    client.force_login(users["buyer"])
    html = client.get("/catalogue/coffre/").content.decode()
    assert f"remise {referencing.lot.framework.discount_percent:g} %" in html


def test_draft_offer_is_hidden_from_anonymous_and_other_vendors(client, catalogue, users):
    """A draft offer is 404 for anonymous visitors and another provider's vendor, and shows to its own vendor."""
    catalogue["brouillon"].provider = users["vendor"].profile.provider
    catalogue["brouillon"].save()
    url = "/catalogue/brouillon/"
    assert client.get(url).status_code == 404
    client.force_login(users["other_vendor"])
    assert client.get(url).status_code == 404
    client.force_login(users["vendor"])
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="offer-state"' in response.content.decode()
    assert Offer.objects.get(slug="brouillon").state == OfferState.DRAFT


def test_unknown_offer_gives_the_dsfr_404_page(client, db):
    """An unknown offer gives the DSFR "page not found" page with links back."""
    response = client.get("/catalogue/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page non trouvée" in html and 'href="/catalogue/"' in html


def test_only_buyers_see_the_order_link(client, catalogue, users):
    """A buyer gets a "Commander" link carrying the offer; an anonymous visitor and a vendor do not."""
    assert 'id="order-link"' not in client.get("/catalogue/coffre/").content.decode()
    client.force_login(users["vendor"])
    assert 'id="order-link"' not in client.get("/catalogue/coffre/").content.decode()
    client.force_login(users["buyer"])
    html = client.get("/catalogue/coffre/").content.decode()
    assert f'href="{reverse("procurement:order-create")}?offer=coffre"' in html


# Provider page


def test_provider_page_shows_legal_data_sovereignty_and_visible_offers(client, catalogue):
    """The provider page shows legal data, holdings, locations, the §19.6 check and only its published offers."""
    alpha = catalogue["alpha"]
    alpha.siren = "123456789"
    alpha.vat_number = "FR12123456789"
    alpha.largest_non_eu_holding = Decimal("12.5")
    alpha.total_non_eu_holding = Decimal("20")
    alpha.support_locations = ["FR", "DE"]
    alpha.save()
    response = client.get("/fournisseurs/alpha/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Alpha Cloud SAS" in html and "123456789" in html and "FR12123456789" in html
    assert "12,5 %" in html and "20 %" in html
    assert "France, Allemagne" in html
    assert "remplit le critère de souveraineté" in html
    assert [offer.slug for offer in response.context["offers"]] == ["coffre"]
    assert "/catalogue/brouillon/" not in html


def test_provider_page_names_each_failed_sovereignty_point(client, foreign_offer):
    """A provider seated in the US fails §19.6 and the page says why, point by point."""
    response = client.get("/fournisseurs/nuage-us/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "ne remplit pas le critère de souveraineté" in html
    assert "États-Unis" in html
    assert len(foreign_offer.provider.sovereignty_failures) == 3
    assert "au-delà du plafond collectif de 39 %" in html


def test_provider_without_published_offer_is_404_except_for_its_vendor(client, users):
    """A provider with nothing published is not public; its own vendor still sees it."""
    provider = users["vendor"].profile.provider
    OfferFactory(provider=provider, state=OfferState.DRAFT)
    url = f"/fournisseurs/{provider.slug}/"
    assert client.get(url).status_code == 404
    client.force_login(users["vendor"])
    assert client.get(url).status_code == 200


# Language, login and error pages


@pytest.mark.parametrize("url", ["/", CATALOGUE, "/catalogue/coffre/", "/fournisseurs/alpha/", "/connexion/"])
def test_pages_render_in_english_with_the_language_cookie(client, catalogue, url):
    """With the django_language cookie set to "en", each page renders with lang="en"."""
    client.cookies["django_language"] = "en"
    response = client.get(url)
    assert response.status_code == 200
    assert '<html lang="en"' in response.content.decode()


def test_pages_are_french_by_default(client, catalogue):
    """Without a cookie the catalogue speaks French."""
    assert '<html lang="fr"' in client.get(CATALOGUE).content.decode()


def test_login_page_uses_dsfr_form_and_returns_home(client, users):
    """The login page is a DSFR form; a good login without `next` goes to the home page, a bad one says so."""
    page = client.get("/connexion/")
    assert page.status_code == 200
    assert 'class="fr-input"' in page.content.decode()
    assert 'name="next" value="/"' in page.content.decode()
    refused = client.post("/connexion/", {"username": "acheteur", "password": "wrong", "next": "/"})
    assert refused.status_code == 200
    assert 'id="login-errors"' in refused.content.decode()
    assert "_auth_user_id" not in client.session
    accepted = client.post("/connexion/", {"username": "acheteur", "password": "password-123", "next": "/"})
    assert accepted.status_code == 302 and accepted.url == "/"
    assert client.session["_auth_user_id"] == str(users["buyer"].pk)


def test_login_and_logout_without_next_go_home(client, users):
    """Signing in or out without a `next` parameter lands on the home page (never a 500)."""
    signed_in = client.post("/connexion/", {"username": "acheteur", "password": "password-123"})
    assert signed_in.status_code == 302 and signed_in.url == "/"
    assert client.session["_auth_user_id"] == str(users["buyer"].pk)
    signed_out = client.post("/deconnexion/")
    assert signed_out.status_code == 302 and signed_out.url == "/"
    assert "_auth_user_id" not in client.session


def test_500_page_renders_without_a_request(db):
    """The 500 page renders with no context at all (as Django's handler does) in the DSFR look."""
    html = render_to_string("500.html")
    assert "Erreur 500" in html and "fr-header" in html
