"""Importing ANSSI's list: upsert through the services, a report of every row, safe to run twice."""

import io
from datetime import date

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from broker import roles
from catalogue.importer import IMPORT_ACCOUNT, ImportFileError, qualifications_import
from catalogue.models import Offer, OfferState, Provider, Qualification, QualificationEvent, QualificationStatus
from procurement.demo import reference_list_path
from tests.factories import OfferFactory, ProviderFactory, QualificationFactory

HEADER = "provider,provider_country,service,service_model,status,qualified_on,valid_until,anssi_decision,note\n"
GOOD_ROW = "3DS Outscale,FR,IaaS Cloud on Demand,IaaS,qualified,2023-11-30,2026-11-30,2118,first offer\n"


def run_import(text: str, **kwargs):
    return qualifications_import(rows_file=io.StringIO(text), **kwargs)


def rejections(report) -> list[tuple[int, str]]:
    return [(row.line, row.detail) for row in report.rejections]


@pytest.fixture
def listed_offer(db):
    """OVHcloud's Bare Metal Pod, held by Courtier as qualified under decision 559."""
    provider = ProviderFactory(name="OVHcloud", slug="ovhcloud")
    offer = OfferFactory(provider=provider, name="Bare Metal Pod", slug="ovhcloud-bare-metal-pod")
    qualification = QualificationFactory(offer=offer, decision_number="559", qualified_on=date(2025, 3, 24),
                                         valid_until=date(2028, 3, 24))
    return offer, qualification


def ovh_row(*, status="qualified", qualified_on="2025-03-24", valid_until="2028-03-24", decision="559", note=""):
    return f"OVHcloud,FR,Bare Metal Pod,IaaS,{status},{qualified_on},{valid_until},{decision},{note}\n"


def test_import_creates_provider_offer_and_qualification(db):
    """A new row creates the provider, a published offer and the current decision, as the import account."""
    report = run_import(HEADER + GOOD_ROW)

    assert (report.created, report.updated, report.unchanged, report.rejected) == (1, 0, 0, 0)
    provider = Provider.objects.get(name="3DS Outscale")
    assert (provider.slug, provider.seat_country) == ("3ds-outscale", "FR")
    offer = Offer.objects.get(provider=provider)
    assert (offer.name, offer.service_model, offer.state) == ("IaaS Cloud on Demand", "IaaS", OfferState.PUBLISHED)
    assert offer.published_at is not None
    qualification = offer.qualifications.get(is_current=True)
    assert (qualification.status, qualification.decision_number) == (QualificationStatus.QUALIFIED, "2118")
    assert (qualification.qualified_on, qualification.valid_until) == (date(2023, 11, 30), date(2026, 11, 30))
    event = qualification.events.get()
    assert event.actor.username == IMPORT_ACCOUNT
    assert event.reason == "Import de la liste ANSSI (ligne 2)"


def test_import_account_is_a_qualifier_that_cannot_sign_in(db):
    """The system account imports run as is in the qualifier group, inactive, without a usable password."""
    run_import(HEADER + GOOD_ROW)

    account = User.objects.get(username=IMPORT_ACCOUNT)
    assert account.groups.filter(name=roles.QUALIFIER).exists()
    assert not account.is_active
    assert not account.has_usable_password()


def test_in_progress_milestone_is_the_latest_named_in_the_note(db):
    """J0 then J1 in the note give J1; J3 (the final decision) is ignored; no milestone named leaves it empty."""
    report = run_import(HEADER
                        + "Bleu,FR,Bleu cloud,PaaS,in_progress,,,,J0 on 2025-04-17 and J1 on 2025-11-17; J3 expected\n"
                        + "Scaleway,FR,Scaleway SNC,IaaS,in_progress,,,,listed as in progress\n")

    assert report.created == 2
    bleu = Qualification.objects.get(offer__name="Bleu cloud")
    assert (bleu.status, bleu.milestone) == (QualificationStatus.IN_PROGRESS, "J1")
    assert Qualification.objects.get(offer__name="Scaleway SNC").milestone == ""


def test_not_qualified_row_creates_the_offer_without_qualification(db):
    """A generic cloud is created as a published offer with no qualification."""
    report = run_import(HEADER + "Amazon Web Services,US,AWS public cloud (Paris region),IaaS,not_qualified,,,,\n")

    assert report.created == 1
    offer = Offer.objects.get(name="AWS public cloud (Paris region)")
    assert offer.provider.seat_country == "US"
    assert offer.slug == "amazon-web-services-aws-public-cloud-paris-region"
    assert not offer.qualifications.exists()


