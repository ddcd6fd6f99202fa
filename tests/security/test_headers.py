"""Production settings: security headers, the Content Security Policy, no debug pages, no browsable API."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

BASE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x7Qp2LmZ9vR4tY8wK3nB6cJ1hF5dS0gA-e_iU7oP2qW9zX4vC8bN3mL6kJ1hG5fD",
    "ALLOWED_HOSTS": "courtier.example.gouv.fr",
    "DATABASE_URL": "postgres://courtier:courtier@127.0.0.1:5432/courtier",
}


def production_env() -> dict:
    env = {key: value for key, value in os.environ.items()
           if key not in {"SECURE_HTTPS", "STATIC_MANIFEST", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    return {**env, **PRODUCTION}


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def test_check_deploy_is_clean_with_production_variables():
    """`manage.py check --deploy` reports nothing, not even a warning, with the production variables."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR, env=production_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_settings_values():
    """In production: HTTPS everywhere, HSTS, secure HttpOnly cookies, no debug, JSON-only API, CSP upgrade."""
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; print(json.dumps({"
        "'debug': s.DEBUG, 'hsts': s.SECURE_HSTS_SECONDS, 'redirect': s.SECURE_SSL_REDIRECT,"
        "'session_secure': s.SESSION_COOKIE_SECURE, 'session_httponly': s.SESSION_COOKIE_HTTPONLY,"
        "'csrf_secure': s.CSRF_COOKIE_SECURE, 'language_secure': s.LANGUAGE_COOKIE_SECURE,"
        "'language_httponly': s.LANGUAGE_COOKIE_HTTPONLY, 'frame': s.X_FRAME_OPTIONS,"
        "'referrer': s.SECURE_REFERRER_POLICY, 'renderers': s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'],"
        "'upgrade': s.CONTENT_SECURITY_POLICY['DIRECTIVES']['upgrade-insecure-requests']}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
        env={**production_env(), "DJANGO_SETTINGS_MODULE": "broker.settings"},
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == {
        "debug": False, "hsts": 31536000, "redirect": True,
        "session_secure": True, "session_httponly": True, "csrf_secure": True,
        "language_secure": True, "language_httponly": True, "frame": "DENY", "referrer": "same-origin",
        "renderers": ["rest_framework.renderers.JSONRenderer"], "upgrade": True,
    }


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    """Every page answers with the CSP, X-Frame-Options DENY, the referrer policy and nosniff."""
    response = client.get(reverse("catalogue:home"))
    assert response.status_code == 200
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_dsfr_scripts_carry_the_request_nonce(client):
    """The DSFR's script tags carry the nonce of the policy, which changes with every request."""
    first = client.get(reverse("catalogue:home"))
    nonce = re.search(r"'nonce-([^']+)'", first["Content-Security-Policy"]).group(1)
    html = first.content.decode()
    assert html.count(f'nonce="{nonce}"') == 2
    assert "dsfr.module.min.js" in html

    second = client.get(reverse("catalogue:home"))
    assert nonce not in second["Content-Security-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["catalogue:home", "catalogue:offer-list", "login", "admin:login"])
def test_pages_have_no_inline_script_or_style(client, name):
    """Site and admin pages run no inline script and use no inline style, so the strict policy breaks nothing."""
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


@pytest.mark.django_db
def test_swagger_ui_works_under_the_policy(client):
    """/api/docs/ loads its script as a file from this site; only its inline <style> is allowed, by hash."""
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    html = response.content.decode()
    policy = directives(response)
    assert policy["script-src"][0] == "'self'"
    assert policy["style-src"] == ["'self'", "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag, tag

    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    script = client.get(script_url)
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db
def test_swagger_style_hash_matches_the_template(client):
    """The hash in the policy is the hash of the inline <style> block drf-spectacular renders."""
    import base64
    import hashlib

    html = client.get(reverse("api-docs")).content.decode()
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in client.get(reverse("api-docs"))["Content-Security-Policy"]


@pytest.mark.django_db
def test_redoc_alone_allows_inline_styles(client):
    """Only /api/redoc/ allows inline styles and blob: workers (Redoc makes them at run time); scripts stay strict."""
    response = client.get(reverse("api-redoc"))
    assert response.status_code == 200
    policy = directives(response)
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["worker-src"] == ["blob:"]
    assert "'unsafe-inline'" not in policy["script-src"]


@pytest.mark.django_db
def test_admin_works_under_the_policy(client, users):
    """The admin's changelist and change form use no inline script or style and carry the policy."""
    client.force_login(users["catalogue_manager"])
    for url in (reverse("admin:index"), reverse("admin:catalogue_offer_changelist")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Content-Security-Policy" in response
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"\sstyle=", html), url


@pytest.mark.django_db
def test_api_answers_json_not_the_browsable_api(client):
    """A browser asking the API for HTML gets no browsable-API form (DEBUG is off)."""
    response = client.get("/api/v1/offers/", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert "<form" not in response.content.decode()
    assert client.get("/api/v1/offers/").json()["results"] == []


@pytest.mark.django_db
def test_unknown_page_shows_no_debug_page(client):
    """An unknown address answers the site's 404 page, not Django's debug page."""
    response = client.get("/nulle-part/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "URLconf" not in html
    assert "Content-Security-Policy" in response
