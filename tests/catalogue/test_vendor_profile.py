"""Provider profiles: vendors keep them; a §19.6 change is recorded and told to ANSSI and to active customers."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from broker.errors import RuleViolation
from catalogue.models import OfferState, ProviderChange
from catalogue.services import provider_update_profile
from procurement.models import Notification, NotificationKind, OrderStatus
from tests.catalogue.vendor_builders import make_order
from tests.factories import OfferFactory, make_user

PROFILE_URL = "/espace-fournisseur/profil/"
API_URL = "/api/v1/vendor/provider/"


@pytest.fixture
def offer(provider):
    return OfferFactory(provider=provider, state=OfferState.PUBLISHED)


def told(kind=NotificationKind.PROVIDER_CHANGED) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def profile_form(provider, **changes) -> dict:
    data = {
        "legal_name": provider.legal_name, "siren": provider.siren, "vat_number": provider.vat_number,
        "seat_country": provider.seat_country, "largest_non_eu_holding": provider.largest_non_eu_holding,
        "total_non_eu_holding": provider.total_non_eu_holding, "data_locations": provider.data_locations,
        "support_locations": provider.support_locations, "website": provider.website,
    }
    data.update(changes)
    return {key: ("" if value is None else value) for key, value in data.items()}


# --- The service ---------------------------------------------------------------------------------------------

def test_a_sovereignty_change_notifies_qualifiers_and_customers_with_active_orders(users, provider, offer,
                                                                                    other_organisation):
    """Qualifiers, the buyers of submitted/approved/fulfilled orders and their approvers are told; not the others."""
    make_order(offer=offer, creator=users["buyer"], status=OrderStatus.SUBMITTED)
    make_order(offer=offer, creator=users["other_buyer"], status=OrderStatus.DRAFT)
    make_order(offer=offer, creator=users["other_buyer"], status=OrderStatus.CANCELLED)
    unrelated = OfferFactory()  # another provider's offer, ordered by the other administration
    make_order(offer=unrelated, creator=users["other_buyer"], status=OrderStatus.APPROVED)

    change = provider_update_profile(provider=provider, user=users["vendor"],
                                     values={"largest_non_eu_holding": Decimal("30"),
                                             "total_non_eu_holding": Decimal("35")})

    assert change.affects_sovereignty
    assert change.changes == {"largest_non_eu_holding": ["0.00", "30.00"], "total_non_eu_holding": ["0.00", "35.00"]}
    assert (change.actor, change.provider) == (users["vendor"], provider)
    assert told() == {"anssi", "acheteur", "valideur"}
    message = Notification.objects.filter(kind=NotificationKind.PROVIDER_CHANGED).first()
    assert "dans un délai d'un mois" in message.body
    assert "n'est plus satisfait" in message.body
    assert "OVHcloud" in message.title
    provider.refresh_from_db()
    assert provider.largest_non_eu_holding == Decimal("30")


@pytest.mark.parametrize("values", [{"seat_country": "US"}, {"data_locations": ["FR", "US"]},
                                    {"support_locations": ["IN"]}, {"total_non_eu_holding": Decimal("5")}])
def test_each_sovereignty_field_counts(users, provider, values):
    """Seat, both holdings, data and support locations all count as §19.6 changes."""
    change = provider_update_profile(provider=provider, user=users["vendor"], values=values)
    assert change.affects_sovereignty
    assert "anssi" in told()


def test_a_legal_data_change_is_recorded_but_not_broadcast(users, provider):
    """A new VAT number is recorded, flagged as not touching §19.6, and tells no one."""
    change = provider_update_profile(provider=provider, user=users["vendor"], values={"vat_number": "FR123"})
    assert not change.affects_sovereignty
    assert change.changes == {"vat_number": ["", "FR123"]}
    assert not Notification.objects.exists()


def test_no_change_records_nothing(users, provider):
    """Saving the same values records no change and tells no one."""
    assert provider_update_profile(provider=provider, user=users["vendor"],
                                   values={"seat_country": "FR", "data_locations": ["FR"]}) is None
    assert not ProviderChange.objects.exists()
    assert not Notification.objects.exists()


def test_model_rules_hold_and_nothing_changes(users, provider, other_provider):
    """A largest holding above the total, or a SIREN already taken, is refused on its field; nothing is recorded."""
    with pytest.raises(RuleViolation) as refused:
        provider_update_profile(provider=provider, user=users["vendor"],
                                values={"largest_non_eu_holding": Decimal("20"), "total_non_eu_holding": Decimal("10")})
    assert (refused.value.code, refused.value.field) == ("invalid_holdings", "largest_non_eu_holding")
    other_provider.siren = "552100554"
    other_provider.save()
    with pytest.raises(RuleViolation) as taken:
        provider_update_profile(provider=provider, user=users["vendor"], values={"siren": "552100554"})
    assert (taken.value.code, taken.value.field) == ("siren_taken", "siren")
    with pytest.raises(ValidationError) as invalid:
        provider_update_profile(provider=provider, user=users["vendor"], values={"website": "pas une adresse"})
    assert set(invalid.value.message_dict) == {"website"}
    provider.refresh_from_db()
    assert provider.largest_non_eu_holding == Decimal("0")
    assert not ProviderChange.objects.exists()


def test_a_vendor_cannot_rename_the_provider(users, provider):
    """Name and slug are not part of the profile: refused by name."""
    with pytest.raises(RuleViolation) as refused:
        provider_update_profile(provider=provider, user=users["vendor"], values={"name": "Autre"})
    assert (refused.value.code, refused.value.field) == ("field_not_allowed", "name")


@pytest.mark.parametrize("role", ["other_vendor", "buyer", "approver", "qualifier"])
def test_only_the_providers_vendors_edit_its_profile(users, provider, role):
    """Another provider's vendor and the other roles may not change the profile."""
    with pytest.raises(PermissionDenied):
        provider_update_profile(provider=provider, user=users[role], values={"vat_number": "X"})
    assert not ProviderChange.objects.exists()


