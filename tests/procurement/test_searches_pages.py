"""Recorded-search pages: record from the catalogue, the list, the frozen detail and the CSV download."""

import csv
import io
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from catalogue.models import QualificationStatus
from catalogue.services import qualification_update
from procurement.models import RecordedSearch
from procurement.services.searches import search_record
from tests.factories import OfferFactory, QualificationFactory

RECORD_URL = "/recherches/enregistrer/"


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def offers(db, provider, other_provider):
    alpha = OfferFactory(provider=provider, name="Alpha IaaS", slug="alpha-iaas", service_model="IaaS")
    QualificationFactory(offer=alpha, decision_number="2024-101", qualified_on=date(2025, 3, 1),
                         valid_until=date(2028, 3, 1))
    beta = OfferFactory(provider=other_provider, name="Beta; \"PaaS\"", slug="beta-paas", service_model="PaaS")
    return {"alpha": alpha, "beta": beta}


@pytest.fixture
def own_search(users, offers, today):
    return search_record(user=users["buyer"], query_string="service_model=IaaS", title="SI RH", today=today)


@pytest.fixture
def foreign_search(users, offers, today):
    return search_record(user=users["other_buyer"], query_string="service_model=PaaS", title="Armées", today=today)


def test_urls_match_the_contract():
    """The named routes are the public French paths."""
    assert reverse("procurement:search-record") == RECORD_URL
    assert reverse("procurement:search-list") == "/recherches/"
    assert reverse("procurement:search-detail", args=[7]) == "/recherches/7/"
    assert reverse("procurement:search-csv", args=[7]) == "/recherches/7/export.csv"


@pytest.mark.parametrize("role", ["buyer", "approver"])
def test_record_from_the_catalogue_redirects_to_the_search(users, offers, role):
    """Posting the catalogue's query string records it and redirects to the detail with a success message."""
    response = client_for(users[role]).post(RECORD_URL, {"query_string": "service_model=IaaS", "title": "Comparatif"})

    search = RecordedSearch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/recherches/{search.pk}/"
    assert (search.owner, search.title, search.result_count) == (users[role], "Comparatif", 1)
    assert any("Recherche enregistrée" in message for message in messages_of(response))


def test_record_refusal_returns_to_the_catalogue_with_the_reason(users, offers):
    """An invalid filter sends the buyer back to the same catalogue search with an error naming it."""
    response = client_for(users["buyer"]).post(RECORD_URL, {"query_string": "service_model=XaaS&q=calcul"})

    assert response.status_code == 302
    assert response["Location"] == "/catalogue/?service_model=XaaS&q=calcul"
    assert any("service_model" in message for message in messages_of(response))
    assert not RecordedSearch.objects.exists()


def test_record_anonymous_goes_to_login(offers):
    """An anonymous visitor is sent to the login page and nothing is recorded."""
    response = client_for(None).post(RECORD_URL, {"query_string": ""})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not RecordedSearch.objects.exists()


@pytest.mark.parametrize("role", ["vendor", "qualifier", "catalogue_manager"])
def test_record_forbidden_to_other_roles(users, offers, role):
    """Vendors, ANSSI staff and catalogue managers get 403 and nothing is recorded."""
    response = client_for(users[role]).post(RECORD_URL, {"query_string": ""})

    assert response.status_code == 403
    assert not RecordedSearch.objects.exists()


def test_record_only_by_post(users, offers):
    """GET on the record URL is refused (405): recording changes state."""
    assert client_for(users["buyer"]).get(RECORD_URL).status_code == 405
    assert not RecordedSearch.objects.exists()


@pytest.mark.parametrize(("role", "sees_own", "sees_foreign"), [
    ("buyer", True, False), ("approver", True, False), ("other_buyer", False, True),
    ("catalogue_manager", True, True),
])
def test_list_shows_the_organisation_searches(users, own_search, foreign_search, role, sees_own, sees_foreign):
    """The list shows the caller's administration's searches (all of them for a manager)."""
    response = client_for(users[role]).get("/recherches/")

    assert response.status_code == 200
    page = response.content.decode()
    assert ("SI RH" in page) is sees_own
    assert ("Armées" in page) is sees_foreign
    shown = {search.pk for search, _words in response.context["rows"]}
    assert shown == {pk for pk, seen in ((own_search.pk, sees_own), (foreign_search.pk, sees_foreign)) if seen}


@pytest.mark.parametrize(("role", "status"), [("vendor", 403), ("qualifier", 403)])
def test_list_forbidden_to_other_roles(users, own_search, role, status):
    """Vendors and ANSSI staff have no recorded searches page."""
    assert client_for(users[role]).get("/recherches/").status_code == status


def test_list_anonymous_goes_to_login(own_search):
    """An anonymous visitor is asked to log in."""
    response = client_for(None).get("/recherches/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(("role", "status"), [
    ("buyer", 200), ("approver", 200), ("catalogue_manager", 200),
    ("other_buyer", 404), ("other_approver", 404), ("vendor", 403), ("qualifier", 403),
])
def test_detail_by_role(users, own_search, role, status):
    """Same administration and managers read the frozen list; another administration gets 404."""
    response = client_for(users[role]).get(f"/recherches/{own_search.pk}/")

    assert response.status_code == status
    if status == 200:
        page = response.content.decode()
        assert "Alpha IaaS" in page and "2024-101" in page
        assert 'href="/catalogue/?service_model=IaaS"' in page
        assert "catalogue actuel" in page
        assert f'href="/recherches/{own_search.pk}/export.csv"' in page


