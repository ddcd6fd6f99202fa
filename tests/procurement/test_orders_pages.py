"""Order pages: every role on every page and action, the drafting form, refusals shown with the user's input."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from catalogue.models import QualificationStatus
from procurement.models import Order, OrderStatus
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


@pytest.fixture
def browser(users):
    """browser(role) gives a test client logged in as that role (anonymous: not logged in)."""

    def make(role: str) -> Client:
        client = Client()
        if users[role] is not None:
            client.force_login(users[role])
        return client

    return make


def form_fields(market, **overrides) -> dict:
    data = {
        "offer": market.offer.slug, "referencing": market.referencing.pk, "quantity": "12",
        "sensitivity": "sensitive", "starts_on": START.isoformat(), "ends_on": END.isoformat(),
        "justification": "Hébergement de l'application de gestion des titres.", "idempotency_key": "",
    }
    return {**data, **overrides}


def text(response) -> str:
    return response.content.decode()


# Expected answer for each role, by action, on an order in the status the action needs (302: done).
MATRIX = {
    "submit": (OrderStatus.DRAFT, {
        "buyer": 302, "approver": 302, "other_buyer": 404, "other_approver": 404, "vendor": 404,
        "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.SUBMITTED),
    "approve": (OrderStatus.SUBMITTED, {
        "buyer": 403, "approver": 302, "other_buyer": 404, "other_approver": 404, "vendor": 403,
        "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.APPROVED),
    "reject": (OrderStatus.SUBMITTED, {
        "buyer": 403, "approver": 302, "other_buyer": 404, "other_approver": 404, "vendor": 403,
        "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.REJECTED),
    "cancel": (OrderStatus.APPROVED, {
        "buyer": 302, "approver": 302, "other_buyer": 404, "other_approver": 404, "vendor": 403,
        "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.CANCELLED),
    "fulfil": (OrderStatus.APPROVED, {
        "buyer": 403, "approver": 403, "other_buyer": 404, "other_approver": 404, "vendor": 302,
        "other_vendor": 404, "qualifier": 404, "catalogue_manager": 403,
    }, OrderStatus.FULFILLED),
}
CASES = [(action, role) for action in MATRIX for role in ROLES if role != "anonymous"]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_action_buttons_by_role(browser, market, users, today, action, role):
    """Each action's POST works for the right role (redirect to the order), is 403 for a wrong role that sees
    the order and 404 for the others; the status changes only on success."""
    status_before, expected_by_role, status_after = MATRIX[action]
    expected = expected_by_role[role]
    order = make_order(market, users=users, today=today, status=status_before)
    response = browser(role).post(f"/commandes/{order.reference}/{action}/", {"reason": "Motif"})
    assert response.status_code == expected
    order.refresh_from_db()
    if expected == 302:
        assert response["Location"] == f"/commandes/{order.reference}/"
        assert order.status == status_after and order.events.last().actor == users[role]
    else:
        assert order.status == status_before


@pytest.mark.parametrize("action", list(MATRIX))
def test_anonymous_actions_go_to_login(browser, market, users, today, action):
    """Without a session every action redirects to the login page and changes nothing."""
    status_before = MATRIX[action][0]
    order = make_order(market, users=users, today=today, status=status_before)
    response = browser("anonymous").post(f"/commandes/{order.reference}/{action}/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/?next=")
    assert Order.objects.get(pk=order.pk).status == status_before


READERS = {"anonymous": 302, "buyer": 200, "approver": 200, "other_buyer": 404, "other_approver": 404,
           "vendor": 200, "other_vendor": 404, "qualifier": 404, "catalogue_manager": 200}


@pytest.mark.parametrize("role", ROLES)
def test_detail_page_by_role(browser, market, users, today, role):
    """The order page opens for its readers only; other organisations and providers get a 404."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    response = browser(role).get(f"/commandes/{order.reference}/")
    assert response.status_code == READERS[role]
    if READERS[role] == 200:
        assert order.reference in text(response)


# The buttons each reader sees on a submitted order, exactly what `abilities` allows.
BUTTONS = {"buyer": {"cancel"}, "approver": {"approve", "reject", "cancel"}, "vendor": set(),
           "catalogue_manager": set()}


@pytest.mark.parametrize("role", list(BUTTONS))
def test_detail_page_shows_exactly_the_allowed_buttons(browser, market, users, today, role):
    """A page never offers a button the server would refuse."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    page = text(browser(role).get(f"/commandes/{order.reference}/"))
    shown = set(re.findall(rf'action="/commandes/{order.reference}/(\w+)/"', page))
    assert shown == BUTTONS[role]


def test_vendor_sees_the_fulfil_button_on_an_approved_order(browser, market, users, today):
    """The offer's vendor is offered « Déclarer exécutée » once the order is approved."""
    order = make_order(market, users=users, today=today, status=OrderStatus.APPROVED)
    page = text(browser("vendor").get(f"/commandes/{order.reference}/"))
    assert set(re.findall(rf'action="/commandes/{order.reference}/(\w+)/"', page)) == {"fulfil"}


