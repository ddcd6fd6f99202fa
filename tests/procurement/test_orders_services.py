"""Order services: drafting, prices computed by the server, every refusal code, the workflow and notifications."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from broker import roles
from broker.errors import RuleViolation
from catalogue.models import OfferState, QualificationStatus
from procurement.models import Notification, NotificationKind, Order, OrderEvent, OrderStatus, Referencing
from procurement.services import orders as services
from tests.factories import (
    FrameworkFactory,
    LotFactory,
    OfferFactory,
    QualificationFactory,
    make_user,
)
from tests.procurement.order_builders import (
    END,
    START,
    build_market,
    make_order,
    order_data,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def market(provider):
    return build_market(provider=provider)


def refusal(callable_, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        callable_(**kwargs)
    return caught.value


# --- Drafting ------------------------------------------------------------------------------------------------------

def test_create_computes_price_and_reference_on_the_server(market, users, today):
    """A draft's unit price is the list price less the framework's discount; amount = unit price × quantity."""
    order, created = services.order_create(user=users["buyer"], data=order_data(market, quantity=12), today=today)
    order.refresh_from_db()
    assert created is True
    assert order.unit_price == Decimal("90.00") and order.amount == Decimal("1080.00")
    assert re.fullmatch(r"BC-2026-\d{6}", order.reference)
    assert order.status == OrderStatus.DRAFT and order.organisation == users["buyer"].profile.organisation
    assert list(order.events.values_list("status_from", "status_to")) == [("", OrderStatus.DRAFT)]


def test_create_uses_the_lot_specific_discount(market, users, today):
    """A referencing's own discount replaces the framework's."""
    Referencing.objects.filter(pk=market.referencing.pk).update(discount_percent=Decimal("25"))
    order, _ = services.order_create(user=users["buyer"], data=order_data(market, quantity=3), today=today)
    assert order.unit_price == Decimal("75.00") and order.amount == Decimal("225.00")


def test_create_refuses_a_client_price(market, users, today):
    """Mass assignment: a price, an amount or a status sent by a client is refused and nothing is created."""
    for field in ("unit_price", "amount", "status"):
        violation = refusal(services.order_create, user=users["buyer"], today=today,
                            data={**order_data(market), field: "1"})
        assert violation.code == "invalid_field" and violation.field == field
    assert Order.objects.count() == 0


def test_create_refuses_a_lot_of_another_framework(market, users, today):
    """The lot must belong to the chosen framework."""
    other_lot = LotFactory(framework=FrameworkFactory())
    violation = refusal(services.order_create, user=users["buyer"], today=today,
                        data=order_data(market, lot=other_lot))
    assert violation.code == "invalid_lot" and violation.field == "lot"
    assert Order.objects.count() == 0


def test_create_refuses_an_offer_not_referenced_in_the_lot(market, users, provider, today):
    """An offer that is not referenced in the lot cannot be priced, so not drafted."""
    violation = refusal(services.order_create, user=users["buyer"], today=today,
                        data=order_data(market, offer=OfferFactory(provider=provider)))
    assert violation.code == "not_referenced"
    assert "n'est pas référencée dans le lot 1" in violation.message


def test_create_refuses_a_search_of_another_organisation(market, users, other_organisation, today):
    """An order may only point to a recorded search of its own administration."""
    from procurement.models import RecordedSearch

    foreign = RecordedSearch.objects.create(owner=users["other_buyer"], organisation=other_organisation)
    violation = refusal(services.order_create, user=users["buyer"], today=today,
                        data=order_data(market, search=foreign))
    assert violation.code == "invalid_search"
    own = RecordedSearch.objects.create(owner=users["buyer"], organisation=users["buyer"].profile.organisation)
    order, _ = services.order_create(user=users["buyer"], data=order_data(market, search=own), today=today)
    assert order.search == own


def test_create_refuses_dates_in_the_wrong_order(market, users, today):
    """The service ends on or after it starts."""
    violation = refusal(services.order_create, user=users["buyer"], today=today,
                        data=order_data(market, starts_on=END, ends_on=START))
    assert violation.code == "invalid_dates" and violation.field == "ends_on"


@pytest.mark.parametrize("role", ["vendor", "qualifier", "catalogue_manager"])
def test_only_buyers_and_approvers_draft_orders(market, users, today, role):
    """Vendors, ANSSI staff and catalogue managers cannot order."""
    with pytest.raises(PermissionDenied):
        services.order_create(user=users[role], data=order_data(market), today=today)
    assert Order.objects.count() == 0


def test_idempotency_key_returns_the_first_order(market, users, today):
    """The same key from the same user returns the first order; another user's identical key is theirs."""
    first, created = services.order_create(user=users["buyer"], data=order_data(market), idempotency_key="k-1",
                                           today=today)
    again, created_again = services.order_create(user=users["buyer"], data=order_data(market, quantity=99),
                                                 idempotency_key="k-1", today=today)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.quantity == 12
    other, other_created = services.order_create(user=users["approver"], data=order_data(market),
                                                 idempotency_key="k-1", today=today)
    assert other_created and other.pk != first.pk
    assert Order.objects.count() == 2


