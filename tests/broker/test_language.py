"""The interface language: French by default, English only when chosen."""

import pytest


@pytest.mark.django_db
def test_french_by_default_whatever_the_browser_asks(client):
    """A browser asking for English still gets French until the visitor chooses English."""
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert response["Content-Language"] == "fr"
    assert '<html lang="fr"' in response.content.decode()


@pytest.mark.django_db
def test_language_switch_sets_english(client):
    """Posting the header's language switch makes the next pages English."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/")
    assert page["Content-Language"] == "en"
    assert '<html lang="en"' in page.content.decode()


@pytest.mark.django_db
def test_unknown_language_cookie_falls_back_to_french(client, settings):
    """A language cookie for a language Courtier does not offer is ignored."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    assert client.get("/")["Content-Language"] == "fr"
