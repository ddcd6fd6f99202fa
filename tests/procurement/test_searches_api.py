"""The searches/ API: record, list, read and download, for every role."""

import csv
import io
from datetime import date

import pytest

from catalogue.models import Offer, OfferState, QualificationStatus
from catalogue.services import qualification_update
from procurement.models import RecordedSearch
from procurement.services.searches import MAX_RECORDED_RESULTS, search_record
from tests.factories import OfferFactory, QualificationFactory

URL = "/api/v1/searches/"


@pytest.fixture
def offers(db, provider, other_provider):
    alpha = OfferFactory(provider=provider, name="Alpha IaaS", slug="alpha-iaas", service_model="IaaS")
    QualificationFactory(offer=alpha, decision_number="2024-101", qualified_on=date(2025, 3, 1),
                         valid_until=date(2028, 3, 1))
    beta = OfferFactory(provider=other_provider, name="Beta PaaS", slug="beta-paas", service_model="PaaS")
    return {"alpha": alpha, "beta": beta}


@pytest.fixture
def own_search(users, offers, today):
    return search_record(user=users["buyer"], query_string="service_model=IaaS", title="SI RH", today=today)


@pytest.fixture
def foreign_search(users, offers, today):
    return search_record(user=users["other_buyer"], query_string="", today=today)


