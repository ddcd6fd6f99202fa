"""What every request reads is loaded once: the signed-in user with their profile, the site's configuration."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from dsfr.models import DsfrConfig
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db


def tables_read(captured: CaptureQueriesContext) -> str:
    return " ".join(query["sql"] for query in captured.captured_queries)


def test_a_page_reads_the_session_user_with_their_profile(client, users):
    """A buyer's page loads the user, profile and administration in one query (the header needs them)."""
    client.force_login(users["buyer"])

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/catalogue/")

    assert response.status_code == 200
    user_queries = [q["sql"] for q in captured.captured_queries if 'FROM "auth_user"' in q["sql"]]
    assert len(user_queries) == 1
    assert "procurement_userprofile" in user_queries[0] and "procurement_organisation" in user_queries[0]
    assert 'FROM "procurement_userprofile"' not in tables_read(captured)


def test_the_api_reads_the_token_user_with_their_profile(client, users):
    """A token request loads the token, its user and their administration in one query."""
    token = Token.objects.create(user=users["buyer"])

    with CaptureQueriesContext(connection) as captured:
        response = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {token.key}")

    assert response.status_code == 200
    assert 'FROM "procurement_userprofile"' not in tables_read(captured)
    assert 'FROM "procurement_organisation"' not in tables_read(captured)


def test_unknown_token_and_inactive_user_are_refused(client, users):
    """A wrong token or a deactivated user's token gets DRF's 401, not a user."""
    token = Token.objects.create(user=users["buyer"])
    assert client.get("/api/v1/orders/", HTTP_AUTHORIZATION="Token " + "0" * 40).status_code == 401

    users["buyer"].is_active = False
    users["buyer"].save()

    response = client.get("/api/v1/orders/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 401


def test_a_deactivated_user_is_signed_out_of_their_session(client, users):
    """The session backend still refuses a user deactivated after signing in."""
    client.force_login(users["buyer"])
    users["buyer"].is_active = False
    users["buyer"].save()

    assert client.get("/commandes/").status_code == 302


def test_site_configuration_is_read_once_then_follows_changes(client):
    """The site's notice comes from the cache after the first page, and a change shows on the next page."""
    config = DsfrConfig.objects.create(language="fr", site_title="Courtier", notice_title="Maintenance ce soir")
    client.get("/")

    with CaptureQueriesContext(connection) as captured:
        assert "Maintenance ce soir" in client.get("/").content.decode()
    assert "dsfr_dsfrconfig" not in tables_read(captured)

    config.notice_title = "Service rétabli"
    config.save()
    assert "Service rétabli" in client.get("/").content.decode()

    config.delete()
    assert "Service rétabli" not in client.get("/").content.decode()
