"""Orders API: every role on every endpoint, coded refusals, idempotent creation, server-side prices, filters."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from catalogue.models import QualificationStatus
from procurement.models import Order, OrderEvent, OrderStatus
from tests.procurement.order_builders import (
    END,
    START,
    build_market,
    make_order,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "buyer", "approver", "other_buyer", "other_approver", "vendor", "other_vendor", "qualifier",
         "catalogue_manager")


@pytest.fixture
def market(provider):
    return build_market(provider=provider)


def payload(market, **overrides) -> dict:
    data = {
        "framework": market.framework.slug, "lot": market.lot.pk, "offer": market.offer.slug, "quantity": 12,
        "sensitivity": "sensitive", "starts_on": START.isoformat(), "ends_on": END.isoformat(),
        "justification": "Hébergement de l'application de gestion des titres.",
    }
    return {**data, **overrides}


# Expected answer for each role, by action, on an order in the status the action needs.
MATRIX = {
    # action: (status the order is in, {role: http status}, status after success)
    "submit": (OrderStatus.DRAFT, {
        "anonymous": 401, "buyer": 200, "approver": 200, "other_buyer": 404, "other_approver": 404,
        "vendor": 404, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.SUBMITTED),
    "approve": (OrderStatus.SUBMITTED, {
        "anonymous": 401, "buyer": 403, "approver": 200, "other_buyer": 404, "other_approver": 404,
        "vendor": 403, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.APPROVED),
    "reject": (OrderStatus.SUBMITTED, {
        "anonymous": 401, "buyer": 403, "approver": 200, "other_buyer": 404, "other_approver": 404,
        "vendor": 403, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.REJECTED),
    "cancel": (OrderStatus.SUBMITTED, {
        "anonymous": 401, "buyer": 200, "approver": 200, "other_buyer": 404, "other_approver": 404,
        "vendor": 403, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.CANCELLED),
    "fulfil": (OrderStatus.APPROVED, {
        "anonymous": 401, "buyer": 403, "approver": 403, "other_buyer": 404, "other_approver": 404,
        "vendor": 200, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.FULFILLED),
}
CASES = [(action, role) for action in MATRIX for role in ROLES]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_workflow_actions_by_role(api, market, users, today, action, role):
    """Each workflow action answers 200 for the right role, 403 for a wrong role that sees the order, 404 for
    those who do not see it, 401 without credentials; the status changes only on success."""
    status_before, expected_by_role, status_after = MATRIX[action]
    expected = expected_by_role[role]
    order = make_order(market, users=users, today=today, status=status_before)
    response = api(users[role]).post(f"/api/v1/orders/{order.reference}/{action}/", {"reason": "Motif"},
                                     format="json")
    assert response.status_code == expected, response.content
    order.refresh_from_db()
    if expected == 200:
        assert order.status == status_after and response.json()["status"] == status_after
        event = order.events.last()
        assert (event.actor, event.status_to) == (users[role], status_after)
    else:
        assert order.status == status_before


READERS = {"anonymous": 401, "buyer": 200, "approver": 200, "other_buyer": 404, "other_approver": 404,
           "vendor": 200, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 200}


@pytest.mark.parametrize("role", ROLES)
def test_retrieve_by_role(api, market, users, today, role):
    """Buyers and approvers of the administration, the offer's vendor and catalogue managers read a submitted
    order; other organisations and providers get a 404."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    response = api(users[role]).get(f"/api/v1/orders/{order.reference}/")
    assert response.status_code == READERS[role]
    if READERS[role] == 200:
        assert response.json()["reference"] == order.reference


@pytest.mark.parametrize("role", ROLES)
def test_list_by_role(api, market, users, today, role):
    """The list holds exactly the orders the caller may see: vendors never see drafts."""
    draft = make_order(market, users=users, today=today)
    submitted = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    foreign = make_order(market, users=users, today=today, creator="other_buyer", status=OrderStatus.SUBMITTED)
    response = api(users[role]).get("/api/v1/orders/")
    expected = {
        "anonymous": None, "buyer": {draft, submitted}, "approver": {draft, submitted},
        "other_buyer": {foreign}, "other_approver": {foreign}, "vendor": {submitted, foreign},
        "other_vendor": set(), "qualifier": set(), "catalogue_manager": {draft, submitted, foreign},
    }[role]
    if expected is None:
        assert response.status_code == 401
        return
    assert response.status_code == 200
    assert {row["reference"] for row in response.json()["results"]} == {o.reference for o in expected}


