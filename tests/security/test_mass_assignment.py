"""Mass assignment: no write lets a client set a status, a price, an owner, an organisation, a provider or a
qualification field it may not set.

For every write endpoint (WRITES) and every forbidden field (FORBIDDEN), the request is
either refused with a 400 naming the field, or the field is ignored; in both cases the
database did not take the value, and a refusal changed nothing at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import FieldDoesNotExist
from django.db import models, transaction
from django.test import Client
from django.urls import reverse

from catalogue.models import Offer, Provider, Qualification
from procurement.models import Notification, Order, RecordedSearch, Referencing
from tests.security import World, build_world

pytestmark = pytest.mark.django_db


def forbidden_values(world: World) -> dict[str, object]:
    """Each forbidden field with a value a client could hope to set (another's ids, a flattering state)."""
    return {
        "status": "approved", "state": "published", "amount": "0.01", "unit_price": "0.01",
        "organisation": world.order_b_draft.organisation_id, "created_by": world.users["other_buyer"].pk,
        "owner": world.users["other_buyer"].pk, "provider": world.offer_b.provider_id,
        "decided_by": world.users["other_buyer"].pk, "reference": "BC-PIRATE", "published_at": "2020-01-01T00:00:00Z",
        # Qualification fields: ANSSI's alone.
        "qualification": "qualified", "qualification_status": "suspended", "decision_number": "ANSSI-PIRATE",
        "qualified_on": "2020-01-01", "valid_until": "2099-01-01", "milestone": "J2", "is_current": False,
    }


FORBIDDEN = [
    "status", "state", "amount", "unit_price", "organisation", "created_by", "owner", "provider", "decided_by",
    "reference", "published_at", "qualification", "qualification_status", "decision_number", "qualified_on",
    "valid_until", "milestone", "is_current",
]


@dataclass(frozen=True)
class Write:
    name: str
    role: str
    method: str
    url: Callable[[World], str]
    payload: Callable[[World], dict]
    rows: Callable[[World], models.QuerySet]  # the rows the write creates or changes
    creates: bool = False
    allowed: frozenset = frozenset()  # fields this role may set here (not tested as forbidden)


def order_payload(world: World) -> dict:
    return {"framework": world.framework.slug, "lot": world.lot.pk, "offer": world.offer.slug, "quantity": 12,
            "sensitivity": "sensitive", "starts_on": world.order_draft.starts_on.isoformat(),
            "ends_on": world.order_draft.ends_on.isoformat(), "justification": "Hébergement du SI RH."}


def _order(name: str) -> Callable[[World], models.QuerySet]:
    return lambda world: Order.objects.filter(pk=getattr(world, name).pk)


def _offer(name: str) -> Callable[[World], models.QuerySet]:
    return lambda world: Offer.objects.filter(pk=getattr(world, name).pk)


def _order_action(name: str, action: str) -> Callable[[World], str]:
    return lambda world: f"/api/v1/orders/{getattr(world, name).reference}/{action}/"


def _empty(world: World) -> dict:
    return {}


WRITES: list[Write] = [
    Write("order create", "buyer", "post", lambda w: "/api/v1/orders/", order_payload,
          lambda w: Order.objects.all(), creates=True),
    Write("order edit", "buyer", "patch", lambda w: f"/api/v1/orders/{w.order_draft.reference}/",
          lambda w: {"quantity": 2}, _order("order_draft")),
    Write("order submit", "buyer", "post", _order_action("order_draft", "submit"), _empty, _order("order_draft")),
    Write("order approve", "approver", "post", _order_action("order_submitted", "approve"), _empty,
          _order("order_submitted"), allowed=frozenset({"status"})),  # approving does set "approved"
    Write("order reject", "approver", "post", _order_action("order_submitted", "reject"),
          lambda w: {"reason": "Trop cher"}, _order("order_submitted")),
    Write("order cancel", "buyer", "post", _order_action("order_submitted", "cancel"), _empty,
          _order("order_submitted")),
    Write("order fulfil", "vendor", "post", _order_action("order_approved", "fulfil"), _empty,
          _order("order_approved")),
    Write("vendor offer create", "vendor", "post", lambda w: "/api/v1/vendor/offers/",
          lambda w: {"name": "Sauvegarde", "service_model": "SaaS"}, lambda w: Offer.objects.all(), creates=True),
    Write("vendor draft edit", "vendor", "patch", lambda w: f"/api/v1/vendor/offers/{w.draft.slug}/",
          lambda w: {"description": "Trois zones"}, _offer("draft")),
    Write("vendor published edit", "vendor", "patch", lambda w: f"/api/v1/vendor/offers/{w.offer.slug}/",
          lambda w: {"price_unit": "par heure"}, _offer("offer")),
    Write("vendor submit", "vendor", "post", lambda w: f"/api/v1/vendor/offers/{w.draft.slug}/submit/", _empty,
          _offer("draft")),
    Write("vendor withdraw", "vendor", "post", lambda w: f"/api/v1/vendor/offers/{w.offer.slug}/withdraw/", _empty,
          _offer("offer")),
    Write("vendor provider", "vendor", "patch", lambda w: "/api/v1/vendor/provider/",
          lambda w: {"website": "https://cloud.example.fr"}, lambda w: Provider.objects.filter(pk=w.offer.provider_id)),
    Write("review publish", "catalogue_manager", "post",
          lambda w: f"/api/v1/reviews/offers/{w.submitted.slug}/publish/", _empty,
          _offer("submitted"), allowed=frozenset({"state"})),  # publishing does set "published"
    Write("review request changes", "catalogue_manager", "post",
          lambda w: f"/api/v1/reviews/offers/{w.submitted.slug}/request-changes/", lambda w: {"comment": "Précisez"},
          _offer("submitted")),
    Write("revision approve", "catalogue_manager", "post",
          lambda w: f"/api/v1/reviews/revisions/{w.revision.pk}/approve/", _empty,
          _offer("offer"), allowed=frozenset({"state"})),
    Write("search record", "buyer", "post", lambda w: "/api/v1/searches/",
          lambda w: {"query_string": "service_model=IaaS", "title": "Calcul"}, lambda w: RecordedSearch.objects.all(),
          creates=True),
    Write("notification read", "buyer", "post", lambda w: f"/api/v1/notifications/{w.notification.pk}/read/",
          _empty, lambda w: Notification.objects.filter(pk=w.notification.pk)),
    # ANSSI staff set qualification fields, but not which decision is in force nor which offer it belongs to.
    Write("qualification update", "qualifier", "patch", lambda w: f"/api/v1/qualifications/{w.qualification.pk}/",
          lambda w: {"reason": "Audit"}, lambda w: Qualification.objects.filter(pk=w.qualification.pk),
          allowed=frozenset({"status", "decision_number", "qualified_on", "valid_until", "milestone"})),
]
WRITE_CASES = [(write.name, field) for write in WRITES for field in FORBIDDEN if field not in write.allowed]


@pytest.fixture
def world(users, provider, other_provider, today) -> World:
    return build_world(users=users, provider=provider, other_provider=other_provider, today=today)


def _column(model: type[models.Model], field: str) -> str | None:
    """The model column a client field would land in, or None if the model has no such column."""
    try:
        model_field = model._meta.get_field(field)
    except FieldDoesNotExist:
        return None
    if not model_field.concrete:
        return None
    return model_field.attname


def _state(world: World) -> list:
    """Everything a forbidden field could reach: orders, offers, providers, qualifications, searches, inbox."""
    return [list(model.objects.order_by("pk").values()) for model in
            (Order, Offer, Provider, Qualification, RecordedSearch, Notification, Referencing)]


def _taken(rows: models.QuerySet, column: str, value) -> bool:
    if column == "published_at":
        return rows.filter(published_at__year=2020).exists()
    try:
        return rows.filter(**{column: value}).exists()
    except (ValueError, TypeError):
        return False


def _problem(api, world: World, write: Write, field: str) -> str | None:
    """What is wrong when `field` is sent to `write` (None: refused by name, or ignored)."""
    value = forbidden_values(world)[field]
    rows_before = set(write.rows(world).values_list("pk", flat=True))
    state_before = _state(world)
    response = getattr(api(world.users[write.role]), write.method)(
        write.url(world), {**write.payload(world), field: value}, format="json")
    if response.status_code not in (200, 201, 400):
        return f"answered {response.status_code}: {response.content[:200]!r}"
    if response.status_code == 400:
        body = response.json()
        if body.get("field") != field and field not in body:
            return f"refused without naming the field: {body}"
        return "a refused request changed the database" if _state(world) != state_before else None
    rows = write.rows(world)
    if write.creates:
        rows = rows.exclude(pk__in=rows_before)
        if rows.count() != 1:
            return f"answered {response.status_code} but created {rows.count()} rows"
    column = _column(rows.model, field)
    if column is not None and _taken(rows, column, value):
        return f"took {field}={value!r}"
    if write.role != "qualifier" and _state(world)[3] != state_before[3]:
        return "a non-qualifier changed a qualification"
    return None


def test_mass_assignment_size():
    """Every write is tried with every field it may not set."""
    assert len(WRITES) == 19 and len(WRITE_CASES) == 334


@pytest.mark.parametrize("write", WRITES, ids=[write.name for write in WRITES])
def test_forbidden_fields_are_refused_or_ignored(api, world, write):
    """Each forbidden field is refused with a 400 naming it (and nothing changes) or ignored (the row does not
    take it). Each field is tried on the same world, rolled back after it."""
    problems = {}
    for field in FORBIDDEN:
        if field in write.allowed:
            continue
        with transaction.atomic():
            problem = _problem(api, world, write, field)
            transaction.set_rollback(True)
        if problem:
            problems[field] = problem
    assert problems == {}


def test_every_write_endpoint_refuses_by_name_where_it_can(api, world):
    """The writes with strict inputs refuse an unknown field by name with a stable code."""
    client = api(world.users["buyer"])
    refused = client.post("/api/v1/orders/", {**order_payload(world), "unit_price": "0.01"}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_field"
    vendor = api(world.users["vendor"])
    refused = vendor.patch(f"/api/v1/vendor/offers/{world.draft.slug}/", {"decision_number": "X"}, format="json")
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["field"]) == ("field_not_allowed", "decision_number")


# --- Pages: the forms take only their own fields --------------------------------------------------------------

def test_order_form_ignores_price_status_and_organisation(world):
    """A posted order form with a price, a status and another organisation creates a draft priced by the server,
    for the buyer's own administration."""
    client = Client()
    client.force_login(world.users["buyer"])
    referencing = Referencing.objects.get(lot=world.lot, offer=world.offer)
    before = set(Order.objects.values_list("pk", flat=True))
    response = client.post(reverse("procurement:order-create"), {
        "offer": world.offer.slug, "referencing": referencing.pk, "quantity": "3", "sensitivity": "sensitive",
        "starts_on": world.order_draft.starts_on.isoformat(), "ends_on": world.order_draft.ends_on.isoformat(),
        "justification": "SI RH", "idempotency_key": "",
        "unit_price": "0.01", "amount": "0.03", "status": "approved",
        "organisation": world.order_b_draft.organisation_id, "created_by": world.users["other_buyer"].pk,
    })
    assert response.status_code == 302
    order = Order.objects.exclude(pk__in=before).get()
    assert (order.status, str(order.unit_price), str(order.amount)) == ("draft", "90.00", "270.00")
    assert (order.organisation_id, order.created_by) == (world.order_draft.organisation_id, world.users["buyer"])


def test_vendor_offer_form_ignores_state_provider_and_qualification(world):
    """A posted offer form with a state, another provider and qualification fields creates a plain draft of the
    vendor's provider and no qualification."""
    client = Client()
    client.force_login(world.users["vendor"])
    qualifications = Qualification.objects.count()
    response = client.post(reverse("vendor:offer-create"), {
        "name": "Sauvegarde", "service_model": "SaaS", "locations": ["FR"],
        "state": "published", "provider": world.offer_b.provider_id, "status": "qualified",
        "decision_number": "ANSSI-PIRATE", "valid_until": "2099-01-01", "is_current": "on",
    })
    assert response.status_code == 302
    offer = Offer.objects.get(name="Sauvegarde")
    assert (offer.state, offer.provider_id) == ("draft", world.offer.provider_id)
    assert Qualification.objects.count() == qualifications


def test_order_cannot_point_at_another_administrations_search_or_an_unseen_offer(api, world):
    """References are scoped like reads: another administration's search or a draft offer is a 400 naming it."""
    client = api(world.users["buyer"])
    count = Order.objects.count()
    foreign = client.post("/api/v1/orders/", {**order_payload(world), "search": world.search_b.pk}, format="json")
    unseen = client.post("/api/v1/orders/", {**order_payload(world), "offer": world.draft.slug}, format="json")
    assert (foreign.status_code, unseen.status_code) == (400, 400)
    assert "search" in foreign.json() and "offer" in unseen.json()
    assert Order.objects.count() == count
