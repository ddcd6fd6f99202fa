"""Uploading ANSSI's list in the admin: qualifiers only, the import service's report, wrong files change nothing."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from catalogue.admin import MAX_IMPORT_BYTES
from catalogue.models import Offer, Provider, Qualification, QualificationEvent
from procurement.models import Notification

URL = "/admin/catalogue/qualification/importer/"
HEADER = "provider,provider_country,service,service_model,status,qualified_on,valid_until,anssi_decision,note\n"
GOOD = "3DS Outscale,FR,IaaS Cloud on Demand,IaaS,qualified,2023-11-30,2026-11-30,2118,first offer\n"
GOOD_2 = "Oodrive,FR,Oodrive Meet,SaaS,in_progress,,,,J0 on 2025-04-17 and J1 on 2025-11-17\n"
BAD_DATE = "OVHcloud,FR,Bare Metal Pod,IaaS,qualified,2025-02-30,2028-03-24,559,\n"


def upload(text: str | bytes, name: str = "liste.csv") -> SimpleUploadedFile:
    content = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, content, content_type="text/csv")


def nothing_imported() -> bool:
    return not (Offer.objects.exists() or Qualification.objects.exists() or QualificationEvent.objects.exists())


@pytest.fixture
def qualifier(users):
    return users["qualifier"]


@pytest.fixture
def staff(users):
    for role in ("buyer", "vendor", "catalogue_manager"):
        users[role].is_staff = True
        users[role].save(update_fields=["is_staff"])
    return users


def test_qualifier_imports_and_sees_the_report(client, qualifier):
    """A valid file is imported as the logged-in qualifier; the page shows the counts."""
    client.force_login(qualifier)
    response = client.post(URL, {"file": upload(HEADER + GOOD + GOOD_2)})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.updated, report.unchanged, report.rejected) == (2, 0, 0, 0)
    assert response.context["applied"] is True
    assert "import-applied" in response.content.decode()
    assert Qualification.objects.count() == 2
    assert set(QualificationEvent.objects.values_list("actor__username", flat=True)) == {"anssi"}

    again = client.post(URL, {"file": upload(HEADER + GOOD + GOOD_2)})
    assert (again.context["report"].unchanged, QualificationEvent.objects.count()) == (2, 2)


def test_a_bad_date_is_reported_with_its_line_and_nothing_is_saved(client, qualifier):
    """By default one rejected row rolls back the whole file; the report names the line and the reason."""
    client.force_login(qualifier)
    response = client.post(URL, {"file": upload(HEADER + GOOD + BAD_DATE)})
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.created, report.rejected) == (1, 1)
    assert response.context["applied"] is False
    (line, reason), = [(row.line, row.detail) for row in report.rejections]
    assert line == 3 and "2025-02-30" in reason
    html = response.content.decode()
    assert "import-refused" in html and "2025-02-30" in html
    assert nothing_imported()
    assert not Provider.objects.filter(name="3DS Outscale").exists()


def test_valid_rows_can_be_imported_despite_rejections(client, qualifier):
    """With the box ticked, valid rows are saved and the rejected ones reported."""
    client.force_login(qualifier)
    response = client.post(URL, {"file": upload(HEADER + GOOD + BAD_DATE), "import_valid_rows": "on"})
    assert response.context["applied"] is True
    assert list(Offer.objects.values_list("name", flat=True)) == ["IaaS Cloud on Demand"]


def test_a_dry_run_saves_nothing(client, qualifier):
    """A simulation reports what would happen and writes nothing."""
    client.force_login(qualifier)
    response = client.post(URL, {"file": upload(HEADER + GOOD), "dry_run": "on"})
    assert response.context["report"].created == 1
    assert response.context["applied"] is False
    assert nothing_imported()


@pytest.mark.parametrize("name,content,message", [
    ("liste.xlsx", HEADER + GOOD, "CSV"),
    ("liste.csv", "nom,pays\nOVH,FR\n", "colonnes manquantes"),
    ("liste.csv", (HEADER + "Société Générale,FR,Cloud,IaaS,qualified,,,,\n").encode("latin-1"), "UTF-8"),
    ("liste.csv", b"PK\x03\x04\x00\x00binary", "binaire"),
    ("liste.csv", "", "vide"),
])
def test_wrong_files_are_refused_with_a_clear_message(client, qualifier, name, content, message):
    """Not a CSV, wrong columns, bad encoding, binary or empty: 400, the message on the file field, nothing saved."""
    client.force_login(qualifier)
    response = client.post(URL, {"file": upload(content, name)})
    assert response.status_code == 400
    errors = " ".join(str(error) for error in response.context["form"].errors["file"])
    assert message in errors
    assert response.context["report"] is None
    assert nothing_imported()


def test_a_file_over_the_limit_is_not_read(client, qualifier):
    """A file past 5 MB is refused with a clear message; nothing is imported."""
    client.force_login(qualifier)
    padding = GOOD * (MAX_IMPORT_BYTES // len(GOOD) + 10)
    response = client.post(URL, {"file": upload(HEADER + padding)})
    assert response.status_code == 400
    assert "n'a pas été lu" in " ".join(str(error) for error in response.context["form"].errors["file"])
    assert nothing_imported()


def test_the_import_notifies_nothing_when_rolled_back(client, qualifier, users):
    """A refused file leaves no notification behind (the rollback drops them with the rows)."""
    client.force_login(qualifier)
    client.post(URL, {"file": upload(HEADER + GOOD + BAD_DATE)})
    assert not Notification.objects.exists()


@pytest.mark.parametrize("role", ["buyer", "vendor", "catalogue_manager"])
def test_other_staff_cannot_import(client, staff, role):
    """Staff members who are not qualifiers get 403 on the page and on the upload; nothing changes."""
    client.force_login(staff[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": upload(HEADER + GOOD)}).status_code == 403
    assert nothing_imported()


def test_anonymous_goes_to_the_admin_login(client, db):
    """Without a session the admin asks to sign in."""
    response = client.post(URL, {"file": upload(HEADER + GOOD)})
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert nothing_imported()


def test_the_button_is_shown_to_qualifiers_only(client, staff, qualifier):
    """The qualification list shows « Importer la liste ANSSI » to qualifiers, not to catalogue managers."""
    changelist = reverse("admin:catalogue_qualification_changelist")
    client.force_login(qualifier)
    assert URL in client.get(changelist).content.decode()
    client.force_login(staff["catalogue_manager"])
    page = client.get(changelist)
    assert page.status_code == 200 and URL not in page.content.decode()


def test_the_upload_is_csrf_protected(qualifier):
    """Exempt from the middleware only to set the size limit first, the page still checks the CSRF token."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(qualifier)
    response = client.post(URL, {"file": upload(HEADER + GOOD)})
    assert response.status_code == 403
    assert nothing_imported()
