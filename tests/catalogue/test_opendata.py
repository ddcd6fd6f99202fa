"""Open data: the published catalogue as CSV and JSON, with the search's filters, streamed in chunks."""

import csv
import io
import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalogue import opendata
from catalogue.api.opendata import OpenDataOfferSerializer
from catalogue.models import OfferState
from tests.factories import CertificationFactory, OfferFactory, ProviderFactory, QualificationFactory

PAGE_CSV, PAGE_JSON = "/catalogue/export.csv", "/catalogue/export.json"
API_CSV, API_JSON = "/api/v1/open-data/offers.csv", "/api/v1/open-data/offers.json"


@pytest.fixture
def catalogue(db):
    """Two published offers (one qualified with HDS), a draft and a withdrawn one."""
    provider = ProviderFactory(name="3DS Outscale", slug="3ds-outscale", seat_country="FR")
    qualified = OfferFactory(provider=provider, name="IaaS Cloud", slug="outscale-iaas", service_model="IaaS",
                             locations=["FR", "DE"])
    QualificationFactory(offer=qualified, decision_number="2118", qualified_on=date(2025, 1, 1),
                         valid_until=date(2028, 1, 1))
    CertificationFactory(offer=qualified, kind="hds", valid_until=date(2029, 1, 1))
    CertificationFactory(offer=qualified, kind="iso27001", valid_until=None)
    OfferFactory(provider=provider, name="=HYPERLINK(\"http://x\")", slug="outscale-paas", service_model="PaaS")
    OfferFactory(provider=provider, name="Brouillon", slug="brouillon", state=OfferState.DRAFT)
    OfferFactory(provider=provider, name="Retirée", slug="retiree", state=OfferState.WITHDRAWN)
    return qualified


def read(response) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(read(response).lstrip("\ufeff"))))


@pytest.mark.parametrize("url", [PAGE_CSV, API_CSV])
def test_csv_lists_every_published_offer_with_its_qualification(client, catalogue, url):
    """Anonymous download: published offers only, with provider, model, status, dates, decision, certifications."""
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == list(opendata.COLUMNS)
    assert [row["slug"] for row in rows] == ["outscale-paas", "outscale-iaas"]
    qualified = rows[1]
    assert qualified["provider"] == "3DS Outscale" and qualified["service_model"] == "IaaS"
    assert (qualified["qualification_status"], qualified["decision_number"]) == ("qualified", "2118")
    assert (qualified["qualified_on"], qualified["valid_until"]) == ("2025-01-01", "2028-01-01")
    assert qualified["certifications"] == "hds:2029-01-01;iso27001:"
    assert qualified["data_locations"] == "DE;FR"
    assert rows[0]["qualification_status"] == ""


def test_text_that_a_spreadsheet_would_run_is_defused(client, catalogue):
    """A cell starting with « = » is exported with a leading apostrophe."""
    rows = csv_rows(client.get(PAGE_CSV))
    assert rows[0]["offer"] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.parametrize("url", [PAGE_JSON, API_JSON])
def test_json_has_the_same_content(client, catalogue, url):
    """The JSON export is an array of the same rows, with the documented keys."""
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    offers = json.loads(read(response))
    assert [offer["slug"] for offer in offers] == ["outscale-paas", "outscale-iaas"]
    assert set(offers[0]) == set(OpenDataOfferSerializer().fields) == set(opendata.COLUMNS)
    assert offers[1]["certifications"] == [{"kind": "hds", "valid_until": "2029-01-01"},
                                           {"kind": "iso27001", "valid_until": None}]
    assert offers[1]["data_locations"] == ["DE", "FR"]
    assert offers[0]["offer"] == "=HYPERLINK(\"http://x\")"  # JSON needs no defusing


@pytest.mark.parametrize("url", [PAGE_CSV, API_CSV, PAGE_JSON, API_JSON])
def test_the_search_filters_apply(client, catalogue, url):
    """service_model, qualification and q filter the export as they filter the search."""
    def slugs(params):
        response = client.get(url, params)
        return [row["slug"] for row in (csv_rows(response) if url.endswith("csv") else json.loads(read(response)))]

    assert slugs({"service_model": "PaaS"}) == ["outscale-paas"]
    assert slugs({"qualification": "qualified"}) == ["outscale-iaas"]
    assert slugs({"q": "iaas cloud"}) == ["outscale-iaas"]
    assert slugs({"eligible_for": "health", "valid_on": "2026-11-22"}) == ["outscale-iaas"]


@pytest.mark.parametrize("url", [PAGE_JSON, API_CSV, API_JSON])
def test_a_bad_parameter_answers_400_naming_it(client, catalogue, url):
    """A malformed date or unknown value answers 400 with the parameter named, in JSON."""
    response = client.get(url, {"valid_on": "hier", "service_model": "XaaS"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_filter"
    assert {"valid_on", "service_model"} <= set(body)


def test_the_csv_page_says_which_parameter_is_wrong(client, catalogue):
    """The CSV page answers 400 in plain text naming the parameter."""
    response = client.get(PAGE_CSV, {"expires_before": "2026-13-45"})
    assert response.status_code == 400
    assert "expires_before" in response.content.decode()


def test_an_accept_header_does_not_break_the_api(client, catalogue):
    """A client asking for text/csv gets the CSV, not a 406."""
    response = client.get(API_CSV, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert len(csv_rows(response)) == 2


def test_the_export_is_read_in_chunks(client, db, monkeypatch):
    """Rows come from the database a chunk at a time: the prefetches run once per chunk, not once overall."""
    monkeypatch.setattr(opendata, "CHUNK_SIZE", 2)
    for number in range(5):
        OfferFactory(name=f"Offre {number}", slug=f"offre-{number}")
    response = client.get(PAGE_CSV)
    with CaptureQueriesContext(connection) as queries:
        rows = csv_rows(response)
    assert len(rows) == 5
    location_queries = [q for q in queries.captured_queries if 'FROM "catalogue_offerlocation"' in q["sql"]]
    assert len(location_queries) == 3  # chunks of 2, 2 and 1


def test_private_viewers_still_get_published_offers_only(client, users, catalogue):
    """Even a catalogue manager's export holds published offers only."""
    client.force_login(users["catalogue_manager"])
    assert len(csv_rows(client.get(PAGE_CSV))) == 2


def test_the_api_export_is_documented_with_its_filters(client, db):
    """OpenAPI documents both exports, their search parameters and the CSV media type."""
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"][API_CSV]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert {"q", "service_model", "qualification", "valid_on"} <= {p["name"] for p in operation["parameters"]}
    assert "400" in schema["paths"][API_JSON]["get"]["responses"]
