"""The catalogue admin: qualifiers change qualifications through the services; every other role is refused."""

from datetime import date, timedelta

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from django.utils import timezone

from catalogue.models import Offer, Qualification, QualificationEvent, QualificationStatus
from tests.factories import OfferFactory, ProviderFactory, QualificationFactory, make_user


@pytest.fixture
def qualification(db):
    return QualificationFactory(decision_number="2118", qualified_on=date(2025, 1, 1), valid_until=date(2028, 1, 1),
                                offer__name="IaaS Cloud on Demand", offer__provider__name="3DS Outscale")


@pytest.fixture
def staff(users):
    """Every role, as staff members, so that the admin itself (not the login page) answers."""
    staff_users = {}
    for role in ("buyer", "approver", "vendor", "qualifier", "catalogue_manager"):
        user = users[role]
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        staff_users[role] = user
    staff_users["superuser"] = make_user(None, username="root", is_staff=True, is_superuser=True)
    return staff_users


def change_url(qualification: Qualification) -> str:
    return reverse("admin:catalogue_qualification_change", args=[qualification.pk])


def form_data(qualification: Qualification, **changes) -> dict:
    """The change form as the page posts it, with `changes` applied."""
    values = {
        "status": qualification.status,
        "milestone": qualification.milestone,
        "referential_version": qualification.referential_version,
        "decision_number": qualification.decision_number,
        "qualified_on": qualification.qualified_on.isoformat() if qualification.qualified_on else "",
        "valid_until": qualification.valid_until.isoformat() if qualification.valid_until else "",
        "conditions": qualification.conditions,
        "reason": "",
        # The read-only history inline's management form.
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
        "events-MIN_NUM_FORMS": "0", "events-MAX_NUM_FORMS": "0",
    }
    values.update(changes)
    return values


def state(qualification: Qualification) -> tuple:
    qualification.refresh_from_db()
    return (qualification.status, qualification.valid_until, qualification.is_current,
            QualificationEvent.objects.filter(qualification=qualification).count())


# --- Changing one qualification ------------------------------------------

def test_qualifier_changes_status_with_a_reason(client, staff, qualification):
    """A qualifier suspends a decision in the change form; the service records who, why and what changed."""
    client.force_login(staff["qualifier"])

    response = client.post(change_url(qualification),
                           form_data(qualification, status="suspended", reason="Incident de sécurité en cours"))

    assert response.status_code == 302
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.SUSPENDED
    event = qualification.events.get()
    assert (event.actor, event.reason) == (staff["qualifier"], "Incident de sécurité en cours")
    assert (event.status_from, event.status_to) == ("qualified", "suspended")
    assert event.changes == {"status": ["qualified", "suspended"]}


def test_missing_reason_is_a_form_error(client, staff, qualification):
    """Without a reason the form is shown again with an error on `reason`, and nothing changes."""
    client.force_login(staff["qualifier"])
    before = state(qualification)

    response = client.post(change_url(qualification), form_data(qualification, status="suspended"))

    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    assert state(qualification) == before


@pytest.mark.parametrize(("changes", "field"), [
    ({"status": "in_progress"}, "status"),              # qualified → in progress is not a transition
    ({"valid_until": "2028-01-02"}, "valid_until"),     # past three years after qualified_on
])
def test_refused_rule_is_a_form_error_not_a_500(client, staff, qualification, changes, field):
    """A change the rules refuse shows on the form field, and nothing is written."""
    client.force_login(staff["qualifier"])
    before = state(qualification)

    response = client.post(change_url(qualification), form_data(qualification, reason="Correction", **changes))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert state(qualification) == before


@pytest.mark.parametrize("role", ["catalogue_manager", "vendor", "buyer", "approver"])
def test_other_roles_get_403_on_the_change_view(client, staff, qualification, role):
    """Catalogue managers, vendors, buyers and approvers cannot change a qualification, even as staff."""
    client.force_login(staff[role])
    before = state(qualification)

    response = client.post(change_url(qualification),
                           form_data(qualification, status="suspended", reason="Tentative"))

    assert response.status_code == 403
    assert state(qualification) == before


@pytest.mark.parametrize("role", ["vendor", "buyer"])
def test_non_staff_are_sent_to_the_login_page(client, users, qualification, role):
    """Without staff status the admin does not open at all."""
    client.force_login(users[role])
    before = state(qualification)

    response = client.post(change_url(qualification), form_data(qualification, status="suspended", reason="x"))

    assert response.status_code == 302 and "/login/" in response["Location"]
    assert state(qualification) == before