def test_detail_page_shows_verdict_risk_and_history(browser, provider, users, today):
    """The page shows the verdict, the continuity-risk warning, snapshots and the status history."""
    market = build_market(provider=provider, valid_until=date(2027, 6, 30))
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    page = text(browser("approver").get(f"/commandes/{order.reference}/"))
    assert 'id="continuity-risk"' in page and "30 juin 2027" in page
    assert "Éligible" in page and "Qualifiée" in page
    assert "Brouillon → Soumise" in page.replace("&rarr;", "→")
    assert "1\u202f080,00 €" in page or "1 080,00 €" in page or "1\xa0080,00 €" in page


def test_draft_page_shows_an_indicative_verdict(browser, market, users, today):
    """Before submission the page previews the doctrine's verdict and its reasons."""
    market.qualification.status = QualificationStatus.SUSPENDED
    market.qualification.save()
    order = make_order(market, users=users, today=today)
    page = text(browser("buyer").get(f"/commandes/{order.reference}/"))
    assert "Vérification indicative" in page and "Non éligible" in page
    assert "La qualification SecNumCloud n&#x27;est pas en vigueur" in page


def test_refused_submission_is_shown_with_its_message_and_reasons(browser, market, users, today):
    """A refusal re-displays the order with the service's message and the doctrine's reasons in an alert."""
    market.qualification.status = QualificationStatus.SUSPENDED
    market.qualification.save()
    order = make_order(market, users=users, today=today)
    response = browser("buyer").post(f"/commandes/{order.reference}/submit/")
    assert response.status_code == 200
    page = text(response)
    assert 'data-code="not_eligible"' in page and "fr-alert--error" in page
    assert "ne permet pas d&#x27;héberger des données « Sensibles »" in page
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_rejection_without_reason_keeps_the_form(browser, market, users, today):
    """Rejecting with no reason shows `reason_required`'s message on the field; the order stays submitted."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    response = browser("approver").post(f"/commandes/{order.reference}/reject/", {"reason": ""})
    page = text(response)
    assert response.status_code == 200 and 'data-code="reason_required"' in page
    assert "Indiquez le motif du rejet." in page
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


def test_refused_action_keeps_the_reason_typed(browser, market, users, today):
    """When an action is refused, the reason the user typed is still in the form."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    market.framework.terminated_on = today
    market.framework.save()
    response = browser("approver").post(f"/commandes/{order.reference}/approve/")
    assert 'data-code="framework_closed"' in text(response)
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED


def test_self_approval_is_not_offered_and_refused(browser, market, users, today):
    """An approver's own order has no « Valider » button, and a forged POST is refused with its message."""
    order = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED, creator="approver")
    client = browser("approver")
    page = text(client.get(f"/commandes/{order.reference}/"))
    assert f'action="/commandes/{order.reference}/approve/"' not in page
    response = client.post(f"/commandes/{order.reference}/approve/")
    assert 'data-code="self_approval"' in text(response)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.SUBMITTED


# --- Drafting from an offer ----------------------------------------------------------------------------------------

CREATE_PAGE = {"anonymous": 302, "buyer": 200, "approver": 200, "other_buyer": 200, "other_approver": 200,
               "vendor": 403, "other_vendor": 403, "qualifier": 403, "catalogue_manager": 403}


@pytest.mark.parametrize("role", ROLES)
def test_create_page_by_role(browser, market, role):
    """The drafting form is for buyers and approvers; others are refused, visitors sent to log in."""
    response = browser(role).get(f"/commandes/nouvelle/?offer={market.offer.slug}")
    assert response.status_code == CREATE_PAGE[role]
    if CREATE_PAGE[role] == 200:
        assert market.framework.reference in text(response) and "90,00 €" in text(response)


@pytest.mark.parametrize("role", ["vendor", "catalogue_manager"])
def test_create_post_refused_for_other_roles(browser, market, role):
    """A forged POST by a role that cannot order creates nothing."""
    response = browser(role).post(f"/commandes/nouvelle/?offer={market.offer.slug}", form_fields(market))
    assert response.status_code == 403 and Order.objects.count() == 0


