"""Brute force: django-axes locks a username out from one address, on the login page and the token endpoint."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from broker import roles
from tests.factories import make_user

PASSWORD = "password-123"


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def buyer(organisation):
    return make_user(roles.BUYER, organisation=organisation, username="acheteur")


def login(client, username, password, address="10.0.0.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def token(username, password, address="10.0.0.1"):
    return APIClient().post(reverse("api-token"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_login_page_locks_out_after_repeated_failures(client, buyer, settings):
    """The fifth wrong password answers the 429 lockout page, and then even the right password is refused."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = login(client, "acheteur", "wrong")
        assert response.status_code == 200
        assert "login-errors" in response.content.decode()
    response = login(client, "acheteur", "wrong")
    assert response.status_code == 429
    assert 'id="locked-out"' in response.content.decode()
    assert "15 minutes" in response.content.decode()

    response = login(client, "acheteur", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    attempt = AccessAttempt.objects.get(username="acheteur", ip_address="10.0.0.1")
    assert attempt.failures_since_start >= settings.AXES_FAILURE_LIMIT


def test_login_lockout_is_per_username_and_address(client, buyer, settings):
    """A locked-out username still signs in from another address: nobody can lock an agent out from elsewhere."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "acheteur", "wrong", address="10.0.0.66")

    response = login(client, "acheteur", PASSWORD, address="10.0.0.1")
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(buyer.pk)


def test_login_success_resets_the_failure_count(client, buyer, settings):
    """A successful login forgets the earlier failures of that username and address."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, "acheteur", "wrong")
    assert login(client, "acheteur", PASSWORD).status_code == 302
    client.logout()

    assert not AccessAttempt.objects.filter(username="acheteur").exists()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "acheteur", "wrong").status_code == 200
    assert login(client, "acheteur", PASSWORD).status_code == 302


def test_login_lockout_ends_after_the_cool_off(client, buyer, settings):
    """Once the cool-off time has passed since the last failure, the right password signs in again."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        login(client, "acheteur", "wrong")
    assert login(client, "acheteur", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    response = login(client, "acheteur", PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(buyer.pk)


def test_token_endpoint_locks_out_after_repeated_failures(buyer, settings):
    """The fifth wrong password answers 429 locked_out with Retry-After, then the right one gets no token."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = token("acheteur", "wrong")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"
    response = token("acheteur", "wrong")
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert "15 minutes" in response.json()["detail"]
    assert response["Retry-After"] == "900"

    response = token("acheteur", PASSWORD)
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    assert not Token.objects.filter(user=buyer).exists()


def test_token_and_login_page_share_the_failure_count(client, buyer, settings):
    """Failures on the token endpoint lock the login page too: one count per username and address."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        token("acheteur", "wrong")

    response = login(client, "acheteur", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_token_endpoint_lockout_spares_other_addresses(buyer, settings):
    """A username locked out from one address still gets its token from another."""
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        token("acheteur", "wrong", address="10.0.0.66")

    response = token("acheteur", PASSWORD, address="10.0.0.1")
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=buyer).key


def test_login_page_throttles_many_attempts_from_one_address(client, buyer, settings):
    """Posting more logins than LOGIN_THROTTLE_RATE from one address answers 429, whatever the usernames."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "3/minute"},
    }
    for username in ("alice", "bob", "carol"):
        assert login(client, username, "wrong").status_code == 200

    response = login(client, "acheteur", PASSWORD)
    assert response.status_code == 429
    assert 'id="login-throttled"' in response.content.decode()
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session
    assert login(client, "acheteur", PASSWORD, address="10.0.0.2").status_code == 302


def test_authentication_without_a_request_is_not_counted(client, buyer):
    """authenticate() without a request (the test client's login, a shell) works and counts no failure."""
    assert client.login(username="acheteur", password="wrong") is False
    assert client.login(username="acheteur", password=PASSWORD) is True
    assert not AccessAttempt.objects.exists()