@pytest.mark.parametrize("role", ["buyer", "approver", "other_buyer", "other_approver"])
def test_buyers_and_approvers_record(api, users, offers, role):
    """Buyers and approvers get 201 with the frozen items, filed under their own administration."""
    response = api(users[role]).post(URL, {"query_string": "service_model=IaaS", "title": "Comparatif"},
                                     format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["result_count"] == 1
    assert body["filters"] == {"service_model": ["IaaS"]}
    assert body["items"][0]["offer"] == "alpha-iaas"
    assert body["items"][0]["qualification_status"] == "qualified"
    assert body["items"][0]["decision_number"] == "2024-101"
    search = RecordedSearch.objects.get(pk=body["id"])
    assert search.owner == users[role]
    assert search.organisation == users[role].profile.organisation
    assert search.title == "Comparatif"


def test_anonymous_cannot_record(api, offers):
    """An anonymous request is told to authenticate (401) and nothing is recorded."""
    response = api(None).post(URL, {"query_string": ""}, format="json")

    assert response.status_code == 401
    assert not RecordedSearch.objects.exists()


@pytest.mark.parametrize("role", ["vendor", "other_vendor", "qualifier", "catalogue_manager"])
def test_other_roles_cannot_record(api, users, offers, role):
    """Vendors, ANSSI staff and catalogue managers get 403 on record and nothing is stored."""
    response = api(users[role]).post(URL, {"query_string": ""}, format="json")

    assert response.status_code == 403
    assert not RecordedSearch.objects.exists()


def test_invalid_filter_answers_400_naming_the_parameter(api, users, offers):
    """A bad filter answers 400 with code invalid_filter and the parameter in field and detail."""
    response = api(users["buyer"]).post(URL, {"query_string": "qualification=certain"}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert body["field"] == "qualification"
    assert "qualification" in body["detail"]
    assert not RecordedSearch.objects.exists()


def test_missing_query_string_answers_400(api, users, offers):
    """The body must carry query_string (possibly empty): without it, 400 naming the field."""
    response = api(users["buyer"]).post(URL, {"title": "Sans paramètres"}, format="json")

    assert response.status_code == 400
    assert "query_string" in response.json()
    assert not RecordedSearch.objects.exists()


def test_too_many_results_answers_400(api, users, provider):
    """Beyond 1000 matching offers the API answers 400 too_many_results and stores nothing."""
    Offer.objects.bulk_create([
        Offer(provider=provider, name=f"Offre {n}", slug=f"offre-masse-{n}", service_model="SaaS",
              state=OfferState.PUBLISHED)
        for n in range(MAX_RECORDED_RESULTS + 1)
    ])

    response = api(users["buyer"]).post(URL, {"query_string": ""}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "too_many_results"
    assert not RecordedSearch.objects.exists()


@pytest.mark.parametrize(("role", "expected"), [
    ("buyer", {"own"}), ("approver", {"own"}), ("other_buyer", {"foreign"}), ("other_approver", {"foreign"}),
    ("catalogue_manager", {"own", "foreign"}),
])
def test_list_shows_the_organisation_searches(api, users, own_search, foreign_search, role, expected):
    """The list holds the caller's administration's searches; managers see every administration's."""
    response = api(users[role]).get(URL)

    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {{"own": own_search.pk, "foreign": foreign_search.pk}[name] for name in expected}


@pytest.mark.parametrize(("role", "status"), [("anonymous", 401), ("vendor", 403), ("qualifier", 403)])
def test_list_refused_to_others(api, users, own_search, role, status):
    """Anonymous callers get 401; vendors and ANSSI staff 403."""
    assert api(users[role]).get(URL).status_code == status


@pytest.mark.parametrize(("role", "status"), [
    ("buyer", 200), ("approver", 200), ("catalogue_manager", 200),
    ("other_buyer", 404), ("other_approver", 404),
    ("vendor", 403), ("qualifier", 403), ("anonymous", 401),
])
def test_retrieve_by_role(api, users, own_search, role, status):
    """Same administration and managers read a search; another administration gets 404."""
    response = api(users[role]).get(f"{URL}{own_search.pk}/")

    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["title"] == "SI RH"
        assert body["organisation"] == own_search.organisation.name
        assert [item["offer_name"] for item in body["items"]] == ["Alpha IaaS"]
        assert {"label": "Modèle de service", "values": "IaaS"} in body["filters_in_words"]


@pytest.mark.parametrize(("role", "status"), [
    ("buyer", 200), ("approver", 200), ("catalogue_manager", 200),
    ("other_buyer", 404), ("other_approver", 404),
    ("vendor", 403), ("qualifier", 403), ("anonymous", 401),
])
def test_csv_by_role(api, users, own_search, role, status):
    """The CSV download follows the same rules as reading the search."""
    response = api(users[role]).get(f"{URL}{own_search.pk}/csv/")

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="recherche-{own_search.pk}-' in response["Content-Disposition"]
        text = response.content.decode("utf-8")
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
        assert ["1", "OVHcloud", "Alpha IaaS", "IaaS", "Qualifiée", "2024-101", "2025-03-01", "2028-03-01"] in rows


def test_csv_accepts_text_csv(api, users, own_search):
    """A client that asks for text/csv gets it (content negotiation does not answer 406)."""
    response = api(users["buyer"]).get(f"{URL}{own_search.pk}/csv/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response.content.startswith("\ufeff".encode())


def test_retrieve_stays_frozen_after_catalogue_changes(api, users, own_search, offers):
    """After suspension and renaming, the API and its CSV still show the recorded values."""
    alpha = offers["alpha"]
    qualification_update(qualification=alpha.qualifications.get(is_current=True), user=users["qualifier"],
                         values={"status": QualificationStatus.SUSPENDED}, reason="Audit")
    alpha.name = "Alpha renommée"
    alpha.save()

    item = api(users["buyer"]).get(f"{URL}{own_search.pk}/").json()["items"][0]
    csv_text = api(users["buyer"]).get(f"{URL}{own_search.pk}/csv/").content.decode("utf-8")

    assert (item["offer_name"], item["qualification_status"]) == ("Alpha IaaS", "qualified")
    assert "Alpha IaaS" in csv_text and "Alpha renommée" not in csv_text
    assert "Suspendue" not in csv_text


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_recorded_search_cannot_be_changed(api, users, own_search, method):
    """No update or delete: 405 for the owner, and the search is untouched."""
    response = getattr(api(users["buyer"]), method)(f"{URL}{own_search.pk}/", {"title": "Autre"}, format="json")

    assert response.status_code == 405
    own_search.refresh_from_db()
    assert own_search.title == "SI RH"