CREATORS = {"anonymous": 401, "buyer": 201, "approver": 201, "other_buyer": 201, "other_approver": 201,
            "vendor": 403, "other_vendor": 403, "qualifier": 403, "catalogue_manager": 403}


@pytest.mark.parametrize("role", ROLES)
def test_create_by_role(api, market, users, role):
    """Buyers and approvers draft orders for their own administration; no one else may."""
    response = api(users[role]).post("/api/v1/orders/", payload(market), format="json")
    assert response.status_code == CREATORS[role], response.content
    if CREATORS[role] == 201:
        order = Order.objects.get(reference=response.json()["reference"])
        assert order.created_by == users[role] and order.organisation == users[role].profile.organisation
        assert order.status == OrderStatus.DRAFT
    else:
        assert Order.objects.count() == 0


EDITORS = {"anonymous": 401, "buyer": 200, "approver": 403, "other_buyer": 404, "other_approver": 404,
           "vendor": 404, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403}


@pytest.mark.parametrize("role", ROLES)
def test_patch_draft_by_role(api, market, users, today, role):
    """Only the author edits a draft; the amount is recomputed."""
    order = make_order(market, users=users, today=today)
    response = api(users[role]).patch(f"/api/v1/orders/{order.reference}/", {"quantity": 2}, format="json")
    assert response.status_code == EDITORS[role], response.content
    order.refresh_from_db()
    if EDITORS[role] == 200:
        assert order.quantity == 2 and order.amount == Decimal("180.00") and response.json()["amount"] == "180.00"
    else:
        assert order.quantity == 12


