"""seed_demo: the reference catalogue, administrations, a framework and one user per role, idempotently."""

import io
from datetime import date

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from dsfr.models import DsfrConfig

from broker import roles
from catalogue import doctrine
from catalogue.models import (
    Certification,
    Offer,
    OfferLocation,
    OfferState,
    Provider,
    Qualification,
    QualificationEvent,
    QualificationStatus,
)
from catalogue.search import normalize
from procurement.models import FrameworkContract, Lot, Order, OrderStatus, Organisation, Referencing, UserProfile
from procurement.selectors.frameworks import commitment_drift
from procurement.validators import validate_siret

COUNTED = (Provider, Offer, OfferLocation, Certification, Qualification, QualificationEvent, Organisation,
           FrameworkContract, Lot, Referencing, User, UserProfile, Group, DsfrConfig, Order)


# The demo orders depend on the day (a qualification may have lapsed since): pin it.
DEMO_DAY = "2026-11-22"


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", "--today", DEMO_DAY, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_seed_demo_twice_changes_nothing(db, settings):
    """A second run creates no row, records no event and changes no value (committed totals included)."""
    settings.DEMO_PASSWORD = "demo-password-1"
    seed()
    first_counts = counts()
    first_values = (list(Offer.objects.order_by("pk").values()), list(Qualification.objects.order_by("pk").values()),
                    list(User.objects.order_by("pk").values()))
    first_totals = list(Lot.objects.order_by("pk").values_list("framework__committed_amount", "committed_amount"))

    output = seed()

    assert counts() == first_counts
    assert commitment_drift() == [] and FrameworkContract.objects.get().committed_amount > 0
    assert list(Lot.objects.order_by("pk").values_list("framework__committed_amount", "committed_amount")) == \
        first_totals
    assert (list(Offer.objects.order_by("pk").values()), list(Qualification.objects.order_by("pk").values()),
            list(User.objects.order_by("pk").values())) == first_values
    assert "0 créée(s), 0 mise(s) à jour, 24 inchangée(s), 0 rejetée(s)" in output
    assert first_counts["Offer"] == 24 and first_counts["Qualification"] == 20


def test_seed_demo_creates_one_user_per_role_with_demo_password(db, settings):
    """acheteur, valideur, fournisseur, anssi and dinum get their role, affiliation and DEMO_PASSWORD."""
    settings.DEMO_PASSWORD = "demo-password-2"

    output = seed()

    expected = {"acheteur": roles.BUYER, "valideur": roles.APPROVER, "fournisseur": roles.VENDOR,
                "anssi": roles.QUALIFIER, "dinum": roles.CATALOGUE_MANAGER}
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert set(user.groups.values_list("name", flat=True)) == {role}
        assert user.check_password("demo-password-2")
        assert user.is_staff == (role in (roles.QUALIFIER, roles.CATALOGUE_MANAGER))
        assert username in output
    assert roles.organisation_of(User.objects.get(username="acheteur")).name == "Ministère de l'Intérieur"
    assert roles.is_approver(User.objects.get(username="valideur"))
    assert roles.provider_of(User.objects.get(username="fournisseur")).name == "OVHcloud"
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    assert "demo-password-2" not in output


def test_seed_demo_changes_passwords_to_a_new_demo_password(db, settings):
    """With DEMO_PASSWORD changed, a re-run gives every demo user the new one."""
    settings.DEMO_PASSWORD = "first-demo-password"
    seed()
    settings.DEMO_PASSWORD = "second-demo-password"

    seed()

    assert all(user.check_password("second-demo-password")
               for user in User.objects.filter(username__in=["acheteur", "valideur", "fournisseur", "anssi", "dinum"]))


def test_seed_demo_without_password_generates_one_then_keeps_it(db, settings):
    """Without DEMO_PASSWORD a password is generated and printed once; a re-run keeps it and says so."""
    settings.DEMO_PASSWORD = ""

    first = seed()

    line = next(line for line in first.splitlines() if line.startswith("Mot de passe généré"))
    password = line.rsplit(" : ", 1)[1]
    assert User.objects.get(username="anssi").check_password(password)
    hashes = dict(User.objects.values_list("username", "password"))

    second = seed()

    assert password not in second and "Mots de passe conservés" in second
    assert dict(User.objects.values_list("username", "password")) == hashes


