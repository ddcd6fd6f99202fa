"""The offers API builds each offer's JSON directly (for speed); it must equal DRF's field-by-field rendering."""

import json
from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIRequestFactory

from catalogue import selectors
from catalogue.api.serializers import OfferSerializer
from catalogue.models import QualificationStatus
from tests.factories import CertificationFactory, OfferFactory, ProviderFactory, QualificationFactory

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 22)


def varied_offers() -> list:
    """Offers covering every shape of the JSON: no decision, qualified, suspended, in progress with a
    milestone, no price, odd price, certifications with and without an end, no location, several, non-EU."""
    foreign = ProviderFactory(seat_country="US", largest_non_eu_holding=Decimal("100"),
                              total_non_eu_holding=Decimal("100"))
    offers = [
        OfferFactory(list_price=None, price_unit="", category="", description="", locations=[]),
        OfferFactory(list_price=Decimal("1234.5"), locations=["FR", "DE"]),
        OfferFactory(provider=foreign, list_price=Decimal("0"), locations=["US"]),
        OfferFactory(list_price=Decimal("0.07")),
    ]
    QualificationFactory(offer=offers[1])
    QualificationFactory(offer=offers[2], status=QualificationStatus.SUSPENDED, valid_until=date(2026, 12, 1))
    QualificationFactory(offer=offers[3], status=QualificationStatus.IN_PROGRESS, milestone="J1",
                         qualified_on=None, valid_until=None, decision_number="")
    CertificationFactory(offer=offers[1], kind="hds", valid_until=None)
    CertificationFactory(offer=offers[1], kind="iso27001", valid_until=date(2027, 3, 1))
    return offers


@pytest.mark.parametrize("start", [TODAY, date(2027, 6, 1)])
def test_direct_representation_equals_field_by_field(start):
    """For every shape of offer, the direct dict and DRF's declared fields give the same JSON."""
    varied_offers()
    request = APIRequestFactory().get("/api/v1/offers/")
    offers = selectors.with_card_data(selectors.offers_visible(user=None).order_by("pk"))
    serializer = OfferSerializer(context={"request": request, "today": TODAY, "start": start})
    for offer in offers:
        direct = serializer.to_representation(offer)
        declared = serializer.field_by_field_representation(offer)
        assert json.dumps(direct, sort_keys=True) == json.dumps(declared, sort_keys=True)
        assert list(direct) == list(declared)  # same key order as the documented schema
