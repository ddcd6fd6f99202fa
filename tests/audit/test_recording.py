"""The audit trail records every change — qualifications, offers, providers, orders, frameworks, roles — with who,
when, what and why, from the page, API, admin or job that makes it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditAction, AuditEvent
from broker import roles
from catalogue import lifecycle
from catalogue.models import OfferState, QualificationStatus
from procurement.models import Lot, Referencing
from tests.factories import FrameworkFactory, OfferFactory, QualificationFactory, make_user
from tests.procurement.order_builders import END, START, build_market

pytestmark = pytest.mark.django_db


def trail(object_type: str, obj=None) -> list[AuditEvent]:
    events = AuditEvent.objects.filter(object_type=object_type).order_by("created_at", "id")
    if obj is not None:
        events = events.filter(object_id=str(obj.pk))
    return list(events)


def summary(events) -> list[tuple]:
    return [(event.actor_username, event.action, event.changes, event.reason) for event in events]


def test_qualification_patch_is_recorded_with_actor_changes_and_reason(api, users, provider):
    """PATCH /api/v1/qualifications/<id>/ by ANSSI staff leaves one row: who, when, before → after, and why."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider, name="Cloud"),
                                         qualified_on=date(2025, 1, 1), valid_until=date(2028, 1, 1))
    before = timezone.now()

    response = api(users["qualifier"]).patch(f"/api/v1/qualifications/{qualification.pk}/",
                                             {"status": "suspended", "reason": "Audit de surveillance"}, format="json")

    assert response.status_code == 200
    [event] = trail("catalogue.qualification", qualification)
    assert summary([event]) == [("anssi", AuditAction.CHANGED, {"status": ["qualified", "suspended"]},
                                 "Audit de surveillance")]
    assert event.actor == users["qualifier"] and event.created_at >= before
    assert event.object_repr.startswith("OVHcloud — Cloud")


def test_daily_expiry_is_recorded_as_the_system_with_its_reason(provider, today):
    """The daily job's expiries are recorded in the trail with no actor and the job's reason."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider), qualified_on=date(2024, 1, 1),
                                         valid_until=today - timedelta(days=1))

    lifecycle.scan_qualifications(today=today)

    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.EXPIRED
    [event] = trail("catalogue.qualification", qualification)
    assert (event.actor_id, event.action, event.changes) == (
        None, AuditAction.STATE_CHANGED, {"status": ["qualified", "expired"]})
    assert "2026-11-21" in event.reason and event.actor_label == "système"


def test_offer_pipeline_through_the_api_is_recorded_step_by_step(api, users):
    """Creation, submission, changes requested (with the comment), resubmission and publication are each a row."""
    vendor, manager = api(users["vendor"]), api(users["catalogue_manager"])
    created = vendor.post("/api/v1/vendor/offers/", {"name": "Bases", "service_model": "PaaS",
                                                      "description": "PostgreSQL", "locations": ["FR"]},
                          format="json")
    slug = created.json()["slug"]
    assert vendor.post(f"/api/v1/vendor/offers/{slug}/submit/").status_code == 200
    assert manager.post(f"/api/v1/reviews/offers/{slug}/request-changes/", {"comment": "Précisez le SLA"},
                        format="json").status_code == 200
    assert vendor.post(f"/api/v1/vendor/offers/{slug}/submit/").status_code == 200
    assert manager.post(f"/api/v1/reviews/offers/{slug}/publish/", {}, format="json").status_code == 200

    assert summary(trail("catalogue.offer")) == [
        ("fournisseur", AuditAction.CREATED, {"state": [None, "draft"]}, ""),
        ("fournisseur", AuditAction.STATE_CHANGED, {"state": ["draft", "submitted"]}, ""),
        ("dinum", AuditAction.STATE_CHANGED, {"state": ["submitted", "changes_requested"]}, "Précisez le SLA"),
        ("fournisseur", AuditAction.STATE_CHANGED, {"state": ["changes_requested", "submitted"]}, ""),
        ("dinum", AuditAction.STATE_CHANGED, {"state": ["submitted", "published"]}, ""),
    ]


def test_an_approved_revision_records_the_change_of_the_live_offer(api, users, provider):
    """A vendor's proposal and the manager's approval are recorded, the approval with the live offer's diff."""
    offer = OfferFactory(provider=provider, name="IaaS", slug="ovh-iaas", description="Des VM")
    api(users["vendor"]).patch(f"/api/v1/vendor/offers/{offer.slug}/", {"description": "Des VM et des GPU"},
                               format="json")
    [revision] = trail("catalogue.offerrevision")
    assert (revision.actor_username, revision.changes) == ("fournisseur", {"description": ["Des VM",
                                                                                           "Des VM et des GPU"]})

    response = api(users["catalogue_manager"]).post(f"/api/v1/reviews/revisions/{revision.object_id}/approve/",
                                                    {"comment": "OK"}, format="json")

    assert response.status_code == 200
    assert summary(trail("catalogue.offer", offer)) == [
        ("dinum", AuditAction.CHANGED, {"description": ["Des VM", "Des VM et des GPU"]}, "OK")]
    assert [event.action for event in trail("catalogue.offerrevision")] == [AuditAction.CREATED]


