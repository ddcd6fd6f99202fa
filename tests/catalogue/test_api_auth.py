"""API authentication: the token endpoint, token and session authentication, anonymous writes."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from catalogue.models import QualificationStatus
from tests.factories import OfferFactory, QualificationFactory

TOKEN = "/api/v1/auth/token/"
PASSWORD = "password-123"  # tests.factories.UserFactory


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The token endpoint's throttle counts in the cache: each test starts, and leaves, with a clean count."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def qualification(db, provider):
    return QualificationFactory(offer=OfferFactory(provider=provider, slug="cloud"))


def test_token_flow_end_to_end(users, qualification):
    """A qualifier obtains a token with their password, then changes a decision with `Authorization: Token`."""
    client = APIClient()

    obtained = client.post(TOKEN, {"username": "anssi", "password": PASSWORD}, format="json")
    key = obtained.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    patched = client.patch(f"/api/v1/qualifications/{qualification.pk}/",
                           {"status": "suspended", "reason": "Contrôle"}, format="json")

    assert obtained.status_code == 200
    assert Token.objects.get(user=users["qualifier"]).key == key
    assert patched.status_code == 200
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.SUSPENDED
    assert qualification.events.get().actor == users["qualifier"]


def test_token_is_stable_across_requests(users):
    """Asking twice returns the same token; a form-encoded body works too."""
    client = APIClient()

    first = client.post(TOKEN, {"username": "acheteur", "password": PASSWORD}, format="json").json()["token"]
    second = client.post(TOKEN, {"username": "acheteur", "password": PASSWORD}).json()["token"]

    assert first == second
    assert Token.objects.filter(user=users["buyer"]).count() == 1


@pytest.mark.parametrize("path, key", [("/api/v1/offers/", "slug"), ("/api/v1/providers/", "slug"),
                                       ("/api/v1/qualifications/", "offer")])
def test_token_authenticates_every_endpoint(users, path, key):
    """With a vendor's token, each endpoint lists what only that vendor may see (their draft and its provider)."""
    draft = OfferFactory(provider=users["vendor"].profile.provider, slug="ovh-brouillon", state="draft")
    QualificationFactory(offer=draft, status=QualificationStatus.IN_PROGRESS, qualified_on=None, valid_until=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users['vendor']).key}")

    def listed(client):
        return {str(item[key]["slug"] if key == "offer" else item[key]) for item in client.get(path).json()["results"]}

    assert listed(client) & {"ovh-brouillon", "ovhcloud"}
    assert not listed(APIClient()) & {"ovh-brouillon", "ovhcloud"}


def test_bad_credentials_are_a_coded_400(users):
    """A wrong password answers 400 `invalid_credentials` with a readable message, and creates no token."""
    response = APIClient().post(TOKEN, {"username": "anssi", "password": "wrong"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_credentials"
    assert response.json()["detail"]
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(users):
    """A deactivated account cannot obtain a token."""
    users["buyer"].is_active = False
    users["buyer"].save()

    response = APIClient().post(TOKEN, {"username": "acheteur", "password": PASSWORD}, format="json")

    assert response.status_code == 400
    assert not Token.objects.exists()


def test_missing_fields_are_named(db):
    """Without username and password, the 400 names both fields."""
    response = APIClient().post(TOKEN, {}, format="json")

    assert response.status_code == 400
    assert {"username", "password"} <= set(response.json())


def test_token_requests_are_throttled(users):
    """After 20 attempts in a minute, the endpoint answers 429 even with the right password."""
    client = APIClient()
    for _attempt in range(20):
        client.post(TOKEN, {"username": "anssi", "password": "guess"}, format="json")

    response = client.post(TOKEN, {"username": "anssi", "password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert not Token.objects.exists()


def test_unknown_token_is_a_401(db):
    """A made-up token answers 401 rather than falling back to anonymous."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert client.get("/api/v1/offers/").status_code == 401


def test_anonymous_write_is_a_401_asking_for_a_token(qualification):
    """Without credentials a write answers 401 with `WWW-Authenticate: Token`, and nothing changes."""
    response = APIClient().patch(f"/api/v1/qualifications/{qualification.pk}/",
                                 {"status": "revoked", "reason": "x"}, format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.QUALIFIED


def test_session_authentication_works(users, qualification):
    """A qualifier signed in with a session changes a decision through the API."""
    client = APIClient()
    assert client.login(username="anssi", password=PASSWORD)

    response = client.patch(f"/api/v1/qualifications/{qualification.pk}/",
                            {"status": "suspended", "reason": "Contrôle"}, format="json")

    assert response.status_code == 200
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.SUSPENDED


def test_session_writes_need_the_csrf_token(users, qualification):
    """A session-authenticated write without the CSRF token is refused: a third-party page cannot forge it."""
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="anssi", password=PASSWORD)

    response = client.patch(f"/api/v1/qualifications/{qualification.pk}/",
                            {"status": "suspended", "reason": "Contrôle"}, format="json")

    assert response.status_code == 403
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.QUALIFIED
