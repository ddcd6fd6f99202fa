"""The observatory page and its CSVs: who sees what, filters, bad parameters, CSV format, query count."""

import csv
import io
import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procurement.models import OrderStatus
from procurement.observatory_figures import FIGURES
from procurement.views import observatory as views
from tests.procurement.observatory_builders import TODAY, build_world, make_order, paris

pytestmark = pytest.mark.django_db

PAGE = reverse("procurement:observatory")
PUBLIC_ROLES = ("anonymous", "buyer", "approver", "vendor")
FULL_ROLES = ("qualifier", "catalogue_manager")
FULL_ONLY = {"depenses-par-administration", "risques-continuite-commandes"}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    """The view reads the clock through today_local(): pin it to the world's day."""
    monkeypatch.setattr(views, "today_local", lambda: TODAY)


@pytest.fixture
def world(users):
    return build_world()


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def csv_url(figure: str, query: str = "") -> str:
    url = reverse("procurement:observatory-csv", args=[figure])
    return f"{url}?{query}" if query else url


def read_csv(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


@pytest.mark.parametrize("role", PUBLIC_ROLES + FULL_ROLES)
def test_every_role_sees_the_page(world, users, role):
    """Everyone gets the page; per-administration and per-order sections only in the full version."""
    response = client_for(users[role]).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    full = role in FULL_ROLES
    assert ('id="figure-depenses-par-administration"' in html) == full
    assert ('id="figure-risques-continuite-commandes"' in html) == full
    assert ("Ministère A" in html) == full
    assert ("BC-TEST-o1" in html) == full
    # The public version still has the spend figures and the aggregated risks.
    assert 'id="figure-depenses-par-fournisseur"' in html and 'id="figure-risques-continuite"' in html


@pytest.mark.parametrize("role", PUBLIC_ROLES + FULL_ROLES)
@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_csv_matrix(world, users, role, figure):
    """Every CSV answers 200 to its readers; the full-only ones are 404 for the public."""
    response = client_for(users[role]).get(csv_url(figure))
    expected = 404 if figure in FULL_ONLY and role not in FULL_ROLES else 200
    assert response.status_code == expected
    if expected == 200:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == (
            f'attachment; filename="observatoire-{figure}-2025-12-01-2026-11-22.csv"')


def test_unknown_figure_is_404(world, users):
    """A CSV name that is no figure is not found."""
    assert client_for(users["catalogue_manager"]).get(csv_url("inconnu")).status_code == 404


def test_summary_csv_values(world):
    """The summary CSV: BOM, semicolons, French headers, exact amounts with a decimal comma."""
    response = client_for(None).get(csv_url("depenses-synthese"))
    rows = read_csv(response)
    assert ";" in response.content.decode().splitlines()[0]
    assert rows == [
        ["Indicateur", "Valeur"],
        ["Commandes validées ou exécutées", "6"],
        ["Montant commandé HT", "2150,00"],
        ["dont offres qualifiées SecNumCloud", "1600,00"],
        ["Part SecNumCloud", "74,4"],
        ["dont fournisseurs à siège dans l'UE", "1900,00"],
        ["Part des fournisseurs à siège dans l'UE", "88,4"],
        ["Commandes soumises, en attente de validation", "1"],
        ["Montant soumis HT (non compté ci-dessus)", "700,00"],
    ]


def test_csvs_keep_the_filters(world):
    """Period and framework apply to the CSV as to the page."""
    query = "du=2025-11-01&au=2026-11-22&framework=ac-a"
    rows = read_csv(client_for(None).get(csv_url("depenses-par-fournisseur", query)))
    assert rows == [
        ["Fournisseur", "Pays du siège", "Commandes", "Montant HT", "dont SecNumCloud", "Part SecNumCloud"],
        ["Nuage Français", "France", "4", "2000,00", "2000,00", "100,0"],
        ["Wolke GmbH", "Allemagne", "1", "300,00", "0,00", "0,0"],
    ]


def test_month_and_lot_and_country_csvs(world):
    """Monthly CSV has every month as YYYY-MM; lots and countries carry their framework and EU flag."""
    months = read_csv(client_for(None).get(csv_url("depenses-par-mois")))
    assert months[0] == ["Mois", "Commandes", "Montant HT", "dont SecNumCloud", "Part SecNumCloud", "dont siège UE"]
    assert [row[0] for row in months[1:]] == ["2025-12"] + [f"2026-{month:02d}" for month in range(1, 12)]
    assert months[4] == ["2026-03", "2", "800,00", "500,00", "62,5", "800,00"]
    assert months[2] == ["2026-01", "1", "1000,00", "1000,00", "100,0", "1000,00"]
    assert months[3] == ["2026-02", "0", "0,00", "0,00", "", "0,00"]
    lots = read_csv(client_for(None).get(csv_url("depenses-par-lot")))
    assert lots[1:] == [["AC-A", "1 — Infrastructure", "3", "1600,00", "1600,00", "100,0"],
                        ["AC-A", "2 — Plateformes", "1", "300,00", "0,00", "0,0"],
                        ["AC-B", "1 — Cloud public", "2", "250,00", "0,00", "0,0"]]
    countries = read_csv(client_for(None).get(csv_url("depenses-par-pays")))
    assert countries[1:] == [["France", "Oui", "3", "1600,00", "74,4"], ["Allemagne", "Oui", "1", "300,00", "14,0"],
                             ["États-Unis", "Non", "2", "250,00", "11,6"]]


def test_organisation_and_risk_csvs_for_managers(world, users):
    """Managers download spend per administration and the at-risk orders themselves."""
    client = client_for(users["catalogue_manager"])
    organisations = read_csv(client.get(csv_url("depenses-par-administration")))
    assert organisations == [
        ["Administration", "Commandes", "Montant HT", "dont SecNumCloud", "Part SecNumCloud"],
        ["Ministère A", "3", "1400,00", "1100,00", "78,6"],
        ["Agence B", "3", "750,00", "500,00", "66,7"],
    ]
    orders = read_csv(client.get(csv_url("risques-continuite-commandes")))
    assert orders[0] == ["Référence", "Administration", "Offre", "Fournisseur", "Statut", "Montant HT",
                         "Fin du service", "Fin de qualification"]
    assert orders[1:] == [
        ["BC-TEST-o5", "Ministère A", "Calcul FR", "Nuage Français", "Soumise", "700,00", "2027-06-15", "2027-03-15"],
        ["BC-TEST-o1", "Ministère A", "Calcul FR", "Nuage Français", "Validée", "1000,00", "2027-06-30",
         "2027-03-15"],
    ]
    public_risks = read_csv(client_for(None).get(csv_url("risques-continuite")))
    assert public_risks == [["Mois de fin du service", "Fournisseur", "Commandes", "Montant HT"],
                            ["2027-06", "Nuage Français", "2", "1700,00"]]


def test_qualification_csvs(world, users):
    """Expiring decisions (published offers for the public, all for qualifiers) and the 24 month-end counts."""
    public = read_csv(client_for(None).get(csv_url("qualifications-echeances-offres")))
    assert [row[:3] for row in public[1:]] == [["2026-11-22", "Nuage Français", "Messagerie"],
                                               ["2027-03-15", "Nuage Français", "Calcul FR"]]
    full = read_csv(client_for(users["qualifier"]).get(csv_url("qualifications-echeances-offres")))
    assert [row[2] for row in full[1:]] == ["Messagerie", "Brouillon", "Calcul FR"]
    over_time = read_csv(client_for(None).get(csv_url("offres-qualifiees")))
    assert over_time[0] == ["Date", "Offres qualifiées"] and len(over_time) == 25
    assert over_time[1] == ["2024-12-31", "3"] and over_time[-1] == ["2026-11-22", "4"]
    states = read_csv(client_for(None).get(csv_url("offres-par-etat")))
    assert states[1:] == [["IaaS", "Publiée", "3"], ["PaaS", "Publiée", "1"], ["SaaS", "Publiée", "2"]]
    months = read_csv(client_for(None).get(csv_url("qualifications-echeances")))
    assert months[1] == ["2026-11", "1"] and months[5] == ["2027-03", "1"] and len(months) == 14


def test_csv_guards_against_formulas(world):
    """A provider name starting with '=' is written as text in the CSV."""
    world.offers["us"].provider.__class__.objects.filter(pk=world.offers["us"].provider_id).update(
        name="=HYPERLINK(1)")
    rows = read_csv(client_for(None).get(csv_url("depenses-par-fournisseur")))
    assert ["'=HYPERLINK(1)", "États-Unis", "2", "250,00", "0,00", "0,0"] in rows


@pytest.mark.parametrize(("query", "parameter"), [
    ("du=2026-13-01", "du"),
    ("au=hier", "au"),
    ("du=2026-06-01&au=2026-01-01", "au"),
    ("framework=inconnu", "framework"),
    ("du=1850-01-01", "du"),
    ("du=2000-01-01&au=2026-01-01", "du"),
])
def test_bad_parameters_answer_400_naming_them(world, query, parameter):
    """A malformed or inconsistent parameter gives a 400 page naming it, never a 500; the CSV too."""
    response = client_for(None).get(f"{PAGE}?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<code>{parameter}</code>" in html and 'id="observatory-errors"' in html
    assert "figure-depenses-synthese" not in html
    assert client_for(None).get(csv_url("depenses-synthese", query)).status_code == 400


def test_page_shows_period_framework_and_csv_links_with_filters(world):
    """The filters are echoed, and every CSV link carries them."""
    response = client_for(None).get(f"{PAGE}?du=2026-01-01&au=2026-06-30&framework=ac-b")
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 janvier 2026" in html and "30 juin 2026" in html and "AC-B" in html
    links = re.findall(r'href="(/observatoire/[^"]+\.csv\?[^"]*)"', html)
    assert len(links) == len(FIGURES) - len(FULL_ONLY)
    assert all("du=2026-01-01&amp;au=2026-06-30&amp;framework=ac-b" in link for link in links)
    assert "Télécharger (CSV)" in html


def test_page_charts_are_accessible_and_match_tables(world):
    """Each chart is an SVG with role=img, a title and a desc it names; its numbers are those of its table."""
    html = client_for(None).get(PAGE).content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert len(svgs) == 9
    for svg in svgs:
        chart_id = re.search(r'aria-labelledby="([^ "]+)-title \1-desc"', svg).group(1)
        assert 'role="img"' in svg and f'<title id="{chart_id}-title">' in svg and f'<desc id="{chart_id}-desc">' in svg
        assert "style=" not in svg
    summary = re.search(r'id="figure-depenses-synthese".*?</section>', html, flags=re.S).group(0)
    assert "74,4 %" in summary and "88,4 %" in summary
    assert summary.count("74,4 %") >= 2  # in the chart and in the table
    providers = re.search(r'id="figure-depenses-par-fournisseur".*?</section>', html, flags=re.S).group(0)
    for amount in ("1\u00a0600 €", "300 €", "250 €"):
        assert providers.count(amount) >= 2, amount
    assert '<caption id="caption-depenses-par-fournisseur">' in providers
    assert '<th scope="col">' in providers and '<th scope="row">' in providers


def test_page_has_no_inline_script_or_style(world, users):
    """The page obeys the CSP: no inline script, no style attribute, no third-party host."""
    html = client_for(users["catalogue_manager"]).get(PAGE).content.decode()
    main = html[html.index('id="content"'):html.index("<footer")]
    assert "style=" not in main and "<script" not in main and "<style" not in main
    assert all('src="' in tag or "nonce=" in tag for tag in re.findall(r"<script[^>]*>", html))
    assert "https://" not in main


def _page_queries(user) -> int:
    client = client_for(user)
    client.get(PAGE)  # warm the session and any per-process cache
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_orders(world, users, settings):
    """The page runs the same number of queries with 5 more orders as with 50 more (full and public), uncached."""
    settings.OBSERVATORY_CACHE_SECONDS = 0
    creator = users["buyer"]

    def add_orders(count: int, start: int) -> None:
        for index in range(start, start + count):
            make_order(key=f"x{index}", offer=world.offers["fr" if index % 2 else "us"],
                       lot=world.lots["A1"], organisation=world.org1 if index % 3 else world.org2, creator=creator,
                       status=OrderStatus.APPROVED if index % 2 else OrderStatus.FULFILLED, amount="10",
                       submitted_at=paris(date(2026, 1 + index % 10, 3)), qualified=bool(index % 2),
                       risk=index % 4 == 0)

    add_orders(5, 0)
    full_small, public_small = _page_queries(users["catalogue_manager"]), _page_queries(None)
    add_orders(45, 5)
    full_large, public_large = _page_queries(users["catalogue_manager"]), _page_queries(None)
    assert (full_large, public_large) == (full_small, public_small)
    assert full_small <= 25 and public_small <= 20, (full_small, public_small)


def test_figures_are_cached_per_scope(world, users):
    """A second view within the cache's lifetime reads no order; the public never gets the full version's figures."""
    manager = client_for(users["catalogue_manager"])
    first = manager.get(PAGE).content.decode()
    with CaptureQueriesContext(connection) as queries:
        again = manager.get(PAGE).content.decode()
    assert not [query for query in queries.captured_queries if "procurement_order" in query["sql"]]
    assert 'id="figure-depenses-par-administration"' in first and 'id="figure-depenses-par-administration"' in again
    public = client_for(None).get(PAGE).content.decode()
    assert 'id="figure-depenses-par-administration"' not in public and "Ministère A" not in public
    assert "Chiffres recalculés au plus toutes les 5 minutes." in public


def test_long_lists_stop_on_the_page_and_continue_in_the_csv(world, users, monkeypatch):
    """Past the page's limit, the list says how many rows the CSV adds; the CSV has them all."""
    monkeypatch.setattr("procurement.selectors.observatory.LIST_LIMIT", 1)
    client = client_for(users["catalogue_manager"])
    html = client.get(PAGE).content.decode()
    risks = re.search(r'id="figure-risques-continuite-commandes".*?</section>', html, flags=re.S).group(0)
    assert "BC-TEST-o5" in risks and "BC-TEST-o1" not in risks
    assert "1 ligne de plus dans le fichier CSV." in risks
    rows = read_csv(client.get(csv_url("risques-continuite-commandes")))
    assert [row[0] for row in rows[1:]] == ["BC-TEST-o5", "BC-TEST-o1"]
