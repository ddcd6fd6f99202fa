"""Across channels: what a qualifier changes in the admin shows at once in the catalogue pages and API."""

from datetime import date

from django.urls import reverse

from catalogue.models import QualificationStatus
from tests.catalogue.test_admin import form_data
from tests.factories import CertificationFactory, QualificationFactory


def test_suspension_in_the_admin_shows_at_once_in_pages_and_api(client, users, api):
    """A suspension saved in the admin changes the badge, the eligibility and the sensitive-data results at once."""
    qualification = QualificationFactory(qualified_on=date(2025, 1, 1), valid_until=date(2028, 1, 1),
                                         offer__name="Cloud souverain", offer__slug="cloud-souverain")
    CertificationFactory(offer=qualification.offer, kind="hds")
    offer_url = reverse("catalogue:offer-detail", args=["cloud-souverain"])
    assert "Cloud souverain" in client.get("/catalogue/?eligible_for=sensitive").content.decode()

    client.force_login(users["qualifier"])
    response = client.post(reverse("admin:catalogue_qualification_change", args=[qualification.pk]),
                           form_data(qualification, status="suspended", reason="Audit de surveillance défavorable"))
    assert response.status_code == 302
    client.logout()

    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.SUSPENDED
    page = client.get(offer_url).content.decode()
    assert "Suspendue" in page and "Audit de surveillance défavorable" in page
    assert "Cloud souverain" not in client.get("/catalogue/?eligible_for=sensitive").content.decode()
    body = api(None).get("/api/v1/offers/cloud-souverain/").json()
    assert body["qualification"]["status"] == "suspended"
    verdicts = {v["sensitivity"]: v["eligible"] for v in body["eligibility"]}
    assert verdicts == {"non_sensitive": True, "sensitive": False, "health": False, "restricted": False}
