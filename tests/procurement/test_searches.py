"""Recording a catalogue search: validation, the frozen copy, the cap, who sees which search."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from broker import roles
from broker.errors import RuleViolation
from catalogue.models import Offer, OfferState, QualificationStatus
from catalogue.services import qualification_update
from procurement.models import RecordedSearch, RecordedSearchItem
from procurement.selectors.searches import (
    search_detail,
    search_filters_in_words,
    searches_csv_rows,
    searches_visible,
)
from procurement.services.searches import MAX_RECORDED_RESULTS, search_record
from tests.factories import OfferFactory, ProviderFactory, QualificationFactory, make_user


@pytest.fixture
def catalogue(db, provider, other_provider):
    """Two qualified IaaS offers, one PaaS offer without qualification, one IaaS draft."""
    alpha = OfferFactory(provider=provider, name="Alpha IaaS", slug="alpha-iaas", service_model="IaaS")
    QualificationFactory(offer=alpha, decision_number="2024-101", qualified_on=date(2025, 3, 1),
                         valid_until=date(2028, 3, 1))
    beta = OfferFactory(provider=other_provider, name="Beta IaaS", slug="beta-iaas", service_model="IaaS")
    QualificationFactory(offer=beta, decision_number="2024-202", qualified_on=date(2024, 6, 1),
                         valid_until=date(2027, 6, 1))
    gamma = OfferFactory(provider=provider, name="Gamma PaaS", slug="gamma-paas", service_model="PaaS")
    draft = OfferFactory(provider=provider, name="Delta brouillon", slug="delta", service_model="IaaS",
                         state=OfferState.DRAFT)
    return {"alpha": alpha, "beta": beta, "gamma": gamma, "draft": draft}


def test_record_freezes_matching_offers_with_their_qualification(users, catalogue, organisation, today):
    """A buyer's search stores its filters, count and one frozen row per visible matching offer, in order."""
    search = search_record(user=users["buyer"], query_string="service_model=IaaS&ordering=name",
                           title="SI RH", today=today)

    search.refresh_from_db()
    assert search.owner == users["buyer"]
    assert search.organisation == organisation
    assert search.title == "SI RH"
    assert search.filters == {"service_model": ["IaaS"], "ordering": "name"}
    assert search.query_string == "service_model=IaaS&ordering=name"
    assert search.result_count == 2
    items = list(search.items.order_by("position"))
    assert [(i.position, i.offer_name, i.provider_name) for i in items] == [
        (1, "Alpha IaaS", "OVHcloud"), (2, "Beta IaaS", "Outscale"),
    ]
    first = items[0]
    assert first.offer == catalogue["alpha"]
    assert first.service_model == "IaaS"
    assert first.qualification_status == QualificationStatus.QUALIFIED
    assert first.decision_number == "2024-101"
    assert (first.qualified_on, first.valid_until) == (date(2025, 3, 1), date(2028, 3, 1))


def test_record_without_qualification_keeps_blank_status(users, catalogue, today):
    """An offer with no qualification is frozen with an empty status, decision and dates."""
    search = search_record(user=users["approver"], query_string="service_model=PaaS", today=today)

    item = search.items.get()
    assert (item.offer_name, item.qualification_status, item.decision_number) == ("Gamma PaaS", "", "")
    assert item.qualified_on is None and item.valid_until is None


def test_record_stores_dates_as_iso_and_drops_the_page(users, catalogue, today):
    """Dates are stored as ISO strings and presentation parameters (page) are left out."""
    search = search_record(user=users["buyer"], query_string="?valid_on=2026-11-22&provider=ovhcloud&page=3",
                           today=today)

    assert search.filters == {"provider": ["ovhcloud"], "valid_on": "2026-11-22"}
    assert "page" not in search.query_string
    assert search.result_count == 1
    assert search.items.get().offer == catalogue["alpha"]


