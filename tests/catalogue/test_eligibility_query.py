"""The SQL form of the doctrine (selectors.eligible_q) agrees with the pure doctrine on every case."""

from datetime import date
from decimal import Decimal

import pytest

from catalogue import doctrine, selectors
from catalogue.models import Offer, OfferState
from tests.factories import CertificationFactory, OfferFactory, ProviderFactory, QualificationFactory

TODAY = date(2026, 11, 22)


@pytest.fixture
def varied_offers(db):
    """Offers covering each way the doctrine can say yes or no."""
    eu = ProviderFactory(name="EU")
    us = ProviderFactory(name="US", seat_country="US", largest_non_eu_holding=Decimal("100"),
                         total_non_eu_holding=Decimal("100"))
    over_cap = ProviderFactory(name="Cap", largest_non_eu_holding=Decimal("30"), total_non_eu_holding=Decimal("30"))
    undeclared = ProviderFactory(name="Undeclared", largest_non_eu_holding=None, total_non_eu_holding=None)
    good = QualificationFactory(offer=OfferFactory(provider=eu, name="good")).offer
    CertificationFactory(offer=good, kind="hds")
    lapsed_hds = QualificationFactory(offer=OfferFactory(provider=eu, name="lapsed hds")).offer
    CertificationFactory(offer=lapsed_hds, kind="hds", valid_until=date(2026, 1, 1))
    QualificationFactory(offer=OfferFactory(provider=eu, name="expired date"), valid_until=date(2026, 11, 21))
    QualificationFactory(offer=OfferFactory(provider=eu, name="last day"), qualified_on=date(2023, 11, 22),
                         valid_until=date(2026, 11, 22))
    QualificationFactory(offer=OfferFactory(provider=eu, name="suspended"), status="suspended")
    QualificationFactory(offer=OfferFactory(provider=eu, name="in progress"), status="in_progress",
                         qualified_on=None, valid_until=None, milestone="J1")
    QualificationFactory(offer=OfferFactory(provider=eu, name="no dates"), qualified_on=None, valid_until=None)
    QualificationFactory(offer=OfferFactory(provider=eu, name="future"), qualified_on=date(2026, 12, 1),
                         valid_until=date(2029, 12, 1))
    QualificationFactory(offer=OfferFactory(provider=us, name="us"))
    QualificationFactory(offer=OfferFactory(provider=over_cap, name="cap"))
    QualificationFactory(offer=OfferFactory(provider=undeclared, name="undeclared"))
    QualificationFactory(offer=OfferFactory(provider=eu, name="outside", locations=["FR", "US"]))
    QualificationFactory(offer=OfferFactory(provider=eu, name="nowhere", locations=[]))
    QualificationFactory(offer=OfferFactory(provider=eu, name="draft", state=OfferState.DRAFT))
    OfferFactory(provider=eu, name="unqualified")
    return Offer.objects.all()


@pytest.mark.parametrize("sensitivity", doctrine.SENSITIVITIES)
@pytest.mark.parametrize("start", [TODAY, date(2026, 12, 5), date(2028, 6, 1)])
def test_query_and_doctrine_agree(varied_offers, sensitivity, start):
    """For each sensitivity and start date, the offers the query selects are exactly those the doctrine accepts."""
    in_sql = set(Offer.objects.filter(selectors.eligible_q(sensitivity, start=start, today=TODAY))
                 .values_list("name", flat=True))
    in_python = {
        offer.name for offer in selectors.with_card_data(Offer.objects.all())
        if doctrine.assess(offer.facts(), sensitivity, start=start, today=TODAY).eligible
    }
    assert in_sql == in_python
    if sensitivity == doctrine.SENSITIVE and start == TODAY:
        assert in_sql == {"good", "lapsed hds", "last day"}