def test_create_computes_the_price_and_refuses_a_client_price(api, market, users):
    """The server prices the order; a client-sent price or status is refused with `invalid_field`."""
    client = api(users["buyer"])
    refused = client.post("/api/v1/orders/", payload(market, unit_price="0.01", amount="0.12"), format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_field"
    assert refused.json()["field"] == "amount"
    refused = client.post("/api/v1/orders/", payload(market, status="approved"), format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_field"
    assert Order.objects.count() == 0
    created = client.post("/api/v1/orders/", payload(market, quantity=5), format="json")
    assert created.status_code == 201
    body = created.json()
    assert (body["unit_price"], body["amount"], body["status"]) == ("90.00", "450.00", "draft")


def test_patch_refuses_prices_and_status(api, market, users, today):
    """A draft's price and status are not editable: the PATCH is refused and nothing changes."""
    order = make_order(market, users=users, today=today)
    response = api(users["buyer"]).patch(f"/api/v1/orders/{order.reference}/",
                                         {"status": "approved", "unit_price": "1.00"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_field"
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and order.unit_price == Decimal("90.00")


def test_patch_refuses_a_submitted_order(api, market, users, today):
    """Only drafts are edited: `not_draft`."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    response = api(users["buyer"]).patch(f"/api/v1/orders/{order.reference}/", {"quantity": 1}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_draft"
    assert Order.objects.get(pk=order.pk).quantity == 12


def test_put_is_not_offered(api, market, users, today):
    """Orders are edited with PATCH only."""
    order = make_order(market, users=users, today=today)
    response = api(users["buyer"]).put(f"/api/v1/orders/{order.reference}/", payload(market), format="json")
    assert response.status_code == 405


def test_idempotency_key_returns_the_first_order(api, market, users):
    """A retried create with the same Idempotency-Key answers 200 with the first order's body, creating nothing."""
    client = api(users["buyer"])
    first = client.post("/api/v1/orders/", payload(market), format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    again = client.post("/api/v1/orders/", payload(market, quantity=99), format="json",
                        HTTP_IDEMPOTENCY_KEY="abc-123")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == 1 and Order.objects.get().idempotency_key == "abc-123"
    other = client.post("/api/v1/orders/", payload(market), format="json", HTTP_IDEMPOTENCY_KEY="abc-124")
    assert other.status_code == 201 and Order.objects.count() == 2


def test_idempotency_key_too_long_is_refused(api, market, users):
    """An unusable key is a coded 400, not a 500."""
    response = api(users["buyer"]).post("/api/v1/orders/", payload(market), format="json",
                                        HTTP_IDEMPOTENCY_KEY="k" * 101)
    assert response.status_code == 400 and response.json()["code"] == "invalid_idempotency_key"
    assert Order.objects.count() == 0


def test_create_validates_fields(api, market, users, other_organisation):
    """Bad input names the field: unknown lot, offer, sensitivity, a quantity of zero, a foreign search."""
    from procurement.models import RecordedSearch

    client = api(users["buyer"])
    foreign = RecordedSearch.objects.create(owner=users["other_buyer"], organisation=other_organisation)
    for field, value in (("lot", 999999), ("offer", "nope"), ("sensitivity", "secret"), ("quantity", 0),
                         ("search", foreign.pk), ("starts_on", "demain")):
        response = client.post("/api/v1/orders/", payload(market, **{field: value}), format="json")
        assert response.status_code == 400 and field in response.json(), (field, response.content)
    response = client.post("/api/v1/orders/", payload(market, ends_on="2026-01-01"), format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_dates"
    assert Order.objects.count() == 0


def test_refusal_codes_on_submit(api, provider, users, today):
    """Each submission refusal is a 400 with its code, a readable message and the doctrine's reasons."""
    market = build_market(provider=provider, ceiling=Decimal("1500.00"))
    client = api(users["buyer"])

    closed = make_order(market, users=users, today=today, ends_on=date(2031, 1, 1))
    body = client.post(f"/api/v1/orders/{closed.reference}/submit/").json()
    assert body["code"] == "framework_closed" and "n'est pas en vigueur" in body["detail"]

    too_big = make_order(market, users=users, today=today, quantity=20)
    body = client.post(f"/api/v1/orders/{too_big.reference}/submit/").json()
    assert body["code"] == "ceiling_exceeded" and "1 500,00 €" in body["detail"].replace("\xa0", " ")

    market.qualification.status = QualificationStatus.SUSPENDED
    market.qualification.save()
    ineligible = make_order(market, users=users, today=today)
    response = client.post(f"/api/v1/orders/{ineligible.reference}/submit/")
    assert response.status_code == 400
    assert response.json()["code"] == "not_eligible" and response.json()["reasons"]

    market.referencing.delete()
    response = client.post(f"/api/v1/orders/{ineligible.reference}/submit/")
    assert response.status_code == 400 and response.json()["code"] == "not_referenced"
    assert not Order.objects.filter(status=OrderStatus.SUBMITTED).exists()


def test_approver_cannot_approve_their_own_order(api, market, users, today):
    """Four eyes through the API: `self_approval`, the order stays submitted."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, creator="approver")
    response = api(users["approver"]).post(f"/api/v1/orders/{order.reference}/approve/")
    assert response.status_code == 400 and response.json()["code"] == "self_approval"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


def test_reject_needs_a_reason(api, market, users, today):
    """Rejecting without a reason answers `reason_required`; the reason is kept in the history."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    client = api(users["approver"])
    response = client.post(f"/api/v1/orders/{order.reference}/reject/", {}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "reason_required"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    response = client.post(f"/api/v1/orders/{order.reference}/reject/", {"reason": "Hors budget"}, format="json")
    assert response.status_code == 200
    assert response.json()["events"][-1] | {"created_at": None} == {
        "created_at": None, "actor": "valideur", "status_from": "submitted", "status_to": "rejected",
        "reason": "Hors budget"}


def test_invalid_transition_is_a_coded_400(api, market, users, today):
    """Cancelling a fulfilled order is `invalid_transition`."""
    order = make_order(market, users=users, today=today, status=OrderStatus.FULFILLED)
    response = api(users["buyer"]).post(f"/api/v1/orders/{order.reference}/cancel/")
    assert response.status_code == 400 and response.json()["code"] == "invalid_transition"
    assert OrderEvent.objects.filter(order=order, status_to=OrderStatus.CANCELLED).count() == 0


def test_output_has_snapshots_verdict_risk_events_and_abilities(api, provider, users, today):
    """A submitted order shows its snapshots, its verdict, its continuity risk, its history and the caller's
    abilities (the approver may approve, reject or cancel; the buyer may cancel)."""
    market = build_market(provider=provider, valid_until=date(2027, 6, 30))
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    body = api(users["approver"]).get(f"/api/v1/orders/{order.reference}/").json()
    assert body["continuity_risk"] is True
    assert body["eligibility"]["eligible"] is True and body["eligibility"]["continuity_risk"] is True
    assert (body["qualification_status"], body["qualification_valid_until"]) == ("qualified", "2027-06-30")
    assert (body["provider_name"], body["offer_name"]) == ("OVHcloud", market.offer.name)
    assert [e["status_to"] for e in body["events"]] == ["draft", "submitted"]
    assert body["abilities"] == {"update": False, "submit": False, "approve": True, "reject": True, "cancel": True,
                                 "fulfil": False}
    assert api(users["buyer"]).get(f"/api/v1/orders/{order.reference}/").json()["abilities"] == {
        "update": False, "submit": False, "approve": False, "reject": False, "cancel": True, "fulfil": False}


def test_list_filters(api, provider, users, today):
    """Filters: status (several), framework slug, continuity risk; an invalid value is a coded 400."""
    market = build_market(provider=provider)
    risky_market = build_market(provider=provider, valid_until=date(2027, 6, 30))
    draft = make_order(market, users=users, today=today)
    approved = make_order(market, users=users, today=today, status=OrderStatus.APPROVED)
    risky = make_order(risky_market, users=users, today=today, status=OrderStatus.SUBMITTED)
    client = api(users["buyer"])

    def references(query: str) -> set[str]:
        response = client.get(f"/api/v1/orders/?{query}")
        assert response.status_code == 200, response.content
        return {row["reference"] for row in response.json()["results"]}

    assert references("status=draft&status=approved") == {draft.reference, approved.reference}
    assert references(f"framework={risky_market.framework.slug}") == {risky.reference}
    assert references("continuity_risk=true") == {risky.reference}
    assert references("continuity_risk=false") == {draft.reference, approved.reference}
    response = client.get("/api/v1/orders/?status=shipped")
    assert response.status_code == 400 and response.json()["code"] == "invalid_filter"


# A workflow action, the order's status before it and who takes it.
WRITES = {
    "submit": (OrderStatus.DRAFT, "buyer", {}),
    "approve": (OrderStatus.SUBMITTED, "approver", {}),
    "reject": (OrderStatus.SUBMITTED, "approver", {"reason": "Hors budget"}),
    "cancel": (OrderStatus.APPROVED, "buyer", {"reason": "Besoin abandonné"}),
    "fulfil": (OrderStatus.APPROVED, "vendor", {}),
}


@pytest.mark.parametrize("action", WRITES)
def test_each_action_answers_the_order_as_a_fresh_read_shows_it(api, market, users, today, action):
    """The answer to a workflow action, built from what the service returns, is exactly what reading the order
    afterwards gives: status, snapshots, verdict, decision, history and abilities."""
    status_before, role, body = WRITES[action]
    order = make_order(market, users=users, today=today, status=status_before)
    client = api(users[role])
    answer = client.post(f"/api/v1/orders/{order.reference}/{action}/", body, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == client.get(f"/api/v1/orders/{order.reference}/").json()
    assert answer.json()["events"][-1]["status_to"] == Order.objects.get(pk=order.pk).status


def test_create_and_edit_answer_the_order_as_a_fresh_read_shows_it(api, market, users):
    """The answers to drafting and editing an order (with a recorded search) are what reading it gives."""
    from procurement.models import RecordedSearch

    buyer = users["buyer"]
    search = RecordedSearch.objects.create(owner=buyer, organisation=buyer.profile.organisation)
    client = api(buyer)
    created = client.post("/api/v1/orders/", payload(market, search=search.pk), format="json",
                          HTTP_IDEMPOTENCY_KEY="draft-1")
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    assert created.json() == client.get(f"/api/v1/orders/{reference}/").json()
    assert (created.json()["search"], created.json()["provider_name"]) == (search.pk, "OVHcloud")
    edited = client.patch(f"/api/v1/orders/{reference}/", {"quantity": 3}, format="json")
    assert edited.status_code == 200 and edited.json()["quantity"] == 3
    assert edited.json() == client.get(f"/api/v1/orders/{reference}/").json()
    assert Order.objects.get(reference=reference).amount == Decimal("270.00")
