"""Throttles for the API and the login page, and the client address they all count by.

A module of its own, importing nothing of the views: DRF imports it while it builds APIView.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


def client_address(request) -> str:
    """The client's address, as every throttle and the login lockout see it (NUM_PROXIES trusted proxies)."""
    return throttling.BaseThrottle().get_ident(request)


class RatesFromSettings:
    """Read the rate of the throttle's scope when a request comes, so that a changed setting applies at once.

    DRF's own throttles read the rates once, when the module is imported.
    """

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class AnonRateThrottle(RatesFromSettings, throttling.AnonRateThrottle):
    """Anonymous API requests, per client address (rate `anon`)."""


class UserRateThrottle(RatesFromSettings, throttling.UserRateThrottle):
    """API requests of a signed-in user, whatever the address (rate `user`)."""


class AddressRateThrottle(RatesFromSettings, throttling.SimpleRateThrottle):
    """Requests per client address, signed in or not."""

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TokenRequestThrottle(AddressRateThrottle):
    """Slow down password guessing on the token endpoint (rate `auth_token`)."""

    scope = "auth_token"


class LoginRequestThrottle(AddressRateThrottle):
    """Slow down password guessing on the login page (rate `login`)."""

    scope = "login"