def test_record_only_what_the_buyer_sees(users, catalogue, today):
    """A draft offer, invisible to buyers in the catalogue, is not in their recorded list."""
    search = search_record(user=users["buyer"], query_string="", today=today)

    names = set(search.items.values_list("offer_name", flat=True))
    assert names == {"Alpha IaaS", "Beta IaaS", "Gamma PaaS"}
    assert search.result_count == 3


def test_frozen_list_survives_suspension_and_rename(users, catalogue, today):
    """Suspending the qualification and renaming the offer afterwards leaves the recorded row unchanged."""
    search = search_record(user=users["buyer"], query_string="service_model=IaaS", today=today)
    alpha = catalogue["alpha"]

    qualification_update(qualification=alpha.qualifications.get(is_current=True), user=users["qualifier"],
                         values={"status": QualificationStatus.SUSPENDED}, reason="Écart constaté en audit")
    alpha.name = "Alpha renommée"
    alpha.save()

    item = RecordedSearchItem.objects.get(search=search, offer=alpha)
    assert alpha.qualifications.get(is_current=True).status == QualificationStatus.SUSPENDED
    assert item.offer_name == "Alpha IaaS"
    assert item.qualification_status == QualificationStatus.QUALIFIED
    assert RecordedSearch.objects.get(pk=search.pk).result_count == 2


def test_deleted_offer_keeps_its_frozen_row(users, catalogue, today):
    """Deleting an offer nulls the link but keeps the frozen names and status."""
    search = search_record(user=users["buyer"], query_string="service_model=PaaS", today=today)
    catalogue["gamma"].delete()

    item = search.items.get()
    assert item.offer is None
    assert item.offer_name == "Gamma PaaS"


def test_invalid_filter_is_refused_naming_the_parameters(users, catalogue, today):
    """A bad value or a malformed date is refused with code invalid_filter naming each parameter."""
    with pytest.raises(RuleViolation) as refused:
        search_record(user=users["buyer"], query_string="service_model=XaaS&valid_on=2026-13-45", today=today)

    assert refused.value.code == "invalid_filter"
    assert "service_model" in refused.value.message and "valid_on" in refused.value.message
    assert refused.value.field == "service_model"
    assert any(reason.startswith("valid_on") for reason in refused.value.reasons)
    assert not RecordedSearch.objects.exists()


def test_unknown_parameter_is_refused(users, catalogue, today):
    """A misspelt parameter is refused by name instead of silently recording the whole catalogue."""
    with pytest.raises(RuleViolation) as refused:
        search_record(user=users["buyer"], query_string="servce_model=IaaS", today=today)

    assert refused.value.code == "invalid_filter"
    assert refused.value.field == "servce_model"
    assert "servce_model" in refused.value.message
    assert not RecordedSearch.objects.exists()


def test_whole_catalogue_address_is_accepted(users, catalogue, today):
    """A pasted catalogue address is reduced to its query string."""
    search = search_record(user=users["buyer"], query_string="/catalogue/?service_model=PaaS", today=today)

    assert search.query_string == "service_model=PaaS"
    assert search.items.get().offer == catalogue["gamma"]


def test_title_too_long_is_refused(users, catalogue, today):
    """A title beyond the stored length is refused on the title field, not truncated."""
    with pytest.raises(RuleViolation) as refused:
        search_record(user=users["buyer"], query_string="", title="x" * 201, today=today)

    assert (refused.value.code, refused.value.field) == ("invalid_title", "title")
    assert not RecordedSearch.objects.exists()


def _bulk_offers(provider, count: int) -> None:
    Offer.objects.bulk_create([
        Offer(provider=provider, name=f"Offre en masse {n}", slug=f"masse-{n}", service_model="SaaS",
              state=OfferState.PUBLISHED)
        for n in range(count)
    ])