def test_offer_slug_does_not_repeat_the_provider_and_avoids_taken_slugs(db):
    """"Oodrive Meet" gives oodrive-meet; a taken slug gets a suffix."""
    OfferFactory(slug="oodrive-meet")

    run_import(HEADER + "Oodrive,FR,Oodrive Meet,SaaS,qualified,,2028-01-25,,\n")

    assert Offer.objects.get(name="Oodrive Meet").slug == "oodrive-meet-2"


def test_changed_fields_are_updated_through_the_service(listed_offer):
    """Same decision, new end date: the current decision is updated and the change recorded."""
    offer, qualification = listed_offer

    report = run_import(HEADER + ovh_row(valid_until="2028-03-20"))

    assert (report.updated, report.created) == (1, 0)
    qualification.refresh_from_db()
    assert qualification.is_current and qualification.valid_until == date(2028, 3, 20)
    event = qualification.events.get()
    assert event.changes == {"valid_until": ["2028-03-24", "2028-03-20"]}
    assert event.reason == "Import de la liste ANSSI (ligne 2)"


def test_other_decision_number_is_a_renewal(listed_offer):
    """A different decision number makes a new current decision; the old one stays in the history."""
    offer, old = listed_offer

    report = run_import(HEADER + ovh_row(decision="4000", qualified_on="2026-10-01", valid_until="2029-10-01"))

    assert report.updated == 1
    old.refresh_from_db()
    assert not old.is_current and old.decision_number == "559"
    new = offer.qualifications.get(is_current=True)
    assert (new.decision_number, new.qualified_on) == ("4000", date(2026, 10, 1))
    assert new.events.get().status_from == QualificationStatus.QUALIFIED


def test_evaluation_concluding_updates_the_same_decision(db):
    """An offer in progress listed as qualified with a number: the decision we hold becomes qualified."""
    qualification = QualificationFactory(status=QualificationStatus.IN_PROGRESS, milestone="J2", decision_number="",
                                         qualified_on=None, valid_until=None,
                                         offer__provider__name="Bleu", offer__name="Bleu cloud")

    report = run_import(HEADER + "Bleu,FR,Bleu cloud,IaaS,qualified,2026-09-01,,3500,\n")

    assert report.updated == 1
    qualification.refresh_from_db()
    assert qualification.is_current
    assert (qualification.status, qualification.milestone) == (QualificationStatus.QUALIFIED, "")
    assert (qualification.decision_number, qualification.valid_until) == ("3500", date(2029, 9, 1))


def test_empty_cells_never_erase_what_courtier_holds(listed_offer):
    """Empty dates and number mean unknown in the list: the decision is left unchanged."""
    offer, qualification = listed_offer

    report = run_import(HEADER + ovh_row(qualified_on="", valid_until="", decision=""))

    assert (report.unchanged, report.updated) == (1, 0)
    qualification.refresh_from_db()
    assert (qualification.decision_number, qualification.valid_until) == ("559", date(2028, 3, 24))
    assert not QualificationEvent.objects.exists()


def test_not_qualified_row_does_not_remove_a_live_decision(listed_offer):
    """The list says not qualified but Courtier holds decision 559: rejected for a qualifier to decide."""
    offer, qualification = listed_offer

    report = run_import(HEADER + ovh_row(status="not_qualified", qualified_on="", valid_until="", decision=""))

    assert report.rejected == 1
    [(line, reason)] = rejections(report)
    assert line == 2 and "n° 559" in reason and "ANSSI" in reason
    qualification.refresh_from_db()
    assert qualification.is_current and qualification.status == QualificationStatus.QUALIFIED
    assert not QualificationEvent.objects.exists()


def test_not_qualified_row_agrees_with_an_ended_decision(listed_offer):
    """An expired decision and a not-qualified row agree: unchanged."""
    offer, qualification = listed_offer
    Qualification.objects.filter(pk=qualification.pk).update(status=QualificationStatus.EXPIRED)

    report = run_import(HEADER + ovh_row(status="not_qualified", qualified_on="", valid_until="", decision=""))

    assert (report.unchanged, report.rejected) == (1, 0)


