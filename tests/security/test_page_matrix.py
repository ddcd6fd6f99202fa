"""The page permission matrix: every role against every page that changes something (POST forms).

Expected answers per role: a status code for a refusal (403, 404, 405), LOGIN for the
redirect of anonymous visitors to /connexion/, ADMIN_LOGIN for the admin's own login
page (anonymous visitors and users who are not staff), DONE for a successful form (a
302 elsewhere than a login page). A `probe` reads what the form could change: it
changes exactly on DONE.

Matrix size: 7 roles × 27 forms = 189 cases (asserted by test_page_matrix_size).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from catalogue.models import Offer, OfferRevision, Qualification
from procurement.models import Notification, Order, RecordedSearch, Referencing
from tests.security import ROLES, World, build_world

pytestmark = pytest.mark.django_db

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
DONE = "done"


def expect(default, *, anonymous=LOGIN, **roles) -> dict[str, object]:
    assert not set(roles) - set(ROLES), roles
    return {role: roles.get(role, default) for role in ROLES} | {"anonymous": anonymous}


VENDOR_A = expect(403, vendor=DONE, other_vendor=404)
VENDORS = expect(403, vendor=DONE, other_vendor=DONE)
MANAGER = expect(403, catalogue_manager=DONE)
BUYERS = expect(403, buyer=DONE, approver=DONE)


@dataclass(frozen=True)
class Form:
    name: str
    url: Callable[[World], str]
    expected: dict[str, object]
    data: Callable[[World], dict] = lambda world: {}
    probe: Callable[[World], object] | None = None


def order_status(name: str) -> Callable[[World], object]:
    return lambda world: Order.objects.get(pk=getattr(world, name).pk).status


def offer_field(name: str, field: str = "state") -> Callable[[World], object]:
    return lambda world: getattr(Offer.objects.get(pk=getattr(world, name).pk), field)


def revision_state(world: World) -> object:
    return OfferRevision.objects.get(pk=world.revision.pk).state


def action_url(name: str, action: str) -> Callable[[World], str]:
    return lambda world: reverse("procurement:order-action", args=[getattr(world, name).reference, action])


def order_fields(world: World) -> dict:
    referencing = Referencing.objects.get(lot=world.lot, offer=world.offer)
    return {"offer": world.offer.slug, "referencing": referencing.pk, "quantity": "3", "sensitivity": "sensitive",
            "starts_on": world.order_draft.starts_on.isoformat(), "ends_on": world.order_draft.ends_on.isoformat(),
            "justification": "Hébergement du SI RH.", "idempotency_key": ""}


def offer_fields(**overrides) -> Callable[[World], dict]:
    data = {"name": "Sauvegarde", "service_model": "SaaS", "description": "Sauvegarde managée",
            "locations": ["FR"], "list_price": "10.00", "price_unit": "par To"}
    return lambda world: {**data, **overrides}


def admin_qualification_fields(world: World) -> dict:
    qualification = world.qualification
    return {
        "status": "suspended", "milestone": qualification.milestone,
        "referential_version": qualification.referential_version,
        "decision_number": qualification.decision_number, "qualified_on": qualification.qualified_on.isoformat(),
        "valid_until": qualification.valid_until.isoformat(), "conditions": qualification.conditions,
        "reason": "Audit de surveillance défavorable",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0", "events-MIN_NUM_FORMS": "0",
        "events-MAX_NUM_FORMS": "0",
    }


FORMS: list[Form] = [
    # --- Orders -----------------------------------------------------------------------------------------------
    Form("order create", lambda w: reverse("procurement:order-create"), BUYERS, order_fields,
         lambda w: Order.objects.count()),
    Form("order edit", lambda w: reverse("procurement:order-edit", args=[w.order_draft.reference]),
         expect(404, buyer=DONE, approver=403, catalogue_manager=403),
         lambda w: {**order_fields(w), "quantity": "2"}, lambda w: Order.objects.get(pk=w.order_draft.pk).quantity),
    Form("order submit", action_url("order_draft", "submit"),
         expect(404, buyer=DONE, approver=DONE, catalogue_manager=403), probe=order_status("order_draft")),
    Form("order approve", action_url("order_submitted", "approve"),
         expect(404, buyer=403, approver=DONE, vendor=403, catalogue_manager=403),
         probe=order_status("order_submitted")),
    Form("order reject", action_url("order_submitted", "reject"),
         expect(404, buyer=403, approver=DONE, vendor=403, catalogue_manager=403), lambda w: {"reason": "Trop cher"},
         order_status("order_submitted")),
    Form("order cancel", action_url("order_submitted", "cancel"),
         expect(404, buyer=DONE, approver=DONE, vendor=403, catalogue_manager=403), lambda w: {"reason": "Plus utile"},
         order_status("order_submitted")),
    Form("order fulfil", action_url("order_approved", "fulfil"),
         expect(404, buyer=403, approver=403, vendor=DONE, catalogue_manager=403),
         probe=order_status("order_approved")),
    Form("order B submit", action_url("order_b_draft", "submit"), expect(404, catalogue_manager=403),
         probe=order_status("order_b_draft")),
    Form("order B approve", action_url("order_b_submitted", "approve"),
         expect(404, other_vendor=403, catalogue_manager=403), probe=order_status("order_b_submitted")),
    Form("order B cancel", action_url("order_b_submitted", "cancel"),
         expect(404, other_vendor=403, catalogue_manager=403), probe=order_status("order_b_submitted")),
    # --- Recorded searches ------------------------------------------------------------------------------------
    Form("search record", lambda w: reverse("procurement:search-record"), BUYERS,
         lambda w: {"query_string": "service_model=IaaS", "title": "Calcul"}, lambda w: RecordedSearch.objects.count()),
    # --- Vendor space -----------------------------------------------------------------------------------------
    Form("vendor offer create", lambda w: reverse("vendor:offer-create"), VENDORS, offer_fields(),
         lambda w: Offer.objects.count()),
    Form("vendor offer edit", lambda w: reverse("vendor:offer-edit", args=[w.draft.slug]), VENDOR_A,
         offer_fields(name="Stockage objet", description="Stockage S3, trois zones"),
         offer_field("draft", "description")),
    Form("vendor offer submit", lambda w: reverse("vendor:offer-submit", args=[w.draft.slug]), VENDOR_A,
         probe=offer_field("draft")),
    Form("vendor offer withdraw", lambda w: reverse("vendor:offer-withdraw", args=[w.offer.slug]), VENDOR_A,
         lambda w: {"comment": "Fin de commercialisation"}, offer_field("offer")),
    Form("vendor profile", lambda w: reverse("vendor:profile"), VENDORS,
         lambda w: {"legal_name": "Nouvelle raison sociale", "seat_country": "FR", "largest_non_eu_holding": "0",
                    "total_non_eu_holding": "0", "data_locations": ["FR"], "support_locations": ["FR"]},
         lambda w: sorted(type(w.offer.provider).objects.values_list("legal_name", flat=True))),
    # --- Review queue -----------------------------------------------------------------------------------------
    Form("review publish", lambda w: reverse("review:offer-detail", args=[w.submitted.slug]), MANAGER,
         lambda w: {"decision": "publish", "comment": ""}, offer_field("submitted")),
    Form("review request changes", lambda w: reverse("review:offer-detail", args=[w.submitted.slug]), MANAGER,
         lambda w: {"decision": "request_changes", "comment": "Précisez les lieux."}, offer_field("submitted")),
    Form("revision approve", lambda w: reverse("review:revision-detail", args=[w.revision.pk]), MANAGER,
         lambda w: {"decision": "approve", "comment": ""}, revision_state),
    Form("revision request changes", lambda w: reverse("review:revision-detail", args=[w.revision.pk]), MANAGER,
         lambda w: {"decision": "request_changes", "comment": "Le GPU n'est pas qualifié."}, revision_state),
    # --- Notifications ----------------------------------------------------------------------------------------
    Form("notification read", lambda w: reverse("procurement:notification-read", args=[w.notification.pk]),
         expect(404, buyer=DONE), probe=lambda w: Notification.objects.get(pk=w.notification.pk).read_at is not None),
    Form("notification B read", lambda w: reverse("procurement:notification-read", args=[w.notification_b.pk]),
         expect(404), probe=lambda w: Notification.objects.get(pk=w.notification_b.pk).read_at),
    Form("notifications read all", lambda w: reverse("procurement:notification-read-all"), expect(DONE),
         probe=lambda w: Notification.objects.get(pk=w.notification_b.pk).read_at),
    # --- Admin ------------------------------------------------------------------------------------------------
    Form("admin qualification change",
         lambda w: reverse("admin:catalogue_qualification_change", args=[w.qualification.pk]),
         expect(ADMIN_LOGIN, anonymous=ADMIN_LOGIN, qualifier=DONE, catalogue_manager=403),
         admin_qualification_fields, lambda w: Qualification.objects.get(pk=w.qualification.pk).status),
    Form("admin qualification add", lambda w: reverse("admin:catalogue_qualification_add"),
         expect(ADMIN_LOGIN, anonymous=ADMIN_LOGIN, qualifier=DONE, catalogue_manager=403),
         lambda w: {**admin_qualification_fields(w), "offer": w.draft.pk, "status": "in_progress",
                    "milestone": "J0", "decision_number": "", "qualified_on": "", "valid_until": ""},
         lambda w: Qualification.objects.count()),
    # Orders are records: no one edits or deletes them in the admin (catalogue managers only look).
    Form("admin order change", lambda w: reverse("admin:procurement_order_change", args=[w.order_draft.pk]),
         expect(ADMIN_LOGIN, anonymous=ADMIN_LOGIN, qualifier=403, catalogue_manager=403),
         lambda w: {"status": "approved", "amount": "0.01"}, order_status("order_draft")),
    Form("admin order delete", lambda w: reverse("admin:procurement_order_delete", args=[w.order_draft.pk]),
         expect(ADMIN_LOGIN, anonymous=ADMIN_LOGIN, qualifier=403, catalogue_manager=403),
         lambda w: {"post": "yes"}, lambda w: Order.objects.count()),
]

# "notifications read all" succeeds for everyone but only changes the caller's own inbox: its probe watches
# the other administration's notification, which no role here may touch.
UNCHANGED_ON_SUCCESS = {"notifications read all"}


@pytest.fixture
def world(users, provider, other_provider, today) -> World:
    return build_world(users=users, provider=provider, other_provider=other_provider, today=today)


def _answer(response) -> object:
    if response.status_code != 302:
        return response.status_code
    location = response["Location"]
    if location.startswith(reverse("login") + "?next="):
        return LOGIN
    if location.startswith(reverse("admin:login") + "?next="):
        return ADMIN_LOGIN
    return DONE


def _post(world: World, form: Form, role: str) -> tuple[object, str | None]:
    client = Client()
    if world.users[role] is not None:
        client.force_login(world.users[role])
    before = form.probe(world) if form.probe else None
    answer = _answer(client.post(form.url(world), form.data(world)))
    problem = None
    if form.probe:
        changed = form.probe(world) != before
        if changed != (answer == DONE and form.name not in UNCHANGED_ON_SUCCESS):
            problem = f"answered {answer} and {'changed' if changed else 'did not change'} the database"
    return answer, problem


def test_page_matrix_size():
    """The module docstring states the true size of the matrix."""
    assert len({form.name for form in FORMS}) == len(FORMS) == 27
    assert len(FORMS) * len(ROLES) == 189


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_page_matrix(world, form):
    """Every role gets exactly its expected answer to the form, and the database changes only on success.
    Each role posts to the same world, rolled back after it."""
    answers, problems = {}, {}
    for role in ROLES:
        with transaction.atomic():
            answers[role], problem = _post(world, form, role)
            transaction.set_rollback(True)
        if problem:
            problems[role] = problem
    assert answers == form.expected
    assert problems == {}


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_action_urls_refuse_get(world, role):
    """Order actions, search recording and marking read are POST only: a GET changes nothing (405)."""
    client = Client()
    client.force_login(world.users[role])
    urls = [action_url("order_draft", "submit")(world), reverse("procurement:search-record"),
            reverse("procurement:notification-read", args=[world.notification.pk]),
            reverse("vendor:offer-submit", args=[world.draft.slug])]
    assert [client.get(url).status_code for url in urls] == [405] * len(urls)
    assert Order.objects.get(pk=world.order_draft.pk).status == "draft"
    assert Offer.objects.get(pk=world.draft.pk).state == "draft"
