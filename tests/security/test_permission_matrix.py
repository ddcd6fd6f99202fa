"""The API permission matrix: every role against every endpoint and action, with the exact expected status.

One table, ENDPOINTS, as data: (name, method, URL builder, payload builder, {role: status}, probe).
Roles (tests.security.ROLES): anonymous, buyer, approver (organisation A), vendor of the
offer's provider (A), vendor of another provider (B), qualifier, catalogue manager.
Objects of organisation B and provider B are in the table too: A's people get 404 for them.
A `probe` reads the database state the request could change: it must change exactly
when the request succeeds (2xx) and stay put otherwise.

Matrix size: 7 roles × 71 endpoints and actions = 497 cases (asserted by
test_matrix_size, so this line stays true).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import transaction

from catalogue.models import Offer, Qualification
from procurement.models import RecordedSearch
from tests.security import ROLES, World, build_world

pytestmark = pytest.mark.django_db

PASSWORD = "password-123"  # tests.factories.UserFactory's


def expect(default: int, *, anonymous: int = 401, **roles: int) -> dict[str, int]:
    """{role: status}: `default` for every signed-in role unless named, 401 for anonymous unless named."""
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return {role: roles.get(role, default) for role in ROLES} | {"anonymous": anonymous}


PUBLIC = expect(200, anonymous=200)
SIGNED_IN = expect(200)
# Vendor-only endpoints on provider A's objects: the other provider's vendor does not find them.
VENDOR_A = expect(403, vendor=200, other_vendor=404)
VENDORS = expect(403, vendor=200, other_vendor=200)
MANAGER = expect(403, catalogue_manager=200)
QUALIFIER = expect(403, qualifier=200)
# Readers of organisation A's recorded searches.
SEARCH_READERS = expect(403, buyer=200, approver=200, catalogue_manager=200)
FOREIGN_SEARCH = expect(403, buyer=404, approver=404, catalogue_manager=200)
# Orders: unseen → 404, seen but not theirs to act on → 403.
ORDER_READERS = expect(404, buyer=200, approver=200, vendor=200, catalogue_manager=200)
FOREIGN_ORDER_READERS = expect(404, other_vendor=200, catalogue_manager=200)
NOTIFICATION_OWNER = expect(404, buyer=200)
NO_DELETE = expect(405)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    payload: Callable[[World, object], dict] | None = None
    probe: Callable[[World], object] | None = None


def _offer(world: World, name: str) -> Offer:
    return Offer.objects.get(pk=getattr(world, name).pk)


def offer_state(name: str) -> Callable[[World], object]:
    return lambda world: _offer(world, name).state


def order_status(name: str) -> Callable[[World], object]:
    return lambda world: type(getattr(world, name)).objects.get(pk=getattr(world, name).pk).status


def revision_state(world: World) -> object:
    return type(world.revision).objects.get(pk=world.revision.pk).state


def _data(data: dict) -> Callable[[World, object], dict]:
    return lambda world, user: data


def new_order(world: World, user) -> dict:
    return {"framework": world.framework.slug, "lot": world.lot.pk, "offer": world.offer.slug, "quantity": 12,
            "sensitivity": "sensitive", "starts_on": world.order_draft.starts_on.isoformat(),
            "ends_on": world.order_draft.ends_on.isoformat(), "justification": "Hébergement du SI RH."}


def credentials(world: World, user) -> dict:
    if user is None:
        return {"username": "inconnu", "password": "mauvais"}
    return {"username": user.username, "password": PASSWORD}


def _order_url(name: str, action: str = "") -> Callable[[World], str]:
    return lambda world: f"/api/v1/orders/{getattr(world, name).reference}/{action + '/' if action else ''}"


def _vendor_offer_url(name: str, action: str = "") -> Callable[[World], str]:
    return lambda world: f"/api/v1/vendor/offers/{getattr(world, name).slug}/{action + '/' if action else ''}"


REASON = _data({"reason": "Motif de la décision"})
COMMENT = _data({"comment": "Merci de préciser les lieux d'hébergement."})

ENDPOINTS: list[Endpoint] = [
    # --- Authentication ---------------------------------------------------------------------------------------
    Endpoint("token", "post", lambda w: "/api/v1/auth/token/", expect(200, anonymous=400), credentials),
    # --- Providers and offers (public reads) ------------------------------------------------------------------
    Endpoint("providers", "get", lambda w: "/api/v1/providers/", PUBLIC),
    Endpoint("provider A", "get", lambda w: f"/api/v1/providers/{w.offer.provider.slug}/", PUBLIC),
    Endpoint("provider B", "get", lambda w: f"/api/v1/providers/{w.offer_b.provider.slug}/", PUBLIC),
    Endpoint("offers", "get", lambda w: "/api/v1/offers/", PUBLIC),
    Endpoint("published offer", "get", lambda w: f"/api/v1/offers/{w.offer.slug}/", PUBLIC),
    Endpoint("draft offer A", "get", lambda w: f"/api/v1/offers/{w.draft.slug}/",
             expect(404, anonymous=404, vendor=200, qualifier=200, catalogue_manager=200)),
    Endpoint("draft offer B", "get", lambda w: f"/api/v1/offers/{w.draft_b.slug}/",
             expect(404, anonymous=404, other_vendor=200, qualifier=200, catalogue_manager=200)),
    Endpoint("offers, no write", "post", lambda w: "/api/v1/offers/", expect(405),
             _data({"name": "Pirate", "service_model": "IaaS"}), lambda w: Offer.objects.count()),
    Endpoint("open data CSV", "get", lambda w: "/api/v1/open-data/offers.csv", PUBLIC),
    Endpoint("open data JSON", "get", lambda w: "/api/v1/open-data/offers.json", PUBLIC),
    # --- Qualifications ---------------------------------------------------------------------------------------
    Endpoint("qualifications", "get", lambda w: "/api/v1/qualifications/", PUBLIC),
    Endpoint("qualification", "get", lambda w: f"/api/v1/qualifications/{w.qualification.pk}/", PUBLIC),
    Endpoint("qualification history", "get", lambda w: f"/api/v1/qualifications/{w.qualification.pk}/history/",
             PUBLIC),
    Endpoint("qualification update", "patch", lambda w: f"/api/v1/qualifications/{w.qualification.pk}/", QUALIFIER,
             _data({"status": "suspended", "reason": "Audit de surveillance défavorable"}),
             lambda w: Qualification.objects.get(pk=w.qualification.pk).status),
    Endpoint("qualification renewal", "post", lambda w: "/api/v1/qualifications/", expect(403, qualifier=201),
             lambda w, u: {"offer": w.draft.slug, "status": "in_progress", "milestone": "J0",
                           "reason": "Dossier déposé"},
             lambda w: Qualification.objects.count()),
    Endpoint("qualification delete", "delete", lambda w: f"/api/v1/qualifications/{w.qualification.pk}/",
             expect(403, qualifier=405), probe=lambda w: Qualification.objects.count()),
    # --- Vendor space -----------------------------------------------------------------------------------------
    Endpoint("vendor offers", "get", lambda w: "/api/v1/vendor/offers/", VENDORS),
    Endpoint("vendor offer create", "post", lambda w: "/api/v1/vendor/offers/",
             expect(403, vendor=201, other_vendor=201),
             _data({"name": "Sauvegarde", "service_model": "SaaS"}), lambda w: Offer.objects.count()),
    Endpoint("vendor draft A", "get", _vendor_offer_url("draft"), VENDOR_A),
    Endpoint("vendor draft A edit", "patch", _vendor_offer_url("draft"), VENDOR_A,
             _data({"description": "Stockage S3, trois zones"}), lambda w: _offer(w, "draft").description),
    Endpoint("vendor draft A submit", "post", _vendor_offer_url("draft", "submit"), VENDOR_A,
             probe=offer_state("draft")),
    Endpoint("vendor draft B submit", "post", _vendor_offer_url("draft_b", "submit"),
             expect(403, vendor=404, other_vendor=200), probe=offer_state("draft_b")),
    Endpoint("vendor offer A withdraw", "post", _vendor_offer_url("offer", "withdraw"), VENDOR_A,
             _data({"comment": "Fin de commercialisation"}), offer_state("offer")),
    Endpoint("vendor offer A revise", "patch", _vendor_offer_url("offer"), VENDOR_A,
             _data({"price_unit": "par heure"}),
             lambda w: list(w.offer.revisions.values_list("state", "values"))),
    Endpoint("vendor offer delete", "delete", _vendor_offer_url("draft"), expect(403, vendor=405, other_vendor=405),
             probe=lambda w: Offer.objects.count()),
    Endpoint("vendor provider", "get", lambda w: "/api/v1/vendor/provider/", VENDORS),
    Endpoint("vendor provider edit", "patch", lambda w: "/api/v1/vendor/provider/", VENDORS,
             _data({"website": "https://cloud.example.fr"}),
             lambda w: sorted(type(w.offer.provider).objects.values_list("website", flat=True))),
    # --- Review queue -----------------------------------------------------------------------------------------
    Endpoint("review offers", "get", lambda w: "/api/v1/reviews/offers/", MANAGER),
    Endpoint("review offer", "get", lambda w: f"/api/v1/reviews/offers/{w.submitted.slug}/", MANAGER),
    Endpoint("review publish", "post", lambda w: f"/api/v1/reviews/offers/{w.submitted.slug}/publish/", MANAGER,
             COMMENT, offer_state("submitted")),
    Endpoint("review request changes", "post",
             lambda w: f"/api/v1/reviews/offers/{w.submitted.slug}/request-changes/", MANAGER, COMMENT,
             offer_state("submitted")),
    Endpoint("review revisions", "get", lambda w: "/api/v1/reviews/revisions/", MANAGER),
    Endpoint("review revision", "get", lambda w: f"/api/v1/reviews/revisions/{w.revision.pk}/", MANAGER),
    Endpoint("revision approve", "post", lambda w: f"/api/v1/reviews/revisions/{w.revision.pk}/approve/", MANAGER,
             COMMENT, revision_state),
    Endpoint("revision request changes", "post",
             lambda w: f"/api/v1/reviews/revisions/{w.revision.pk}/request-changes/", MANAGER, COMMENT,
             revision_state),
    # --- Frameworks (public) ----------------------------------------------------------------------------------
    Endpoint("frameworks", "get", lambda w: "/api/v1/frameworks/", PUBLIC),
    Endpoint("framework", "get", lambda w: f"/api/v1/frameworks/{w.framework.slug}/", PUBLIC),
    Endpoint("frameworks, no write", "post", lambda w: "/api/v1/frameworks/", expect(405, anonymous=405),
             _data({"reference": "AC-PIRATE", "title": "Pirate"}),
             lambda w: type(w.framework).objects.count()),
    # --- Orders -----------------------------------------------------------------------------------------------
    Endpoint("orders", "get", lambda w: "/api/v1/orders/", SIGNED_IN),
    Endpoint("order create", "post", lambda w: "/api/v1/orders/", expect(403, buyer=201, approver=201), new_order,
             lambda w: type(w.order_draft).objects.count()),
    Endpoint("order A draft", "get", _order_url("order_draft"), expect(404, buyer=200, approver=200,
                                                                       catalogue_manager=200)),
    Endpoint("order A submitted", "get", _order_url("order_submitted"), ORDER_READERS),
    Endpoint("order B submitted", "get", _order_url("order_b_submitted"), FOREIGN_ORDER_READERS),
    Endpoint("order A draft edit", "patch", _order_url("order_draft"),
             expect(404, buyer=200, approver=403, catalogue_manager=403), _data({"quantity": 2}),
             lambda w: type(w.order_draft).objects.get(pk=w.order_draft.pk).quantity),
    Endpoint("order B draft edit", "patch", _order_url("order_b_draft"), expect(404, catalogue_manager=403),
             _data({"quantity": 2}), lambda w: type(w.order_draft).objects.get(pk=w.order_b_draft.pk).quantity),
    Endpoint("order A submit", "post", _order_url("order_draft", "submit"),
             expect(404, buyer=200, approver=200, catalogue_manager=403), probe=order_status("order_draft")),
    Endpoint("order A approve", "post", _order_url("order_submitted", "approve"),
             expect(404, buyer=403, approver=200, vendor=403, catalogue_manager=403),
             probe=order_status("order_submitted")),
    Endpoint("order A reject", "post", _order_url("order_submitted", "reject"),
             expect(404, buyer=403, approver=200, vendor=403, catalogue_manager=403), REASON,
             order_status("order_submitted")),
    Endpoint("order A cancel", "post", _order_url("order_submitted", "cancel"),
             expect(404, buyer=200, approver=200, vendor=403, catalogue_manager=403), REASON,
             order_status("order_submitted")),
    Endpoint("order A fulfil", "post", _order_url("order_approved", "fulfil"),
             expect(404, buyer=403, approver=403, vendor=200, catalogue_manager=403),
             probe=order_status("order_approved")),
    Endpoint("order B submit", "post", _order_url("order_b_draft", "submit"), expect(404, catalogue_manager=403),
             probe=order_status("order_b_draft")),
    Endpoint("order B approve", "post", _order_url("order_b_submitted", "approve"),
             expect(404, other_vendor=403, catalogue_manager=403), probe=order_status("order_b_submitted")),
    Endpoint("order B reject", "post", _order_url("order_b_submitted", "reject"),
             expect(404, other_vendor=403, catalogue_manager=403), REASON, order_status("order_b_submitted")),
    Endpoint("order B cancel", "post", _order_url("order_b_submitted", "cancel"),
             expect(404, other_vendor=403, catalogue_manager=403), REASON, order_status("order_b_submitted")),
    Endpoint("order delete", "delete", _order_url("order_draft"), NO_DELETE,
             probe=lambda w: type(w.order_draft).objects.count()),
    # --- Recorded searches ------------------------------------------------------------------------------------
    Endpoint("searches", "get", lambda w: "/api/v1/searches/", SEARCH_READERS),
    Endpoint("search record", "post", lambda w: "/api/v1/searches/", expect(403, buyer=201, approver=201),
             _data({"query_string": "service_model=IaaS", "title": "Calcul"}),
             lambda w: RecordedSearch.objects.count()),
    Endpoint("search A", "get", lambda w: f"/api/v1/searches/{w.search.pk}/", SEARCH_READERS),
    Endpoint("search A CSV", "get", lambda w: f"/api/v1/searches/{w.search.pk}/csv/", SEARCH_READERS),
    Endpoint("search B", "get", lambda w: f"/api/v1/searches/{w.search_b.pk}/", FOREIGN_SEARCH),
    Endpoint("search B CSV", "get", lambda w: f"/api/v1/searches/{w.search_b.pk}/csv/", FOREIGN_SEARCH),
    Endpoint("search delete", "delete", lambda w: f"/api/v1/searches/{w.search.pk}/",
             expect(403, buyer=405, approver=405, catalogue_manager=405),
             probe=lambda w: RecordedSearch.objects.count()),
    Endpoint("search edit", "patch", lambda w: f"/api/v1/searches/{w.search.pk}/",
             expect(403, buyer=405, approver=405, catalogue_manager=405), _data({"title": "Changé"}),
             lambda w: RecordedSearch.objects.get(pk=w.search.pk).title),
    # --- Notifications ----------------------------------------------------------------------------------------
    Endpoint("notifications", "get", lambda w: "/api/v1/notifications/", SIGNED_IN),
    Endpoint("notification", "get", lambda w: f"/api/v1/notifications/{w.notification.pk}/", NOTIFICATION_OWNER),
    Endpoint("notification read", "post", lambda w: f"/api/v1/notifications/{w.notification.pk}/read/",
             NOTIFICATION_OWNER,
             probe=lambda w: type(w.notification).objects.get(pk=w.notification.pk).read_at is not None),
    Endpoint("notification B", "get", lambda w: f"/api/v1/notifications/{w.notification_b.pk}/", expect(404)),
    Endpoint("notification B read", "post", lambda w: f"/api/v1/notifications/{w.notification_b.pk}/read/",
             expect(404), probe=lambda w: type(w.notification).objects.get(pk=w.notification_b.pk).read_at),
    Endpoint("notifications read all", "post", lambda w: "/api/v1/notifications/read-all/", SIGNED_IN),
    Endpoint("notification delete", "delete", lambda w: f"/api/v1/notifications/{w.notification.pk}/", NO_DELETE,
             probe=lambda w: type(w.notification).objects.count()),
]

CASES = [(endpoint.name, role) for endpoint in ENDPOINTS for role in ROLES]


@pytest.fixture
def world(users, provider, other_provider, today, settings) -> World:
    # A cache of its own, emptied: the API throttles must not count other tests' requests.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "permission-matrix"}}
    cache.clear()
    return build_world(users=users, provider=provider, other_provider=other_provider, today=today)


def test_matrix_size():
    """The module docstring states the true size of the matrix: 7 roles, each endpoint once."""
    assert len(ROLES) == 7
    assert len({endpoint.name for endpoint in ENDPOINTS}) == len(ENDPOINTS) == 71
    assert len(CASES) == 497


def _call(api, world: World, endpoint: Endpoint, role: str) -> tuple[int, str | None]:
    """The status `role` gets, and what is wrong with the database afterwards (None if nothing)."""
    user = world.users[role]
    before = endpoint.probe(world) if endpoint.probe else None
    payload = endpoint.payload(world, user) if endpoint.payload else None
    client = api(None if endpoint.name == "token" else user)  # the token endpoint takes credentials only
    response = getattr(client, endpoint.method)(endpoint.url(world), payload, format="json")
    problem = None
    if endpoint.probe:
        after = endpoint.probe(world)
        if response.status_code in (200, 201) and after == before:
            problem = f"answered {response.status_code} but changed nothing"
        elif response.status_code not in (200, 201) and after != before:
            problem = f"refused with {response.status_code} but changed the database"
    return response.status_code, problem


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[endpoint.name for endpoint in ENDPOINTS])
def test_permission_matrix(api, world, endpoint):
    """Every role gets exactly its expected status on the endpoint, and a write changes the database only when
    it succeeds. Each role acts on the same world, rolled back after it."""
    answers, problems = {}, {}
    for role in ROLES:
        with transaction.atomic():
            answers[role], problem = _call(api, world, endpoint, role)
            transaction.set_rollback(True)
        if problem:
            problems[role] = problem
    assert answers == endpoint.expected
    assert problems == {}