def test_seed_demo_catalogue(db, settings):
    """Every row of the reference list, providers' seats and holdings, demo descriptions, prices and certificates."""
    seed()

    assert Offer.objects.filter(state=OfferState.PUBLISHED).count() == 24
    ovh = Provider.objects.get(name="OVHcloud")
    aws = Provider.objects.get(name="Amazon Web Services")
    assert (ovh.seat_country, ovh.passes_sovereignty) == ("FR", True)
    assert (aws.seat_country, aws.total_non_eu_holding, aws.passes_sovereignty) == ("US", 100, False)
    assert all(offer.description and offer.list_price and offer.price_unit and offer.category
               for offer in Offer.objects.all())
    assert all(offer.locations.filter(country="FR").exists() for offer in Offer.objects.all())
    assert sum("securise" in normalize(offer.description) for offer in Offer.objects.all()) >= 5
    with_hds = set(Certification.objects.filter(kind="hds").values_list("offer__provider__name", flat=True))
    assert with_hds == {"OVHcloud", "3DS Outscale", "Cegedim", "Cloud Temple", "Numspot", "Amazon Web Services",
                        "Microsoft", "Google"}
    # The two rows whose validity passes three years are cut to three years, and the history says so.
    hosted = Qualification.objects.get(offer__name="Hosted Private Cloud (VMware)")
    assert hosted.valid_until == doctrine.three_years_after(date(2023, 12, 28))
    assert "ramenée" in hosted.events.get().reason
    bleu = Qualification.objects.get(offer__provider__name="Bleu")
    assert (bleu.status, bleu.milestone) == (QualificationStatus.IN_PROGRESS, "J1")


def test_seed_demo_organisations_framework_and_site(db):
    """Administrations with valid SIRETs; UGAP's framework with IaaS, PaaS and SaaS lots; the DSFR site title."""
    seed()

    names = set(Organisation.objects.values_list("name", flat=True))
    assert {"Ministère de l'Intérieur", "Direction interministérielle du numérique",
            "Assistance Publique – Hôpitaux de Paris"} <= names
    for organisation in Organisation.objects.all():
        validate_siret(organisation.siret)
    framework = FrameworkContract.objects.get(reference="UGAP-NP-2024")
    assert (framework.purchasing_body, framework.holder) == ("UGAP", "Crayon France")
    assert framework.covers(date(2026, 1, 1), date(2027, 12, 31))
    lots = {lot.service_model: lot for lot in framework.lots.all()}
    assert set(lots) == {"IaaS", "PaaS", "SaaS"} and all(lot.ceiling for lot in lots.values())
    for model, lot in lots.items():
        referenced = set(lot.offers.values_list("name", flat=True))
        assert referenced == set(Offer.objects.filter(service_model=model).values_list("name", flat=True))
    assert "AWS public cloud (Paris region)" in set(lots["IaaS"].offers.values_list("name", flat=True))
    assert "Scalingo PaaS" in set(lots["PaaS"].offers.values_list("name", flat=True))
    assert set(DsfrConfig.objects.values_list("language", "site_title")) == {("fr", "Courtier"), ("en", "Courtier")}


def test_seed_demo_keeps_what_people_changed(db):
    """A re-run fills only what is empty: an edited description and a qualifier's suspension stay."""
    seed()
    offer = Offer.objects.get(name="Bare Metal Pod")
    offer.description = "Description revue par le fournisseur."
    offer.save()
    Qualification.objects.filter(offer=offer).update(status=QualificationStatus.SUSPENDED)

    output = seed()

    offer.refresh_from_db()
    assert offer.description == "Description revue par le fournisseur."
    assert offer.qualifications.get().status == QualificationStatus.SUSPENDED
    assert "ligne 4 rejetée (OVHcloud — Bare Metal Pod)" in output


def test_seed_demo_orders_in_every_state_with_a_continuity_risk(db):
    """The demo has an order in every status, and the Outscale order ending after its qualification is at risk."""
    seed()
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    outscale = Order.objects.get(idempotency_key="demo-risque-continuite")
    assert outscale.offer.provider.name == "3DS Outscale"
    assert outscale.continuity_risk and outscale.status == OrderStatus.SUBMITTED


def test_seed_demo_order_history_for_the_observatory(db):
    """36 past orders, approved or fulfilled, over 18 months, for the 4 administrations, EU and non-EU providers,
    each with the snapshot and verdict of its day; the observatory then has something in every figure."""
    seed()
    history = Order.objects.filter(reference__startswith="BC-HIST-")
    assert history.count() == 36
    assert set(history.values_list("status", flat=True)) == {OrderStatus.APPROVED, OrderStatus.FULFILLED}
    assert history.values("organisation").distinct().count() == 4
    assert {"US", "FR"} <= set(history.values_list("offer__provider__seat_country", flat=True))
    assert history.values("lot").distinct().count() == 3
    days = sorted(order.submitted_at.date() for order in history)
    assert days[0] >= date(2025, 5, 1) and days[-1] <= date(2026, 11, 22)
    assert len({(day.year, day.month) for day in days}) == 18
    assert all(order.eligibility["eligible"] for order in history)
    assert history.filter(qualification_status="qualified").exists()
    assert history.filter(qualification_status="").exists()
    assert history.filter(continuity_risk=True).exists()
    assert not any(user.has_usable_password() or user.is_active
                   for user in User.objects.filter(username__startswith="reprise-"))


def test_seed_demo_refuses_a_malformed_today(db):
    """A bad --today stops the command with a message naming the option, before writing anything."""
    with pytest.raises(CommandError, match="--today"):
        call_command("seed_demo", "--today", "22/11/2026", stdout=io.StringIO())
    assert Offer.objects.count() == 0
