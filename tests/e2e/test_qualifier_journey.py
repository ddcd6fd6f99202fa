"""A qualifier suspends qualifications in the admin, with a reason; the public pages follow at once."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

SENSITIVE_RESULTS = "/catalogue/?eligible_for=sensitive"
BY_FORM = "IaaS Secure Temple"  # suspended from its change form
BY_ACTION = "PaaS OpenShift"  # suspended with the bulk action and its confirmation page


def test_qualifier_suspends_and_catalogue_follows(demo, new_page, journey):
    """A suspension with a reason changes the offer's badge and history and removes it from sensitive results."""
    from catalogue.models import Qualification, QualificationStatus

    shots = journey("qualifier")
    visitor = new_page()
    visitor.goto(SENSITIVE_RESULTS)
    for name in (BY_FORM, BY_ACTION):
        expect(visitor.locator("#results").get_by_role("link", name=name)).to_be_visible()
    shots.shot(visitor, "sensitive-results-before")

    # The change form: new status and the mandatory reason.
    anssi = new_page()
    login(anssi, "anssi", next_path="/admin/catalogue/qualification/")
    search = anssi.locator("#changelist-search").get_by_role("textbox")
    search.fill(BY_FORM)
    search.press("Enter")
    expect(anssi.locator("#result_list tbody tr")).to_have_count(1)
    anssi.get_by_role("link", name=BY_FORM, exact=True).click()
    anssi.get_by_label("Statut").select_option(label="Suspendue")
    anssi.get_by_label("Motif du changement").fill("Audit de surveillance défavorable : écarts majeurs.")
    shots.shot(anssi, "admin-change-form")
    anssi.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(anssi.locator(".messagelist")).to_contain_text("modifié")
    shots.shot(anssi, "admin-saved")

    # The bulk action asks for a reason on a confirmation page.
    anssi.goto(f"/admin/catalogue/qualification/?q={BY_ACTION.replace(' ', '+')}")
    row = anssi.get_by_role("row").filter(has=anssi.get_by_role("link", name=BY_ACTION, exact=True))
    row.get_by_role("checkbox").check()
    action = anssi.get_by_role("combobox", name=re.compile(r"^Action"))
    action.select_option(label="Suspendre les qualifications sélectionnées")
    anssi.get_by_role("button", name="Envoyer").click()
    expect(anssi.get_by_role("list").filter(has_text=BY_ACTION).first).to_be_visible()
    anssi.get_by_label("Motif").fill("Non-conformité relevée lors de l'audit de suivi.")
    shots.shot(anssi, "admin-bulk-confirmation")
    anssi.get_by_role("button", name="Confirmer").click()
    expect(anssi.locator(".messagelist")).to_contain_text(re.compile(r"1"))
    shots.shot(anssi, "admin-bulk-done")

    # The offer page shows the new badge and the reason in its history.
    visitor.goto("/catalogue/?q=Secure+Temple")
    visitor.locator("#results").get_by_role("link", name=BY_FORM).click()
    expect(visitor.locator("#qualification")).to_contain_text("SecNumCloud · Suspendue")
    expect(visitor.locator("#history")).to_contain_text("Audit de surveillance défavorable")
    expect(visitor.locator("#eligibility")).to_contain_text("Sensibles")
    shots.shot(visitor, "offer-suspended")

    # Both leave the sensitive-data results.
    visitor.goto(SENSITIVE_RESULTS)
    expect(visitor.locator("#result-count")).to_be_visible()
    for name in (BY_FORM, BY_ACTION):
        expect(visitor.locator("#results").get_by_role("link", name=name)).to_have_count(0)
    shots.shot(visitor, "sensitive-results-after")

    suspended = Qualification.objects.filter(is_current=True, offer__name__in=[BY_FORM, BY_ACTION])
    assert {q.status for q in suspended} == {QualificationStatus.SUSPENDED}
    reasons = {q.offer.name: q.events.order_by("-created_at").first().reason for q in suspended}
    assert reasons == {BY_FORM: "Audit de surveillance défavorable : écarts majeurs.",
                       BY_ACTION: "Non-conformité relevée lors de l'audit de suivi."}
    assert {q.events.order_by("-created_at").first().actor.username for q in suspended} == {"anssi"}