def test_update_recomputes_the_price_of_a_draft(market, users, today):
    """The author edits a draft; the amount follows the new quantity."""
    order = make_order(market, users=users, today=today)
    services.order_update(order=order, user=users["buyer"], data={"quantity": 24})
    order.refresh_from_db()
    assert order.quantity == 24 and order.amount == Decimal("2160.00") and order.status == OrderStatus.DRAFT


def test_update_is_for_the_author_of_a_draft_only(market, users, today):
    """Another member cannot edit the draft; a submitted order cannot be edited at all."""
    order = make_order(market, users=users, today=today)
    with pytest.raises(PermissionDenied):
        services.order_update(order=order, user=users["approver"], data={"quantity": 1})
    services.order_submit(order=order, user=users["buyer"], today=today)
    violation = refusal(services.order_update, order=order, user=users["buyer"], data={"quantity": 1})
    assert violation.code == "not_draft"
    order.refresh_from_db()
    assert order.quantity == 12


# --- Submission ----------------------------------------------------------------------------------------------------

def test_submit_snapshots_price_offer_qualification_and_verdict(market, users, today):
    """Submission stores the price, offer and provider names, the qualification and the verdict, and notifies
    the administration's approvers (not the submitter)."""
    order = make_order(market, users=users, today=today)
    market.offer.list_price = Decimal("200.00")  # changed since the draft: the submission re-prices
    market.offer.save()
    services.order_submit(order=order, user=users["buyer"], today=today)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and order.submitted_at is not None
    assert (order.unit_price, order.amount) == (Decimal("180.00"), Decimal("2160.00"))
    assert (order.offer_name, order.provider_name) == (market.offer.name, "OVHcloud")
    assert order.qualification_status == QualificationStatus.QUALIFIED
    assert order.qualification_valid_until == date(2028, 1, 1)
    assert order.eligibility == {"sensitivity": "sensitive", "eligible": True, "reasons": [],
                                 "continuity_risk": False, "checked_on": "2026-11-22"}
    assert order.continuity_risk is False
    event = order.events.last()
    assert (event.actor, event.status_from, event.status_to) == (users["buyer"], "draft", "submitted")
    notified = Notification.objects.filter(kind=NotificationKind.ORDER)
    assert list(notified.values_list("recipient__username", flat=True)) == ["valideur"]
    assert notified.get().link == f"/commandes/{order.reference}/"


def test_submit_refuses_a_framework_that_ends_before_the_service(market, users, today):
    """`framework_closed`: the framework must be in force over the whole period."""
    order = make_order(market, users=users, today=today, ends_on=date(2030, 6, 30))
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "framework_closed"
    assert violation.message.startswith(f"L'accord-cadre {market.framework.reference} n'est pas en vigueur")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and not order.events.filter(status_to="submitted").exists()


def test_submit_refuses_a_terminated_framework(market, users, today):
    """`framework_closed` too once the framework is terminated before the service ends, saying when."""
    order = make_order(market, users=users, today=today)
    market.framework.terminated_on = date(2027, 3, 1)
    market.framework.save()
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "framework_closed"
    assert violation.reasons == ["Il est résilié à compter du 01/03/2027."]


def test_submit_refuses_an_offer_no_longer_referenced(market, users, today):
    """`not_referenced`: the referencing was removed after the draft."""
    order = make_order(market, users=users, today=today)
    market.referencing.delete()
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "not_referenced"
    assert "n'est pas référencée dans le lot 1" in violation.message


def test_submit_refuses_an_offer_no_longer_published(market, users, today):
    """`not_referenced` also when the offer was withdrawn from the catalogue."""
    order = make_order(market, users=users, today=today)
    market.offer.state = OfferState.WITHDRAWN
    market.offer.save()
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "not_referenced" and "n'est plus publiée" in violation.message