def test_create_page_drafts_the_order_priced_by_the_server(browser, market, users):
    """Posting the form creates a draft priced from the referencing and opens it."""
    response = browser("buyer").post(f"/commandes/nouvelle/?offer={market.offer.slug}",
                                     form_fields(market, unit_price="0.01", amount="1"))
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/commandes/{order.reference}/"
    assert (order.unit_price, order.amount, order.status) == (Decimal("90.00"), Decimal("1080.00"), "draft")
    assert order.created_by == users["buyer"]


def test_create_page_preview_shows_the_amount_without_saving(browser, market):
    """« Calculer le montant » shows the computed price and creates nothing."""
    response = browser("buyer").post(f"/commandes/nouvelle/?offer={market.offer.slug}",
                                     {**form_fields(market, quantity="5"), "preview": "1"})
    page = text(response)
    assert response.status_code == 200 and 'id="quote"' in page and "450,00" in page
    assert Order.objects.count() == 0


def test_create_page_field_errors_keep_the_input(browser, market):
    """Dates in the wrong order show a field-level error; the typed justification is kept."""
    response = browser("buyer").post(f"/commandes/nouvelle/?offer={market.offer.slug}",
                                     form_fields(market, starts_on="2027-05-01", ends_on="2027-01-01",
                                                 justification="Mon besoin précis"))
    page = text(response)
    assert response.status_code == 200 and "La fin du service ne peut précéder son début." in page
    assert 'aria-invalid="true"' in page and "Mon besoin précis" in page
    assert Order.objects.count() == 0


def test_create_page_double_submit_creates_one_order(browser, market):
    """The form's idempotency key makes a double click create a single draft."""
    client = browser("buyer")
    fields = form_fields(market, idempotency_key="form-key-1")
    first = client.post(f"/commandes/nouvelle/?offer={market.offer.slug}", fields)
    second = client.post(f"/commandes/nouvelle/?offer={market.offer.slug}", fields)
    assert first["Location"] == second["Location"] and Order.objects.count() == 1


def test_create_page_only_offers_lots_referencing_the_offer(browser, market, provider):
    """A lot where the offer is not referenced cannot be chosen (field error)."""
    other = build_market(provider=provider)
    response = browser("buyer").post(f"/commandes/nouvelle/?offer={market.offer.slug}",
                                     form_fields(market, referencing=other.referencing.pk))
    assert response.status_code == 200 and 'aria-invalid="true"' in text(response)
    assert Order.objects.count() == 0


def test_create_page_without_offer_sends_to_the_catalogue(browser):
    """Ordering starts from an offer: without one, the catalogue."""
    response = browser("buyer").get("/commandes/nouvelle/")
    assert response.status_code == 302 and response["Location"] == "/catalogue/"


def test_create_page_unknown_offer_is_404(browser, market):
    """An unknown offer is a 404."""
    assert browser("buyer").get("/commandes/nouvelle/?offer=inconnue").status_code == 404


def test_edit_page_for_the_author_of_a_draft(browser, market, users, today):
    """The author edits a draft from its page; another buyer cannot."""
    order = make_order(market, users=users, today=today)
    assert browser("approver").get(f"/commandes/{order.reference}/modifier/").status_code == 403
    assert browser("other_buyer").get(f"/commandes/{order.reference}/modifier/").status_code == 404
    client = browser("buyer")
    assert client.get(f"/commandes/{order.reference}/modifier/").status_code == 200
    response = client.post(f"/commandes/{order.reference}/modifier/", form_fields(market, quantity="2"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.quantity == 2 and order.amount == Decimal("180.00")


# --- List ------------------------------------------------------------------------------------------------------------

def test_list_page_shows_visible_orders_with_badges_and_risk(browser, provider, users, today):
    """The list shows the user's administration's orders with their status and a continuity-risk tag, never a
    foreign order; filters apply."""
    market = build_market(provider=provider, valid_until=date(2027, 6, 30))
    risky = make_order(market, users=users, today=today, status=OrderStatus.SUBMITTED)
    draft = make_order(market, users=users, today=today, sensitivity="non_sensitive")
    foreign = make_order(market, users=users, today=today, creator="other_buyer")
    page = text(browser("buyer").get("/commandes/"))
    assert risky.reference in page and draft.reference in page and foreign.reference not in page
    row = page[page.index(f'id="order-{risky.reference}"'):]
    row = row[:row.index("</tr>")]
    assert "Soumise" in row and "Risque de continuité" in row
    filtered = text(browser("buyer").get("/commandes/?status=draft"))
    assert draft.reference in filtered and risky.reference not in filtered


def test_list_page_needs_login(browser):
    """Visitors are sent to log in."""
    response = browser("anonymous").get("/commandes/")
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