def test_list_cannot_lift_a_suspension(listed_offer):
    """A stale list showing a suspended decision as qualified is rejected; the suspension stays."""
    offer, qualification = listed_offer
    Qualification.objects.filter(pk=qualification.pk).update(status=QualificationStatus.SUSPENDED)

    report = run_import(HEADER + ovh_row())

    [(line, reason)] = rejections(report)
    assert line == 2 and "Suspendue" in reason
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.SUSPENDED
    assert not QualificationEvent.objects.exists()


@pytest.mark.parametrize(("bad_row", "expected"), [
    ("Numspot,FR,Plateforme,IaaS,pending,,,,\n", "statut inconnu « pending »"),
    ("Numspot,FR,Plateforme,IaaS,qualified,31/07/2026,,,\n", "date invalide « 31/07/2026 » dans « qualified_on »"),
    ("Numspot,FR,Plateforme,IaaS,qualified,2026-02-30,,,\n", "date invalide « 2026-02-30 »"),
    ("Numspot,FR,Plateforme,IaaS,qualified,2026-07-31,2029-08-01,3395,\n", "trois ans"),
    ("Numspot,FR,Plateforme,IaaS,qualified,2026-07-31,2026-07-01,3395,\n", "ne peut précéder"),
    ("Numspot,FR,Plateforme,DaaS,qualified,,,,\n", "modèle de service inconnu « DaaS »"),
    (",FR,Plateforme,IaaS,qualified,,,,\n", "« provider » est vide"),
    ("Numspot,FR,,IaaS,qualified,,,,\n", "« service » est vide"),
    ("Numspot,XX,Plateforme,IaaS,qualified,,,,\n", "code pays inconnu « XX »"),
    ("Numspot,FR,Plateforme,IaaS,qualified,,,\n", "ne compte pas 9 colonnes"),
    ("Numspot,FR,Plateforme,IaaS,not_qualified,,,3395,\n", "ni date ni numéro"),
])
def test_each_bad_row_is_rejected_with_its_line_and_reason(db, bad_row, expected):
    """A bad row is reported with its line number and why; the rows around it are imported."""
    text = HEADER + GOOD_ROW + "\n" + bad_row + "Scalingo,FR,Scalingo PaaS,PaaS,not_qualified,,,,\n"

    report = run_import(text)

    [(line, reason)] = rejections(report)
    assert line == 4  # the header, the good row, a blank line, then the bad row
    assert expected in reason
    assert report.created == 2
    assert set(Offer.objects.values_list("name", flat=True)) == {"IaaS Cloud on Demand", "Scalingo PaaS"}
    assert not Provider.objects.filter(name="Numspot").exists()


def test_duplicate_row_is_rejected(db):
    """The same provider and service twice in one file: the second is rejected, naming the first."""
    report = run_import(HEADER + GOOD_ROW + GOOD_ROW.replace("2118", "9999"))

    assert rejections(report) == [(3, "Doublon de la ligne 2 (même fournisseur et même service).")]
    assert Qualification.objects.get().decision_number == "2118"


@pytest.mark.parametrize("header", [
    "provider,provider_country,service,service_model,status,qualified_on,valid_until,anssi_decision\n",
    "fournisseur,provider_country,service,service_model,status,qualified_on,valid_until,anssi_decision,note\n",
    "provider,provider,service,service_model,status,qualified_on,valid_until,anssi_decision,note\n",
    "",
])
def test_wrong_columns_refuse_the_whole_file(listed_offer, header):
    """A file whose columns are not the list's is refused before any write; what was stored stays."""
    offer, qualification = listed_offer
    before = (Provider.objects.count(), Offer.objects.count(), Qualification.objects.count())

    text = header + GOOD_ROW + ovh_row(status="not_qualified", qualified_on="", valid_until="", decision="")

    with pytest.raises(ImportFileError):
        run_import(text if header else "")

    assert (Provider.objects.count(), Offer.objects.count(), Qualification.objects.count()) == before
    assert not QualificationEvent.objects.exists()
    assert not User.objects.filter(username=IMPORT_ACCOUNT).exists()


