"""Fixtures shared by the whole suite: one user per role, API clients, a fixed 'today'."""

from datetime import date

import pytest
from rest_framework.test import APIClient

from broker import roles
from tests.factories import OrganisationFactory, ProviderFactory, make_user

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Hash passwords with MD5 in tests: PBKDF2 costs seconds per user on a 2-core machine."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: throttling counters never leak from one test to another."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def today() -> date:
    return TODAY


@pytest.fixture
def organisation(db):
    return OrganisationFactory(name="Ministère de l'Intérieur")


@pytest.fixture
def other_organisation(db):
    return OrganisationFactory(name="Ministère des Armées")


@pytest.fixture
def provider(db):
    return ProviderFactory(name="OVHcloud", slug="ovhcloud")


@pytest.fixture
def other_provider(db):
    return ProviderFactory(name="Outscale", slug="outscale")


@pytest.fixture
def users(db, organisation, other_organisation, provider, other_provider) -> dict:
    """One user per role, plus the foreign-organisation and foreign-provider variants."""
    return {
        "anonymous": None,
        "buyer": make_user(roles.BUYER, organisation=organisation, username="acheteur"),
        "approver": make_user(roles.APPROVER, organisation=organisation, username="valideur"),
        "other_buyer": make_user(roles.BUYER, organisation=other_organisation, username="acheteur2"),
        "other_approver": make_user(roles.APPROVER, organisation=other_organisation, username="valideur2"),
        "vendor": make_user(roles.VENDOR, provider=provider, username="fournisseur"),
        "other_vendor": make_user(roles.VENDOR, provider=other_provider, username="fournisseur2"),
        "qualifier": make_user(roles.QUALIFIER, username="anssi", is_staff=True),
        "catalogue_manager": make_user(roles.CATALOGUE_MANAGER, username="dinum", is_staff=True),
    }


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    """api(user) gives an API client authenticated as `user` (None: anonymous)."""
    return client_for
