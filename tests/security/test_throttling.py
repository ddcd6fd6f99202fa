"""API throttling: per anonymous client address and per signed-in user, rates read from the settings."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def clear_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "anon": "3/minute",
            "user": "5/minute",
            "auth_token": "2/minute",
        },
    }


def test_default_rates_are_real_limits(settings):
    """Without variables, anonymous clients get 120 requests a minute and users 600."""
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates["anon"] == "120/minute"
    assert rates["user"] == "600/minute"
    assert rates["auth_token"] == "20/minute"
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "broker.throttling.AnonRateThrottle", "broker.throttling.UserRateThrottle",
    ]


def test_anonymous_client_is_throttled_per_address(db, low_rates):
    """The fourth anonymous request in a minute from one address answers 429; another address is served."""
    client = APIClient()
    for _request in range(3):
        assert client.get("/api/v1/offers/", REMOTE_ADDR="10.0.0.1").status_code == 200

    response = client.get("/api/v1/offers/", REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "throttled" and "detail" in response.json()
    assert client.get("/api/v1/offers/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_user_is_throttled_whatever_the_address(users, api, low_rates):
    """A signed-in user is counted across addresses, separately from other users and from anonymous clients."""
    buyer = api(users["buyer"])
    for number in range(5):
        assert buyer.get("/api/v1/offers/", REMOTE_ADDR=f"10.0.1.{number}").status_code == 200

    assert buyer.get("/api/v1/offers/", REMOTE_ADDR="10.0.1.99").status_code == 429
    assert api(users["approver"]).get("/api/v1/offers/", REMOTE_ADDR="10.0.1.99").status_code == 200
    assert APIClient().get("/api/v1/offers/", REMOTE_ADDR="10.0.1.99").status_code == 200


def test_client_address_behind_a_proxy(db, settings, low_rates):
    """With NUM_PROXIES=1 the client is the last X-Forwarded-For entry, not the proxy's address."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    client = APIClient()
    for _request in range(3):
        client.get("/api/v1/offers/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.1")

    assert client.get("/api/v1/offers/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429
    assert client.get("/api/v1/offers/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 200


def test_token_endpoint_is_throttled_per_address(users, low_rates):
    """The token endpoint has its own, stricter rate per address, even for right passwords."""
    client = APIClient()
    for _request in range(2):
        response = client.post("/api/v1/auth/token/", {"username": "acheteur", "password": "password-123"},
                               REMOTE_ADDR="10.0.0.1")
        assert response.status_code == 200

    response = client.post("/api/v1/auth/token/", {"username": "acheteur", "password": "password-123"},
                           REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