def test_reference_list_twice_changes_nothing_the_second_time(db):
    """The reference list: every row reported; the second run finds everything unchanged and records no event."""
    with reference_list_path().open(encoding="utf-8", newline="") as rows_file:
        first = qualifications_import(rows_file=rows_file)
    events = QualificationEvent.objects.count()
    snapshot = list(Qualification.objects.order_by("pk").values())

    with reference_list_path().open(encoding="utf-8", newline="") as rows_file:
        second = qualifications_import(rows_file=rows_file)

    # Two rows give a validity beyond three years (2026-12-29 for a 2023-12-28 decision; 2028-03-31 for 2025-03-24).
    assert [line for line, _reason in rejections(first)] == [3, 12]
    assert (first.created, first.updated, first.unchanged) == (22, 0, 0)
    assert (second.created, second.updated, second.unchanged, second.rejected) == (0, 0, 22, 2)
    assert QualificationEvent.objects.count() == events == 18  # the 20 qualified or in-progress rows, less 2
    assert list(Qualification.objects.order_by("pk").values()) == snapshot


def test_dry_run_reports_and_writes_nothing(db):
    """--dry-run gives the full report and leaves the database untouched."""
    report = run_import(HEADER + GOOD_ROW, dry_run=True)

    assert report.created == 1 and report.dry_run
    assert not Provider.objects.exists() and not QualificationEvent.objects.exists()
    assert not User.objects.filter(username=IMPORT_ACCOUNT).exists()


def test_import_runs_as_the_given_qualifier(users):
    """Run by a person, the history names that person."""
    run_import(HEADER + GOOD_ROW, user=users["qualifier"])

    assert QualificationEvent.objects.get().actor == users["qualifier"]


@pytest.mark.parametrize("role", ["buyer", "vendor", "catalogue_manager"])
def test_only_qualifiers_import(users, role):
    """Anyone but a qualifier is refused and nothing is written."""
    offers = Offer.objects.count()

    with pytest.raises(PermissionDenied):
        run_import(HEADER + GOOD_ROW, user=users[role])

    assert Offer.objects.count() == offers
    assert not QualificationEvent.objects.exists()


def test_cap_validity_cuts_to_three_years_and_says_so(db):
    """For demo data, a validity beyond three years is cut, with a warning and the reason in the history."""
    row = "OVHcloud,FR,Hosted Private Cloud (VMware),IaaS,qualified,2023-12-28,2026-12-29,2279,\n"

    report = run_import(HEADER + row, cap_validity=True)

    assert report.created == 1
    assert report.warnings == [(2, "fin de validité ramenée du 2026-12-29 au 2026-12-28 (trois ans au plus)")]
    qualification = Qualification.objects.get()
    assert qualification.valid_until == date(2026, 12, 28)
    assert "ramenée" in qualification.events.get().reason


def test_command_prints_the_report_and_succeeds_with_rejected_rows(db, tmp_path):
    """The command prints the counts and a line per rejected row, and exits normally."""
    path = tmp_path / "list.csv"
    path.write_text(HEADER + GOOD_ROW + "Numspot,FR,Plateforme,IaaS,pending,,,,\n", encoding="utf-8")
    out = io.StringIO()

    call_command("import_qualifications", str(path), stdout=out)

    output = out.getvalue()
    assert "1 créée(s), 0 mise(s) à jour, 0 inchangée(s), 1 rejetée(s)" in output
    assert "ligne 3 rejetée (Numspot — Plateforme)" in output
    assert Offer.objects.count() == 1


def test_command_dry_run_writes_nothing(db, tmp_path):
    """--dry-run says so and stores nothing."""
    path = tmp_path / "list.csv"
    path.write_text(HEADER + GOOD_ROW, encoding="utf-8-sig")
    out = io.StringIO()

    call_command("import_qualifications", str(path), "--dry-run", stdout=out)

    assert "simulation" in out.getvalue() and "1 créée(s)" in out.getvalue()
    assert not Offer.objects.exists()


@pytest.mark.parametrize("content", [
    b"provider;service\nOVHcloud;Bare Metal Pod\n",
    b"\xff\xfe\x00p\x00r\x00o",
])
def test_command_fails_on_an_unusable_file(db, tmp_path, content):
    """Wrong columns or an undecodable file: a non-zero exit and nothing imported."""
    path = tmp_path / "list.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match="rien n'a été importé"):
        call_command("import_qualifications", str(path), stdout=io.StringIO())

    assert not Offer.objects.exists()


def test_command_fails_on_a_missing_file(db, tmp_path):
    """A file that does not exist is a clear error."""
    with pytest.raises(CommandError, match="Lecture impossible"):
        call_command("import_qualifications", str(tmp_path / "absent.csv"), stdout=io.StringIO())