def test_detail_offers_ordering_to_buyers_only(users, own_search):
    """A buyer gets an order link carrying the offer and the search; a manager gets none."""
    link = f"/commandes/nouvelle/?offer=alpha-iaas&amp;search={own_search.pk}"

    assert link in client_for(users["buyer"]).get(f"/recherches/{own_search.pk}/").content.decode()
    assert link not in client_for(users["catalogue_manager"]).get(f"/recherches/{own_search.pk}/").content.decode()


def test_detail_anonymous_goes_to_login(own_search):
    """An anonymous visitor is asked to log in."""
    response = client_for(None).get(f"/recherches/{own_search.pk}/")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_detail_stays_frozen_after_suspension_and_rename(users, own_search, offers):
    """After the qualification is suspended and the offer renamed, the page shows the recorded values."""
    alpha = offers["alpha"]
    qualification_update(qualification=alpha.qualifications.get(is_current=True), user=users["qualifier"],
                         values={"status": QualificationStatus.SUSPENDED}, reason="Audit")
    alpha.name = "Alpha renommée"
    alpha.save()

    page = client_for(users["buyer"]).get(f"/recherches/{own_search.pk}/").content.decode()

    assert "Alpha IaaS" in page and "Alpha renommée" not in page
    assert "Qualifiée" in page and "Suspendue" not in page


def _csv_rows(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_csv_content(users, offers, today):
    """UTF-8 with BOM, ';' separated: a header block (time in Paris, administration, filters), then the offers."""
    search = search_record(user=users["buyer"], query_string="service_model=IaaS&service_model=PaaS&ordering=name",
                           title="Comparatif", today=today)

    response = client_for(users["buyer"]).get(f"/recherches/{search.pk}/export.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    paris_day = search.created_at.astimezone(ZoneInfo("Europe/Paris")).date()
    assert response["Content-Disposition"] == f'attachment; filename="recherche-{search.pk}-{paris_day:%Y-%m-%d}.csv"'

    rows = _csv_rows(response)
    header = {row[0]: row[1:] for row in rows[:10] if row}
    assert header["Recherche enregistrée"] == [str(search.pk), "Comparatif"]
    stamp = header["Date et heure (Europe/Paris)"][0]
    assert stamp.endswith(("+01:00", "+02:00"))
    assert header["Administration"] == ["Ministère de l'Intérieur"]
    assert header["Accord-cadre"] == ["Aucun (tout le catalogue)"]
    assert header["Filtre : Modèle de service"] == ["IaaS, PaaS"]
    assert header["Paramètres de la recherche"] == ["service_model=IaaS&service_model=PaaS&ordering=name"]
    assert header["Nombre d'offres"] == ["2"]
    columns = rows.index(["Rang", "Fournisseur", "Offre", "Modèle de service", "Qualification SecNumCloud",
                          "Numéro de décision", "Qualifiée le", "Valable jusqu'au"])
    assert rows[columns + 1:] == [
        ["1", "OVHcloud", "Alpha IaaS", "IaaS", "Qualifiée", "2024-101", "2025-03-01", "2028-03-01"],
        ["2", "Outscale", 'Beta; "PaaS"', "PaaS", "Sans qualification", "", "", ""],
    ]
    assert b'"Beta; ""PaaS"""' in response.content


def test_csv_neutralises_formulas(users, provider, today):
    """A vendor-supplied name starting with '=' is written as text so a spreadsheet never evaluates it."""
    OfferFactory(provider=provider, name="=HYPERLINK(\"http://x\")", slug="piege", service_model="SaaS")
    search = search_record(user=users["buyer"], query_string="service_model=SaaS", today=today)

    rows = _csv_rows(client_for(users["buyer"]).get(f"/recherches/{search.pk}/export.csv"))

    assert rows[-1][2] == "'=HYPERLINK(\"http://x\")"
    assert search.items.get().offer_name == "=HYPERLINK(\"http://x\")"


def test_csv_stays_frozen_after_catalogue_changes(users, own_search, offers):
    """The CSV still lists the recorded name and status after suspension and renaming."""
    alpha = offers["alpha"]
    qualification_update(qualification=alpha.qualifications.get(is_current=True), user=users["qualifier"],
                         values={"status": QualificationStatus.SUSPENDED}, reason="Audit")
    alpha.name = "Alpha renommée"
    alpha.save()

    rows = _csv_rows(client_for(users["buyer"]).get(f"/recherches/{own_search.pk}/export.csv"))

    assert rows[-1] == ["1", "OVHcloud", "Alpha IaaS", "IaaS", "Qualifiée", "2024-101", "2025-03-01", "2028-03-01"]


@pytest.mark.parametrize(("role", "status"), [
    ("buyer", 200), ("approver", 200), ("catalogue_manager", 200),
    ("other_buyer", 404), ("other_approver", 404), ("vendor", 403), ("qualifier", 403),
])
def test_csv_by_role(users, own_search, role, status):
    """The download follows the detail page's rules: another administration gets 404."""
    response = client_for(users[role]).get(f"/recherches/{own_search.pk}/export.csv")

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "text/csv; charset=utf-8"


def test_csv_anonymous_goes_to_login(own_search):
    """An anonymous visitor is asked to log in before downloading."""
    response = client_for(None).get(f"/recherches/{own_search.pk}/export.csv")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