def test_provider_ownership_change_through_the_api_is_recorded(api, users, provider):
    """A vendor's change to its provider's non-EU holdings (§19.6) is in the trail, before and after."""
    response = api(users["vendor"]).patch("/api/v1/vendor/provider/",
                                          {"largest_non_eu_holding": "20", "total_non_eu_holding": "30"},
                                          format="json")

    assert response.status_code == 200
    assert summary(trail("catalogue.provider", provider)) == [(
        "fournisseur", AuditAction.CHANGED,
        {"largest_non_eu_holding": ["0.00", "20.00"], "total_non_eu_holding": ["0.00", "30.00"]}, "")]


def test_order_workflow_through_the_api_is_recorded(api, users, provider):
    """Creating, submitting and rejecting an order are rows with the actor and the rejection's reason."""
    market = build_market(provider=provider)
    buyer, approver = api(users["buyer"]), api(users["approver"])
    created = buyer.post("/api/v1/orders/", {
        "framework": market.framework.slug, "lot": market.lot.pk, "offer": market.offer.slug, "quantity": 2,
        "sensitivity": "non_sensitive", "starts_on": START.isoformat(), "ends_on": END.isoformat(),
        "justification": "Hébergement",
    }, format="json")
    reference = created.json()["reference"]
    assert buyer.post(f"/api/v1/orders/{reference}/submit/").status_code == 200
    assert approver.post(f"/api/v1/orders/{reference}/reject/", {"reason": "Hors budget"},
                         format="json").status_code == 200

    events = trail("procurement.order")
    assert {event.object_repr for event in events} == {reference}
    assert summary(events) == [
        ("acheteur", AuditAction.CREATED, {"status": [None, "draft"]}, ""),
        ("acheteur", AuditAction.STATE_CHANGED, {"status": ["draft", "submitted"]}, ""),
        ("valideur", AuditAction.STATE_CHANGED, {"status": ["submitted", "rejected"]}, "Hors budget"),
    ]


def framework_form(framework, **changes) -> dict:
    data = {"reference": framework.reference, "slug": framework.slug, "title": framework.title,
            "description": framework.description, "purchasing_body": framework.purchasing_body,
            "holder": framework.holder, "starts_on": framework.starts_on.isoformat(),
            "ends_on": framework.ends_on.isoformat(), "ceiling": str(framework.ceiling),
            "discount_percent": str(framework.discount_percent), "terminated_on": "",
            "lots-TOTAL_FORMS": "0", "lots-INITIAL_FORMS": "0"}
    return {**data, **changes}


def test_framework_changes_in_the_admin_are_recorded_with_before_and_after(client, users):
    """A catalogue manager's change to a framework's ceiling and end in the admin is one row with both values."""
    framework = FrameworkFactory(ceiling=Decimal("1000000.00"))
    client.force_login(users["catalogue_manager"])

    response = client.post(reverse("admin:procurement_frameworkcontract_change", args=[framework.pk]),
                           framework_form(framework, ceiling="2000000.00", terminated_on="2027-06-30"))

    assert response.status_code == 302
    framework.refresh_from_db()
    assert framework.ceiling == Decimal("2000000.00")
    assert summary(trail("procurement.frameworkcontract", framework)) == [(
        "dinum", AuditAction.CHANGED,
        {"ceiling": ["1000000.00", "2000000.00"], "terminated_on": [None, "2027-06-30"]}, "")]


def test_lots_and_referencings_added_and_deleted_in_the_admin_are_recorded(client, users):
    """Adding a lot inline, referencing an offer in it, then deleting the lot: each is a row by the manager."""
    framework = FrameworkFactory()
    offer = OfferFactory(name="IaaS")
    client.force_login(users["catalogue_manager"])
    client.post(reverse("admin:procurement_frameworkcontract_change", args=[framework.pk]), framework_form(
        framework, **{"lots-TOTAL_FORMS": "1", "lots-0-number": "3", "lots-0-title": "Stockage",
                      "lots-0-service_model": "IaaS", "lots-0-ceiling": ""}))
    lot = Lot.objects.get(framework=framework, number=3)
    client.post(reverse("admin:procurement_lot_change", args=[lot.pk]), {
        "framework": framework.pk, "number": "3", "title": "Stockage", "service_model": "IaaS", "ceiling": "",
        "referencings-TOTAL_FORMS": "1", "referencings-INITIAL_FORMS": "0",
        "referencings-0-offer": offer.pk, "referencings-0-discount_percent": "12"})
    referencing = Referencing.objects.get(lot=lot)

    response = client.post(reverse("admin:procurement_lot_delete", args=[lot.pk]), {"post": "yes"})

    assert response.status_code == 302 and not Lot.objects.filter(pk=lot.pk).exists()
    assert [(e.action, e.actor_username) for e in trail("procurement.lot", lot)] == [
        (AuditAction.CREATED, "dinum"), (AuditAction.DELETED, "dinum")]
    [created] = trail("procurement.referencing", referencing)
    assert created.changes == {"offer": [None, str(offer)], "discount_percent": [None, "12"]}
    assert trail("procurement.frameworkcontract", framework) == []  # the framework's own fields did not change


