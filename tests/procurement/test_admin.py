"""The procurement admin: catalogue managers keep frameworks and lots; orders and records are read-only."""

import pytest
from django.urls import reverse

from procurement.models import FrameworkContract, Notification, OrderStatus, Referencing
from tests.factories import FrameworkFactory, LotFactory, OfferFactory, make_user
from tests.procurement.order_builders import build_market, make_order


@pytest.fixture
def staff(users):
    """Every role as staff members, so that the admin itself (not the login page) answers."""
    for role in ("buyer", "approver", "vendor", "qualifier", "catalogue_manager"):
        users[role].is_staff = True
        users[role].save(update_fields=["is_staff"])
    return users


def test_catalogue_manager_references_an_offer_in_a_lot(client, staff):
    """A catalogue manager adds an offer to a lot through the lot's referencing inline."""
    lot = LotFactory(number=1, title="Infrastructure", service_model="IaaS")
    offer = OfferFactory()
    client.force_login(staff["catalogue_manager"])

    response = client.post(reverse("admin:procurement_lot_change", args=[lot.pk]), {
        "framework": lot.framework.pk, "number": "1", "title": "Infrastructure", "service_model": "IaaS",
        "ceiling": "", "referencings-TOTAL_FORMS": "1", "referencings-INITIAL_FORMS": "0",
        "referencings-0-offer": offer.pk, "referencings-0-discount_percent": "12",
    })

    assert response.status_code == 302
    referencing = Referencing.objects.get(lot=lot)
    assert (referencing.offer, referencing.discount_percent) == (offer, 12)


def test_qualifier_sees_frameworks_read_only(client, staff):
    """A qualifier may look at a framework but not change it."""
    framework = FrameworkFactory(title="Nuage public")
    client.force_login(staff["qualifier"])
    url = reverse("admin:procurement_frameworkcontract_change", args=[framework.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"title": "Changé"}).status_code == 403
    framework.refresh_from_db()
    assert framework.title == "Nuage public"


@pytest.mark.parametrize("role", ["buyer", "approver", "vendor"])
def test_staff_without_a_catalogue_role_see_no_procurement(client, staff, role):
    """Buyers, approvers and vendors, even as staff, reach none of the procurement admin."""
    framework = FrameworkFactory()
    client.force_login(staff[role])

    for name in ("frameworkcontract", "lot", "organisation", "userprofile", "order", "recordedsearch",
                 "notification"):
        assert client.get(reverse(f"admin:procurement_{name}_changelist")).status_code == 403
    assert client.post(reverse("admin:procurement_frameworkcontract_delete", args=[framework.pk]),
                       {"post": "yes"}).status_code == 403
    assert FrameworkContract.objects.filter(pk=framework.pk).exists()


def test_orders_are_read_only_even_for_catalogue_managers(client, staff, provider, today):
    """Catalogue managers list and open orders; no one adds, changes or deletes one in the admin."""
    order = make_order(build_market(provider=provider), users=staff, today=today, status=OrderStatus.SUBMITTED)
    client.force_login(staff["catalogue_manager"])
    change = reverse("admin:procurement_order_change", args=[order.pk])

    listing = client.get(reverse("admin:procurement_order_changelist"))
    assert listing.status_code == 200 and order in listing.context["cl"].result_list
    assert client.get(change).status_code == 200
    assert client.post(change, {"status": "approved"}).status_code == 403
    assert client.get(reverse("admin:procurement_order_add")).status_code == 403
    assert client.post(reverse("admin:procurement_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.SUBMITTED


@pytest.mark.parametrize("name", ["order", "recordedsearch", "notification", "userprofile"])
def test_qualifiers_do_not_see_orders_or_people(client, staff, name):
    """Orders, searches, notifications and affiliations are not a qualifier's business."""
    client.force_login(staff["qualifier"])

    assert client.get(reverse(f"admin:procurement_{name}_changelist")).status_code == 403


def test_notifications_are_read_only(client, staff):
    """A catalogue manager can read a notification, not edit it."""
    notification = Notification.objects.create(recipient=staff["buyer"], kind="order", title="Commande soumise")
    client.force_login(staff["catalogue_manager"])
    url = reverse("admin:procurement_notification_change", args=[notification.pk])

    assert client.get(url).status_code == 200
    assert client.post(url, {"title": "Modifié"}).status_code == 403
    notification.refresh_from_db()
    assert notification.title == "Commande soumise"


def test_superuser_manages_frameworks(client, db):
    """A superuser has the catalogue manager's rights on frameworks."""
    root = make_user(None, username="root", is_staff=True, is_superuser=True)
    framework = FrameworkFactory()
    client.force_login(root)

    assert client.get(reverse("admin:procurement_frameworkcontract_change", args=[framework.pk])).status_code == 200
    assert client.get(reverse("admin:procurement_frameworkcontract_add")).status_code == 200