# --- The page ------------------------------------------------------------------------------------------------

def test_vendor_changes_the_seat_from_the_page(client, users, provider, offer):
    """The profile form saves, warns about the one-month rule, and the history shows the change."""
    make_order(offer=offer, creator=users["buyer"], status=OrderStatus.APPROVED, decided_by=users["approver"])
    client.force_login(users["vendor"])

    response = client.post(PROFILE_URL, profile_form(provider, seat_country="CH"), follow=True)

    assert response.status_code == 200
    assert "délai d'un mois" in response.content.decode()
    assert "Suisse" in response.content.decode()
    provider.refresh_from_db()
    assert provider.seat_country == "CH"
    assert ProviderChange.objects.get().changes == {"seat_country": ["FR", "CH"]}
    assert told() == {"anssi", "acheteur", "valideur"}


def test_profile_errors_show_on_their_fields(client, users, provider):
    """Bad input answers 400 with the error on the field and changes nothing."""
    client.force_login(users["vendor"])
    response = client.post(PROFILE_URL, profile_form(provider, siren="12", largest_non_eu_holding="150"))
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"siren", "largest_non_eu_holding"}
    provider.refresh_from_db()
    assert provider.siren != "12"
    assert not ProviderChange.objects.exists()


def test_a_taken_siren_is_a_field_error(client, users, provider, other_provider):
    """The model's unique SIREN comes back as a field error, not a 500."""
    other_provider.siren = "552100554"
    other_provider.save()
    client.force_login(users["vendor"])
    response = client.post(PROFILE_URL, profile_form(provider, siren="552100554"))
    assert response.status_code == 400
    assert "siren" in response.context["form"].errors
    assert not ProviderChange.objects.exists()


@pytest.mark.parametrize("role,expected", [("buyer", 403), ("approver", 403), ("qualifier", 403),
                                           ("catalogue_manager", 403), ("vendor", 200), ("other_vendor", 200)])
def test_profile_page_is_for_vendors_only(client, users, provider, role, expected):
    """Vendors see their own provider's profile; every other role is refused."""
    client.force_login(users[role])
    response = client.get(PROFILE_URL)
    assert response.status_code == expected
    if expected == 200:
        assert response.context["provider"].pk == (provider.pk if role == "vendor" else users[role].profile.provider_id)


def test_anonymous_is_sent_to_login(client, users):
    """The profile page needs a login."""
    response = client.get(PROFILE_URL)
    assert response.status_code == 302 and "/connexion/" in response["Location"]


# --- The API -------------------------------------------------------------------------------------------------

