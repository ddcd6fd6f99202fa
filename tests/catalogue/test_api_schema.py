"""OpenAPI: the schema is served and valid without warnings, the docs work offline."""

import re

import pytest
from django.core.management import call_command
from drf_spectacular.drainage import GENERATOR_STATS

CATALOGUE_PATHS = ("/api/v1/auth/token/", "/api/v1/providers/", "/api/v1/providers/{slug}/", "/api/v1/offers/",
                   "/api/v1/offers/{slug}/", "/api/v1/qualifications/", "/api/v1/qualifications/{id}/",
                   "/api/v1/qualifications/{id}/history/")


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_is_served_with_the_catalogue_endpoints(schema):
    """/api/schema/ answers OpenAPI 3 with every catalogue path and the PATCH of a decision."""
    assert schema["openapi"].startswith("3.")
    assert set(CATALOGUE_PATHS) <= set(schema["paths"])
    assert "patch" in schema["paths"]["/api/v1/qualifications/{id}/"]
    assert not {"put", "delete"} & set(schema["paths"]["/api/v1/qualifications/{id}/"])


def test_schema_documents_every_offer_filter(schema):
    """The offers list documents each search parameter of the design, plus the pagination ones."""
    names = {p["name"] for p in schema["paths"]["/api/v1/offers/"]["get"]["parameters"]}

    assert names >= {"q", "service_model", "qualification", "certification", "provider", "framework", "lot",
                     "data_location", "eligible_for", "valid_on", "expires_before", "expires_within", "ordering",
                     "page", "page_size"}


def test_schema_describes_eligibility_and_the_mandatory_reason(schema):
    """Eligibility is a list of verdict objects; the PATCH body requires `reason`; the token answer is documented."""
    components = schema["components"]["schemas"]
    eligibility = components["Offer"]["properties"]["eligibility"]
    patch_body = schema["paths"]["/api/v1/qualifications/{id}/"]["patch"]["requestBody"]
    patch_ref = patch_body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["200"]

    assert eligibility["type"] == "array"
    assert eligibility["items"]["$ref"].endswith("/Verdict")
    assert set(components["Verdict"]["properties"]) == {"sensitivity", "eligible", "reasons", "continuity_risk"}
    assert components[patch_ref]["required"] == ["reason"]
    assert token["content"]["application/json"]["schema"]["$ref"].endswith("/Token")
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_schema_validates_without_warnings(db, tmp_path):
    """`manage.py spectacular --validate --fail-on-warn` passes."""
    GENERATOR_STATS.reset()

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert "/api/v1/qualifications/{id}/history/" in (tmp_path / "schema.yaml").read_text()


def test_docs_are_served_offline(client, db):
    """/api/docs/ answers 200 and loads Swagger UI from our own static files, never from a CDN."""
    response = client.get("/api/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == []
    assert "cdn" not in html.lower()
    assert "unpkg" not in html.lower()