def test_catalogue_manager_sees_qualifications_read_only(client, staff, qualification):
    """The catalogue manager sees the list and the decision, with no form to change it."""
    client.force_login(staff["catalogue_manager"])

    listing = client.get(reverse("admin:catalogue_qualification_changelist"))
    detail = client.get(change_url(qualification))

    assert listing.status_code == 200 and qualification in listing.context["cl"].result_list
    assert detail.status_code == 200
    assert 'name="reason"' not in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


@pytest.mark.parametrize("role", ["vendor", "buyer"])
def test_staff_without_a_catalogue_role_see_no_qualifications(client, staff, qualification, role):
    """Staff who are neither qualifiers nor catalogue managers are refused even the list."""
    client.force_login(staff[role])

    assert client.get(reverse("admin:catalogue_qualification_changelist")).status_code == 403
    assert client.get(change_url(qualification)).status_code == 403


@pytest.mark.parametrize("role", ["qualifier", "superuser"])
def test_no_one_deletes_a_qualification(client, staff, qualification, role):
    """The history must stay: even a superuser cannot delete a decision."""
    client.force_login(staff[role])

    response = client.post(reverse("admin:catalogue_qualification_delete", args=[qualification.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Qualification.objects.filter(pk=qualification.pk).exists()


def test_superuser_changes_through_the_services_too(client, staff, qualification):
    """A superuser's change is also recorded with its reason."""
    client.force_login(staff["superuser"])

    response = client.post(change_url(qualification),
                           form_data(qualification, valid_until="2027-06-30", reason="Décision rectificative"))

    assert response.status_code == 302
    assert qualification.events.get().changes == {"valid_until": ["2028-01-01", "2027-06-30"]}


def test_history_shows_events_with_actor_and_reason(client, staff, qualification):
    """The change page lists the history: who, why, what changed."""
    client.force_login(staff["qualifier"])
    client.post(change_url(qualification), form_data(qualification, status="suspended", reason="Audit en cours"))

    page = client.get(change_url(qualification)).content.decode()

    assert "Audit en cours" in page and "anssi" in page
    assert "statut : qualified → suspended" in page


def test_replaced_decision_is_read_only(client, staff, qualification):
    """A decision no longer current is history: its change view refuses a POST."""
    Qualification.objects.filter(pk=qualification.pk).update(is_current=False)
    client.force_login(staff["qualifier"])

    response = client.post(change_url(qualification), form_data(qualification, status="suspended", reason="x"))

    assert response.status_code == 403
    assert not QualificationEvent.objects.exists()


def test_adding_a_decision_renews_through_the_service(client, staff, qualification):
    """Adding a decision for an offer makes it current; the previous one stays in the history."""
    client.force_login(staff["qualifier"])

    response = client.post(reverse("admin:catalogue_qualification_add"), {
        "offer": qualification.offer.pk, "status": "qualified", "milestone": "", "referential_version": "3.2",
        "decision_number": "4100", "qualified_on": "2026-11-01", "valid_until": "", "conditions": "",
        "reason": "Renouvellement", "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
    })

    assert response.status_code == 302
    new = Qualification.objects.get(offer=qualification.offer, is_current=True)
    assert (new.decision_number, new.valid_until) == ("4100", date(2029, 11, 1))
    assert new.events.get().reason == "Renouvellement"
    qualification.refresh_from_db()
    assert not qualification.is_current


def test_catalogue_manager_cannot_add_a_decision(client, staff, qualification):
    """The add view is refused to a catalogue manager."""
    client.force_login(staff["catalogue_manager"])

    response = client.post(reverse("admin:catalogue_qualification_add"), {
        "offer": qualification.offer.pk, "status": "qualified", "reason": "x",
        "events-TOTAL_FORMS": "0", "events-INITIAL_FORMS": "0",
    })

    assert response.status_code == 403
    assert Qualification.objects.count() == 1


# --- Bulk actions --------------------------------------------------------

def changelist_url() -> str:
    return reverse("admin:catalogue_qualification_changelist")


def test_bulk_suspend_asks_for_a_reason_first(client, staff, qualification):
    """Choosing the action shows a confirmation page with a reason field; nothing changes yet."""
    client.force_login(staff["qualifier"])

    response = client.post(changelist_url(), {"action": "suspend", helpers.ACTION_CHECKBOX_NAME: [qualification.pk]})

    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    assert state(qualification)[0] == QualificationStatus.QUALIFIED
    assert not QualificationEvent.objects.exists()


def test_bulk_suspend_with_a_reason_records_events_and_reports_refusals(client, staff, qualification):
    """Confirmed with a reason, each decision is suspended with an event; a revoked one is reported as refused."""
    second = QualificationFactory()
    revoked = QualificationFactory(status=QualificationStatus.REVOKED)
    client.force_login(staff["qualifier"])

    response = client.post(changelist_url(), {
        "action": "suspend", helpers.ACTION_CHECKBOX_NAME: [qualification.pk, second.pk, revoked.pk],
        "apply": "1", "reason": "Campagne de contrôle",
    }, follow=True)

    assert response.status_code == 200
    for suspended in (qualification, second):
        suspended.refresh_from_db()
        assert suspended.status == QualificationStatus.SUSPENDED
        assert suspended.events.get().reason == "Campagne de contrôle"
    revoked.refresh_from_db()
    assert revoked.status == QualificationStatus.REVOKED and not revoked.events.exists()
    shown = [str(message) for message in response.context["messages"]]
    assert any("2 qualifications" in message for message in shown)
    assert any(message.startswith("Refusé") and str(revoked.offer) in message for message in shown)


def test_bulk_mark_expired_without_reason_changes_nothing(client, staff, qualification):
    """Confirming without a reason shows the page again with an error."""
    client.force_login(staff["qualifier"])

    response = client.post(changelist_url(), {
        "action": "mark_expired", helpers.ACTION_CHECKBOX_NAME: [qualification.pk], "apply": "1", "reason": "  ",
    })

    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    assert state(qualification)[0] == QualificationStatus.QUALIFIED


def test_bulk_mark_expired(client, staff, qualification):
    """Mark expired applies the status with the reason."""
    client.force_login(staff["qualifier"])

    client.post(changelist_url(), {"action": "mark_expired", helpers.ACTION_CHECKBOX_NAME: [qualification.pk],
                                   "apply": "1", "reason": "Échéance dépassée"})

    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.EXPIRED
    assert qualification.events.get().status_to == QualificationStatus.EXPIRED


def test_catalogue_manager_cannot_run_the_bulk_action(client, staff, qualification):
    """The action is not offered to a catalogue manager and changes nothing when posted."""
    client.force_login(staff["catalogue_manager"])

    client.post(changelist_url(), {"action": "suspend", helpers.ACTION_CHECKBOX_NAME: [qualification.pk],
                                   "apply": "1", "reason": "x"})

    assert state(qualification)[0] == QualificationStatus.QUALIFIED
    assert not QualificationEvent.objects.exists()


# --- List filters and search ---------------------------------------------

def test_expires_within_filter(client, staff):
    """30/90/180 days keep current decisions in force whose validity ends within that many days."""
    today = timezone.localdate()

    def expiring_in(days: int, **kwargs) -> Qualification:
        return QualificationFactory(qualified_on=today - timedelta(days=600),
                                    valid_until=today + timedelta(days=days), **kwargs)

    soon, quarter, half, later = expiring_in(20), expiring_in(60), expiring_in(150), expiring_in(400)
    replaced = expiring_in(10, is_current=False)
    revoked = expiring_in(15, status=QualificationStatus.REVOKED)
    past = QualificationFactory(qualified_on=today - timedelta(days=900), valid_until=today - timedelta(days=1))
    client.force_login(staff["qualifier"])

    def listed(days: int) -> set:
        response = client.get(changelist_url(), {"expire_dans": str(days)})
        return set(response.context["cl"].result_list)

    assert listed(30) == {soon}
    assert listed(90) == {soon, quarter}
    assert listed(180) == {soon, quarter, half}
    assert not {later, replaced, revoked, past} & listed(180)


def test_list_shows_provider_decision_and_days_left(client, staff, qualification):
    """The list shows the offer, the provider, the decision number and the days left."""
    client.force_login(staff["qualifier"])

    page = client.get(changelist_url()).content.decode()

    days = (qualification.valid_until - timezone.localdate()).days
    assert "IaaS Cloud on Demand" in page and "3DS Outscale" in page and "2118" in page
    assert f">{days}<" in page


def test_search_by_provider_and_offer(client, staff, qualification):
    """Search matches the provider's or the offer's name."""
    other = QualificationFactory(offer__name="CegNumCloud Secured IaaS", offer__provider__name="Cegedim")
    client.force_login(staff["catalogue_manager"])

    by_provider = client.get(changelist_url(), {"q": "outscale"}).context["cl"].result_list
    by_offer = client.get(changelist_url(), {"q": "cegnumcloud secured"}).context["cl"].result_list

    assert list(by_provider) == [qualification]
    assert list(by_offer) == [other]


# --- History admin -------------------------------------------------------

def test_history_admin_is_read_only_for_everyone(client, staff, qualification):
    """Events can be viewed by a qualifier but neither added, changed nor deleted."""
    event = QualificationEvent.objects.create(qualification=qualification, actor=staff["qualifier"],
                                              reason="Création", status_to="qualified")
    client.force_login(staff["qualifier"])
    url = reverse("admin:catalogue_qualificationevent_change", args=[event.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "Réécrit"}).status_code == 403
    assert client.get(reverse("admin:catalogue_qualificationevent_add")).status_code == 403
    assert client.post(reverse("admin:catalogue_qualificationevent_delete", args=[event.pk]),
                       {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.reason == "Création"


# --- Providers and offers ------------------------------------------------

def test_catalogue_manager_changes_a_provider(client, staff):
    """A catalogue manager edits a provider's declared holdings."""
    provider = ProviderFactory(name="Numspot", slug="numspot")
    client.force_login(staff["catalogue_manager"])

    response = client.post(reverse("admin:catalogue_provider_change", args=[provider.pk]), {
        "name": "Numspot", "slug": "numspot", "legal_name": "", "siren": "", "vat_number": "",
        "seat_country": "FR", "largest_non_eu_holding": "10", "total_non_eu_holding": "20",
        "data_locations": '["FR"]', "support_locations": '["FR"]', "website": "",
    })

    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.largest_non_eu_holding, provider.total_non_eu_holding) == (10, 20)


@pytest.mark.parametrize("role", ["qualifier", "vendor"])
def test_others_cannot_change_a_provider(client, staff, role):
    """Qualifiers only look at providers; vendors do not reach them in the admin."""
    provider = ProviderFactory(name="Numspot", slug="numspot", website="")
    client.force_login(staff[role])

    response = client.post(reverse("admin:catalogue_provider_change", args=[provider.pk]), {
        "name": "Renamed", "slug": "numspot", "seat_country": "US", "data_locations": "[]",
        "support_locations": "[]",
    })

    assert response.status_code == 403
    provider.refresh_from_db()
    assert (provider.name, provider.seat_country) == ("Numspot", "FR")


def test_offer_admin_permissions_by_role(client, staff):
    """Catalogue managers may add offers; qualifiers view them; other staff see nothing; no one deletes."""
    offer = OfferFactory()
    add, change = reverse("admin:catalogue_offer_add"), reverse("admin:catalogue_offer_change", args=[offer.pk])
    delete = reverse("admin:catalogue_offer_delete", args=[offer.pk])
    expected = {"catalogue_manager": (200, 200, 403), "qualifier": (403, 200, 403), "vendor": (403, 403, 403),
                "buyer": (403, 403, 403)}

    for role, codes in expected.items():
        client.force_login(staff[role])
        assert (client.get(add).status_code, client.get(change).status_code, client.get(delete).status_code) == codes
    assert Offer.objects.filter(pk=offer.pk).exists()


def test_offer_state_is_not_editable_in_the_admin(client, staff):
    """Publication moves through the review pipeline: the state is shown, not an input."""
    offer = OfferFactory()
    client.force_login(staff["catalogue_manager"])

    page = client.get(reverse("admin:catalogue_offer_change", args=[offer.pk])).content.decode()

    assert 'name="state"' not in page
    assert 'name="locations-TOTAL_FORMS"' in page and 'name="certifications-TOTAL_FORMS"' in page


def test_admin_index_shows_each_role_only_what_it_may_use(client, staff):
    """The index lists qualifications to qualifiers and managers, and nothing of the catalogue to a vendor."""
    client.force_login(staff["vendor"])
    vendor_models = {m["object_name"] for app in client.get(reverse("admin:index")).context["app_list"]
                     for m in app["models"]}
    client.force_login(staff["qualifier"])
    qualifier_models = {m["object_name"]: m for app in client.get(reverse("admin:index")).context["app_list"]
                        for m in app["models"]}

    assert not vendor_models & {"Qualification", "Offer", "Provider"}
    assert qualifier_models["Qualification"]["perms"]["change"] is True
    assert qualifier_models["Offer"]["perms"]["change"] is False