def test_submit_refuses_an_ineligible_offer_with_the_doctrine_reasons(market, users, today):
    """`not_eligible`: a suspended qualification cannot host sensitive data; the doctrine says why."""
    order = make_order(market, users=users, today=today)
    market.qualification.status = QualificationStatus.SUSPENDED
    market.qualification.save()
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "not_eligible"
    assert "ne permet pas d'héberger des données « Sensibles »" in violation.message
    assert violation.reasons == ["La qualification SecNumCloud n'est pas en vigueur (statut : Suspendue)."]
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT and order.eligibility == {}


def test_restricted_data_is_never_eligible(market, users, today):
    """Diffusion Restreinte data goes to no commercial offer."""
    order = make_order(market, users=users, today=today, sensitivity="restricted")
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "not_eligible" and "Diffusion Restreinte" in violation.reasons[0]


def test_submit_refuses_past_the_framework_ceiling_saying_what_remains(provider, users, today):
    """`ceiling_exceeded`: submitted orders count; the message gives what remains under the ceiling."""
    market = build_market(provider=provider, ceiling=Decimal("2000.00"))
    make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)  # 1 080 €
    order = make_order(market, users=users, today=today)  # another 1 080 €
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "ceiling_exceeded"
    assert "920,00 €" in violation.message and "2 000,00 €" in violation.message.replace("\xa0", " ")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT


def test_submit_refuses_past_the_lot_ceiling(provider, users, today):
    """The lot's own ceiling holds even when the framework has room."""
    market = build_market(provider=provider, lot_ceiling=Decimal("1500.00"))
    make_order(market, users=users, today=today, status=OrderStatus.APPROVED)
    order = make_order(market, users=users, today=today)
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "ceiling_exceeded" and "plafond du lot 1" in violation.message
    assert "420,00 €" in violation.message


def test_only_committed_orders_count_against_the_ceiling(provider, users, today):
    """Drafts, rejected and cancelled orders do not count; cancelling frees the amount."""
    market = build_market(provider=provider, ceiling=Decimal("2200.00"))
    for status in (OrderStatus.DRAFT, OrderStatus.REJECTED, OrderStatus.CANCELLED):
        make_order(market, users=users, today=today, status=status)
    committed = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    second = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    third = make_order(market, users=users, today=today)
    assert refusal(services.order_submit, order=third, user=users["buyer"], today=today).code == "ceiling_exceeded"
    services.order_cancel(order=committed, user=users["buyer"], reason="Doublon")
    services.order_submit(order=third, user=users["buyer"], today=today)
    assert Order.objects.get(pk=third.pk).status == OrderStatus.SUBMITTED
    assert Order.objects.get(pk=second.pk).status == OrderStatus.SUBMITTED


def test_continuity_risk_is_accepted_and_flagged(provider, users, today):
    """A qualification ending before the service ends is accepted, flagged, and told to the approvers."""
    market = build_market(provider=provider, valid_until=date(2027, 6, 30))
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED
    assert order.continuity_risk is True and order.eligibility["continuity_risk"] is True
    assert order.qualification_valid_until == date(2027, 6, 30)
    assert "Risque de continuité" in Notification.objects.get(recipient=users["approver"]).body


# --- Approval, rejection, cancellation, fulfilment -----------------------------------------------------------------

def test_approve_rechecks_and_stores_the_new_verdict(market, users, today):
    """Approval checks the doctrine again on its own day and stores that verdict; the author is notified."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    later = today + timedelta(days=3)
    services.order_approve(order=order, user=users["approver"], today=later)
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED and order.decided_by == users["approver"]
    assert order.eligibility["checked_on"] == later.isoformat()
    note = Notification.objects.get(recipient=users["buyer"])
    assert note.title == f"Commande {order.reference} validée"


def test_approve_refuses_an_offer_that_became_ineligible(market, users, today):
    """A qualification revoked after submission stops the approval with `not_eligible`; the order stays submitted."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    market.qualification.status = QualificationStatus.REVOKED
    market.qualification.save()
    violation = refusal(services.order_approve, order=order, user=users["approver"], today=today)
    assert violation.code == "not_eligible" and violation.reasons
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED and order.eligibility["eligible"] is True


