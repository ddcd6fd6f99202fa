"""The catalogue pages' markup that is rendered once and reused (badges, eligibility, facets) stays right."""

import re
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from catalogue import selectors
from catalogue.models import QualificationStatus
from tests.factories import OfferFactory, ProviderFactory, QualificationFactory

CATALOGUE = "/catalogue/"


def cards(response) -> dict[str, str]:
    """Each result card's markup, by offer name."""
    html = response.content.decode()
    found = {}
    for card in html.split('<div class="fr-card fr-enlarge-link courtier-offer-card">')[1:]:
        name = re.search(r'<h3 class="fr-card__title"><a href="[^"]+">([^<]+)</a>', card).group(1)
        found[name] = card
    return found


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def mixed_page(db):
    """Five published offers of one French provider, hosted in France, with different decisions."""
    today = selectors.today_local()
    provider = ProviderFactory(name="Alpha Cloud", slug="alpha")
    offers = {name: OfferFactory(provider=provider, name=name, slug=name.lower(), locations=["FR"])
              for name in ("Aucune", "Qualifiee", "Qualifiee2", "Suspendue", "Jalon")}
    QualificationFactory(offer=offers["Qualifiee"], qualified_on=today - timedelta(days=30),
                         valid_until=today + timedelta(days=20))
    QualificationFactory(offer=offers["Qualifiee2"], qualified_on=today - timedelta(days=1000),
                         valid_until=today + timedelta(days=1))
    QualificationFactory(offer=offers["Suspendue"], status=QualificationStatus.SUSPENDED,
                         qualified_on=today - timedelta(days=30), valid_until=today + timedelta(days=300))
    QualificationFactory(offer=offers["Jalon"], status=QualificationStatus.IN_PROGRESS, milestone="J1",
                         qualified_on=None, valid_until=None)
    return offers


def test_each_card_shows_its_own_badge_validity_and_eligibility(client, mixed_page):
    """Cards sharing a status share its badge, yet each shows its own end date and eligibility."""
    response = client.get(CATALOGUE)
    shown = {name: text(card) for name, card in cards(response).items()}

    assert response.status_code == 200
    assert set(shown) == set(mixed_page)
    assert "Sans qualification SecNumCloud" in shown["Aucune"]
    assert "Valable" not in shown["Aucune"]
    assert "SecNumCloud · Qualifiée Valable jusqu'au" in shown["Qualifiee"]
    assert shown["Qualifiee"].endswith("20 jours restants Non sensibles éligible Sensibles éligible "
                                       "Données de santé non éligible Diffusion Restreinte non éligible")
    assert "1 jour restant" in shown["Qualifiee2"]
    assert "SecNumCloud · Suspendue" in shown["Suspendue"]
    assert "300 jours restants" in shown["Suspendue"]
    assert "Sensibles non éligible" in shown["Suspendue"]
    assert "SecNumCloud · En cours de qualification (J1)" in shown["Jalon"]
    assert "Fin de validité non connue" in shown["Jalon"]
    for name in ("Aucune", "Suspendue", "Jalon"):
        assert "Non sensibles éligible Sensibles non éligible" in shown[name]


@pytest.mark.parametrize(("days", "french", "english"), [
    (20, "20 jours restants", "20 days remaining"),
    (1, "1 jour restant", "1 day remaining"),
    (0, "dernier jour de validité", "last day of validity"),
    (-1, "échue depuis 1 jour", "expired 1 day ago"),
    (-3, "échue depuis 3 jours", "expired 3 days ago"),
])
def test_validity_line_says_the_days_left_in_each_language(days, french, english):
    """The validity line gives the end date and the days left (or since when it lapsed), in French and English."""
    today = date(2026, 3, 10)
    values = {"valid_until": today + timedelta(days=days), "today": today}
    with translation.override("fr"):
        assert text(render_to_string("catalogue/_validity.html", values)).endswith(f"— {french}")
    with translation.override("en"):
        assert text(render_to_string("catalogue/_validity.html", values)).endswith(f"— {english}")
    with translation.override("fr"):
        assert "Valable jusqu'au 30 mars 2026" in render_to_string(
            "catalogue/_validity.html", {"valid_until": date(2026, 3, 30), "today": today})
        assert "Fin de validité non connue" in render_to_string(
            "catalogue/_validity.html", {"valid_until": None, "today": today})


def test_facets_follow_the_language_the_choice_and_the_catalogue(client, mixed_page):
    """The same search's facets change with the language, the ticked values and every catalogue change."""
    french = client.get(CATALOGUE).content.decode()
    client.cookies["django_language"] = "en"
    english = client.get(CATALOGUE).content.decode()
    client.cookies["django_language"] = "fr"
    ticked = client.get(CATALOGUE, {"service_model": "SaaS"}).content.decode()
    OfferFactory(provider=mixed_page["Aucune"].provider, name="Nouvelle", slug="nouvelle", service_model="SaaS")
    grown = client.get(CATALOGUE, {"service_model": "SaaS"}).content.decode()

    assert "Modèle de service" in french and "Service model" not in french
    assert "Service model" in english and "Modèle de service" not in english
    saas = re.compile(r'value="SaaS"( checked)?>\s*<label[^>]*>\s*<span>SaaS <span class="courtier-count" '
                      r'data-count="(\d+)">')
    assert re.search(saas, french).groups() == (None, "0")
    assert re.search(saas, ticked).groups() == (" checked", "0")
    assert re.search(saas, grown).groups() == (" checked", "1")
    assert "Nouvelle" in grown
    assert french.count('<fieldset class="fr-fieldset" id="facet-') == 7
    assert english.count('<fieldset class="fr-fieldset" id="facet-') == 7