def test_api_patch_records_and_notifies(api, users, provider, offer):
    """PATCH /vendor/provider/ changes the profile, answers the §19.6 check and the recorded change."""
    make_order(offer=offer, creator=users["buyer"], status=OrderStatus.FULFILLED)
    response = api(users["vendor"]).patch(API_URL, {"data_locations": ["FR", "US"]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["data_locations"] == ["FR", "US"]
    assert body["changes"][0]["affects_sovereignty"] is True
    assert body["sovereignty"]["passes"] is True
    assert told() == {"anssi", "acheteur", "valideur"}


def test_api_refuses_fields_outside_the_profile(api, users, provider):
    """A name or an unknown field answers 400 naming it; nothing changes."""
    response = api(users["vendor"]).patch(API_URL, {"name": "Renommé", "siren": "123456789"}, format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("field_not_allowed", "name")
    provider.refresh_from_db()
    assert (provider.name, provider.siren) == ("OVHcloud", "")


def test_api_validation_errors_name_the_field(api, users, provider):
    """Out-of-range holdings answer 400 on the field."""
    response = api(users["vendor"]).patch(API_URL, {"total_non_eu_holding": "120"}, format="json")
    assert response.status_code == 400
    assert "total_non_eu_holding" in response.json()
    response = api(users["vendor"]).patch(API_URL, {"largest_non_eu_holding": "30", "total_non_eu_holding": "10"},
                                          format="json")
    assert response.status_code == 400
    assert (response.json()["code"], response.json()["field"]) == ("invalid_holdings", "largest_non_eu_holding")
    assert not ProviderChange.objects.exists()


@pytest.mark.parametrize("role,expected", [("anonymous", 401), ("buyer", 403), ("approver", 403),
                                           ("qualifier", 403), ("catalogue_manager", 403)])
def test_api_profile_is_for_vendors_only(api, users, provider, role, expected):
    """GET and PATCH refuse every non-vendor."""
    assert api(users[role]).get(API_URL).status_code == expected
    assert api(users[role]).patch(API_URL, {"vat_number": "X"}, format="json").status_code == expected
    provider.refresh_from_db()
    assert provider.vat_number == ""


def test_api_each_vendor_gets_their_own_provider(api, users, provider, other_provider):
    """GET answers the caller's provider: a vendor never reaches another provider's profile."""
    assert api(users["vendor"]).get(API_URL).json()["slug"] == "ovhcloud"
    assert api(users["other_vendor"]).get(API_URL).json()["slug"] == "outscale"


def test_a_vendor_without_provider_is_not_a_vendor(api, db):
    """A user in the vendor group but tied to no provider is refused."""
    orphan = make_user("vendor", username="orphelin")
    assert api(orphan).get(API_URL).status_code == 403


# --- The admin -----------------------------------------------------------------------------------------------

def admin_form(provider, **changes) -> dict:
    data = {
        "name": provider.name, "slug": provider.slug, "legal_name": provider.legal_name, "siren": provider.siren,
        "vat_number": provider.vat_number, "seat_country": provider.seat_country,
        "largest_non_eu_holding": provider.largest_non_eu_holding,
        "total_non_eu_holding": provider.total_non_eu_holding,
        "data_locations": '["FR"]', "support_locations": '["FR"]', "website": "",
    }
    data.update(changes)
    return data


def test_a_change_in_the_admin_follows_the_same_rules(client, users, provider, offer):
    """A catalogue manager's §19.6 change in the admin is recorded under their name and told to ANSSI and customers."""
    make_order(offer=offer, creator=users["buyer"], status=OrderStatus.SUBMITTED)
    client.force_login(users["catalogue_manager"])
    response = client.post(f"/admin/catalogue/provider/{provider.pk}/change/",
                           admin_form(provider, name="OVHcloud SAS", data_locations='["fr", "DE"]'))
    assert response.status_code == 302
    provider.refresh_from_db()
    assert (provider.name, provider.data_locations) == ("OVHcloud SAS", ["DE", "FR"])
    change = ProviderChange.objects.get()
    assert (change.actor, change.changes) == (users["catalogue_manager"], {"data_locations": [["FR"], ["DE", "FR"]]})
    assert told() == {"anssi", "acheteur", "valideur"}


def test_unknown_countries_are_a_form_error_in_the_admin(client, users, provider):
    """An unknown country code is refused on its field; nothing is saved or recorded."""
    client.force_login(users["catalogue_manager"])
    response = client.post(f"/admin/catalogue/provider/{provider.pk}/change/",
                           admin_form(provider, support_locations='["XX"]'))
    assert response.status_code == 200
    assert "support_locations" in response.context["adminform"].form.errors
    provider.refresh_from_db()
    assert provider.support_locations == ["FR"]
    assert not ProviderChange.objects.exists()