def test_user_affiliation_to_a_provider_in_the_admin_is_recorded(client, users, provider, other_provider):
    """Moving a vendor to another provider in the admin records the provider before and after."""
    profile = users["vendor"].profile
    client.force_login(users["catalogue_manager"])

    response = client.post(reverse("admin:procurement_userprofile_change", args=[profile.pk]),
                           {"user": users["vendor"].pk, "organisation": "", "provider": other_provider.pk})

    assert response.status_code == 302
    assert summary(trail("procurement.userprofile", profile)) == [
        ("dinum", AuditAction.CHANGED, {"provider": ["OVHcloud", "Outscale"]}, "")]


def test_role_changes_in_the_user_admin_are_recorded_under_the_admin_users_name(client, users):
    """A superuser who gives a buyer the qualifier role and staff status in the admin is named in the trail."""
    admin_user = make_user(username="root", is_staff=True, is_superuser=True)
    target = users["buyer"]
    qualifier_group = Group.objects.get(name=roles.QUALIFIER)
    buyer_group = Group.objects.get(name=roles.BUYER)
    client.force_login(admin_user)
    start = AuditEvent.objects.count()  # the fixtures' users are in the trail already: compare the new rows

    response = client.post(reverse("admin:auth_user_change", args=[target.pk]), {
        "username": target.username, "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "is_staff": "on", "groups": [buyer_group.pk, qualifier_group.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00", "last_login_0": "", "last_login_1": "",
    })

    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_staff and target.groups.filter(name=roles.QUALIFIER).exists()
    new = list(AuditEvent.objects.order_by("id")[start:])
    assert {(e.actor_username, e.action, repr(e.changes)) for e in new} == {
        ("root", AuditAction.CHANGED, repr({"is_staff": [False, True]})),
        ("root", AuditAction.ROLE_GRANTED, repr({"groups": [None, roles.QUALIFIER]})),
    }
    assert all(e.object_type == "auth.user" and e.object_id == str(target.pk) for e in new)


def test_role_changes_outside_the_admin_are_recorded_as_the_system(users):
    """Group membership changed in code (either side of the relation) is recorded with no actor."""
    target = users["approver"]
    start = AuditEvent.objects.count()
    target.groups.remove(Group.objects.get(name=roles.APPROVER))
    Group.objects.get(name=roles.CATALOGUE_MANAGER).user_set.add(target)
    target.is_superuser = True
    target.save()

    events = [e for e in AuditEvent.objects.order_by("id")[start:] if e.object_id == str(target.pk)]
    assert summary(events) == [
        ("", AuditAction.ROLE_REVOKED, {"groups": [roles.APPROVER, None]}, ""),
        ("", AuditAction.ROLE_GRANTED, {"groups": [None, roles.CATALOGUE_MANAGER]}, ""),
        ("", AuditAction.CHANGED, {"is_superuser": [False, True]}, ""),
    ]


def test_offer_edits_by_a_catalogue_manager_in_the_admin_are_recorded(client, users, provider):
    """A catalogue manager's direct edit of an offer in the admin is recorded with before and after."""
    offer = OfferFactory(provider=provider, name="IaaS", slug="ovh-iaas", state=OfferState.PUBLISHED,
                         category="Calcul")
    client.force_login(users["catalogue_manager"])
    data = {"provider": provider.pk, "name": "IaaS", "slug": "ovh-iaas", "service_model": offer.service_model,
            "category": "Calcul et GPU", "description": offer.description, "list_price": "",
            "price_unit": offer.price_unit, "locations-TOTAL_FORMS": "0", "locations-INITIAL_FORMS": "0",
            "certifications-TOTAL_FORMS": "0", "certifications-INITIAL_FORMS": "0"}

    response = client.post(reverse("admin:catalogue_offer_change", args=[offer.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert [(e.actor_username, e.changes.get("category")) for e in trail("catalogue.offer", offer)] == [
        ("dinum", ["Calcul", "Calcul et GPU"])]