def test_too_many_results_is_refused(users, provider, today):
    """More than 1000 matching offers is refused with too_many_results, asking to narrow the search."""
    _bulk_offers(provider, MAX_RECORDED_RESULTS + 1)

    with pytest.raises(RuleViolation) as refused:
        search_record(user=users["buyer"], query_string="service_model=SaaS", today=today)

    assert refused.value.code == "too_many_results"
    assert "affinez" in refused.value.message
    assert not RecordedSearch.objects.exists()
    assert not RecordedSearchItem.objects.exists()


def test_exactly_the_cap_is_recorded(users, provider, today):
    """Exactly 1000 matching offers are recorded, each with its position."""
    _bulk_offers(provider, MAX_RECORDED_RESULTS)

    search = search_record(user=users["buyer"], query_string="service_model=SaaS", today=today)

    assert search.result_count == MAX_RECORDED_RESULTS
    assert search.items.count() == MAX_RECORDED_RESULTS
    assert search.items.order_by("-position").first().position == MAX_RECORDED_RESULTS


@pytest.mark.parametrize("role", ["vendor", "other_vendor", "qualifier", "catalogue_manager"])
def test_only_buyers_and_approvers_record(users, catalogue, today, role):
    """Vendors, ANSSI staff and catalogue managers may not record a search."""
    with pytest.raises(PermissionDenied):
        search_record(user=users[role], query_string="", today=today)

    assert not RecordedSearch.objects.exists()


def test_buyer_without_organisation_cannot_record(db, catalogue, today):
    """A buyer attached to no administration has nowhere to file a search."""
    orphan = make_user(roles.BUYER, username="orphelin")

    with pytest.raises(PermissionDenied):
        search_record(user=orphan, query_string="", today=today)
    assert not RecordedSearch.objects.exists()


def test_visibility_by_role(users, catalogue, today):
    """Same-organisation buyers and approvers, and managers, see a search; others see none."""
    search = search_record(user=users["buyer"], query_string="", today=today)
    foreign = search_record(user=users["other_buyer"], query_string="", today=today)

    assert set(searches_visible(user=users["buyer"])) == {search}
    assert set(searches_visible(user=users["approver"])) == {search}
    assert set(searches_visible(user=users["other_approver"])) == {foreign}
    assert set(searches_visible(user=users["catalogue_manager"])) == {search, foreign}
    for role in ("vendor", "qualifier", "anonymous"):
        assert not searches_visible(user=users[role]).exists()
    with pytest.raises(RecordedSearch.DoesNotExist):
        search_detail(user=users["other_buyer"], pk=search.pk)


def test_filters_in_words(users, catalogue, today):
    """Stored filters read as labels and human values: choice labels, provider names, dates, keywords."""
    ProviderFactory(name="Scaleway", slug="scaleway")
    search = search_record(
        user=users["buyer"],
        query_string="q=calcul&service_model=IaaS&qualification=qualified&provider=ovhcloud&provider=scaleway"
                     "&valid_on=2026-11-22&eligible_for=sensitive",
        today=today,
    )

    words = dict(search_filters_in_words(filters=search.filters))
    assert words["Mots-clés"] == "« calcul »"
    assert words["Modèle de service"] == "IaaS"
    assert words["Qualification SecNumCloud"] == "Qualifiée"
    assert words["Fournisseur"] == "OVHcloud, Scaleway"
    assert words["Qualifiée le"] == "22/11/2026"
    assert words["Éligible pour des données"] == "Sensibles"


def test_filters_in_words_stay_as_recorded_when_a_provider_is_renamed(users, today):
    """The filters read as they did when recorded, even after the provider they name is renamed."""
    provider = ProviderFactory(name="Ancien nom", slug="ancien-nom")
    OfferFactory(provider=provider)
    search = search_record(user=users["buyer"], query_string="provider=ancien-nom", today=today)
    provider.name = "Nouveau nom"
    provider.save()

    search.refresh_from_db()
    assert ["Fournisseur", "Ancien nom"] in search.filters_description
    assert any(row[:2] == ["Filtre : Fournisseur", "Ancien nom"] for row in searches_csv_rows(search=search))