def test_approve_refuses_a_framework_terminated_since_submission(market, users, today):
    """The framework is checked again at approval."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    market.framework.terminated_on = today
    market.framework.save()
    violation = refusal(services.order_approve, order=order, user=users["approver"], today=today)
    assert violation.code == "framework_closed"


def test_an_approver_never_approves_their_own_order(market, users, organisation, today):
    """Four eyes: the author cannot approve; another approver of the administration can."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, creator="approver")
    violation = refusal(services.order_approve, order=order, user=users["approver"], today=today)
    assert violation.code == "self_approval"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    colleague = make_user(roles.APPROVER, organisation=organisation, username="valideur-bis")
    services.order_approve(order=order, user=colleague, today=today)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.APPROVED


def test_reject_needs_a_reason(market, users, today):
    """A rejection without a reason is refused; with one it is recorded and the author notified."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    violation = refusal(services.order_reject, order=order, user=users["approver"], reason="  ")
    assert (violation.code, violation.field) == ("reason_required", "reason")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED
    services.order_reject(order=order, user=users["approver"], reason="Hors budget")
    order.refresh_from_db()
    assert order.status == OrderStatus.REJECTED
    assert order.events.last().reason == "Hors budget"
    assert "Hors budget" in Notification.objects.get(recipient=users["buyer"]).body


@pytest.mark.parametrize(("status", "action"), [
    (OrderStatus.DRAFT, "approve"),
    (OrderStatus.DRAFT, "fulfil"),
    (OrderStatus.SUBMITTED, "submit"),
    (OrderStatus.SUBMITTED, "fulfil"),
    (OrderStatus.APPROVED, "reject"),
    (OrderStatus.FULFILLED, "cancel"),
    (OrderStatus.REJECTED, "cancel"),
    (OrderStatus.CANCELLED, "submit"),
])
def test_the_transition_table_refuses_other_moves(market, users, today, status, action):
    """Only the pipeline's transitions are allowed: any other is `invalid_transition`, nothing recorded."""
    order = make_order(market, users=users, today=today, status=status)
    events = OrderEvent.objects.count()
    actor = {"submit": "buyer", "approve": "approver", "reject": "approver", "cancel": "approver",
             "fulfil": "vendor"}[action]
    call = {
        "submit": lambda: services.order_submit(order=order, user=users[actor], today=today),
        "approve": lambda: services.order_approve(order=order, user=users[actor], today=today),
        "reject": lambda: services.order_reject(order=order, user=users[actor], reason="Non"),
        "cancel": lambda: services.order_cancel(order=order, user=users[actor]),
        "fulfil": lambda: services.order_fulfil(order=order, user=users[actor]),
    }[action]
    with pytest.raises(RuleViolation) as caught:
        call()
    assert caught.value.code == "invalid_transition"
    assert Order.objects.get(pk=order.pk).status == status and OrderEvent.objects.count() == events


def test_cancel_by_author_or_approver_only(market, users, organisation, today):
    """Another buyer of the administration cannot cancel; the author and an approver can, with a reason."""
    colleague = make_user(roles.BUYER, organisation=organisation, username="acheteur-bis")
    order = make_order(market, users=users, today=today, status=OrderStatus.APPROVED)
    with pytest.raises(PermissionDenied):
        services.order_cancel(order=order, user=colleague)
    services.order_cancel(order=order, user=users["approver"], reason="Projet abandonné")
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED and order.events.last().reason == "Projet abandonné"


def test_fulfil_is_for_the_offers_provider(market, users, today):
    """Only a vendor of the offer's provider marks an approved order fulfilled."""
    order = make_order(market, users=users, today=today, status=OrderStatus.APPROVED)
    for role in ("other_vendor", "buyer", "approver"):
        with pytest.raises(PermissionDenied):
            services.order_fulfil(order=order, user=users[role])
    services.order_fulfil(order=order, user=users["vendor"])
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED


def test_a_foreign_approver_cannot_act(market, users, today):
    """Approvers of another administration are refused by the service itself, whatever the channel."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    with pytest.raises(PermissionDenied):
        services.order_approve(order=order, user=users["other_approver"], today=today)
    with pytest.raises(PermissionDenied):
        services.order_submit(order=make_order(market, users=users, today=today), user=users["other_buyer"],
                              today=today)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


def test_qualification_in_the_future_of_the_order_start_is_not_eligible(provider, users, today):
    """The doctrine looks at the service's start: a decision taken after it does not cover it."""
    market = build_market(provider=provider)
    market.qualification.delete()
    QualificationFactory(offer=market.offer, qualified_on=date(2027, 1, 15), valid_until=date(2030, 1, 15))
    order = make_order(market, users=users, today=today)
    violation = refusal(services.order_submit, order=order, user=users["buyer"], today=today)
    assert violation.code == "not_eligible"
