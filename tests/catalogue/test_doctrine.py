"""The doctrine, exhaustively: every row of the design's table and the edges of time."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from catalogue import doctrine
from catalogue.doctrine import (
    HEALTH,
    NON_SENSITIVE,
    RESTRICTED,
    SENSITIVE,
    OfferFacts,
    ProviderFacts,
    QualificationFacts,
    assess,
)

TODAY = date(2026, 11, 22)

EU_PROVIDER = ProviderFacts("OVHcloud", "FR", Decimal("0"), Decimal("0"))
QUALIFIED = QualificationFacts("qualified", date(2025, 1, 1), date(2028, 1, 1))
HDS_VALID = {"hds": date(2029, 1, 1)}


def offer(**changes) -> OfferFacts:
    base = OfferFacts(published=True, provider=EU_PROVIDER, data_locations=("FR",), qualification=QUALIFIED,
                      certifications=dict(HDS_VALID))
    return replace(base, **changes)


def reasons_text(verdict) -> str:
    return " ".join(str(r) for r in verdict.reasons)


# Non-sensitive data: a published offer is enough.

def test_non_sensitive_needs_only_publication():
    """A generic non-qualified published offer (US seat) may host non-sensitive data."""
    generic = offer(provider=ProviderFacts("AWS", "US", Decimal("100"), Decimal("100")), qualification=None,
                    certifications={})
    verdict = assess(generic, NON_SENSITIVE, start=TODAY, today=TODAY)
    assert verdict.eligible and verdict.reasons == ()


def test_non_sensitive_refuses_unpublished_offer():
    """An offer not published in the catalogue is eligible for nothing."""
    verdict = assess(offer(published=False), NON_SENSITIVE, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "publiée" in reasons_text(verdict)


# Sensitive data: qualified on the start day and today, §19.6, data in the EU.

def test_sensitive_accepts_qualified_sovereign_eu_offer():
    """A qualified offer of an EU provider within the caps, hosting in the EU, is eligible for sensitive data."""
    verdict = assess(offer(), SENSITIVE, start=TODAY, today=TODAY)
    assert verdict.eligible and verdict.reasons == ()


@pytest.mark.parametrize(("status", "label"), [("in_progress", "En cours de qualification"),
                                               ("suspended", "Suspendue"), ("revoked", "Retirée"),
                                               ("expired", "Expirée")])
def test_sensitive_refuses_every_status_but_qualified(status, label):
    """Only the `qualified` status counts; the refusal names the status in words, not its code."""
    verdict = assess(offer(qualification=replace(QUALIFIED, status=status)), SENSITIVE, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert f"(statut : {label})" in reasons_text(verdict)


def test_sensitive_refuses_offer_without_qualification():
    """An offer with no SecNumCloud decision at all is refused for sensitive data."""
    verdict = assess(offer(qualification=None), SENSITIVE, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "SecNumCloud" in reasons_text(verdict)


def test_last_valid_day_is_still_valid():
    """On the day `valid_until` itself, the qualification still holds."""
    last_day = QUALIFIED.valid_until
    verdict = assess(offer(), SENSITIVE, start=last_day, today=last_day)
    assert verdict.eligible


def test_day_after_last_valid_day_is_refused():
    """The day after `valid_until`, sensitive data may no longer go there."""
    day_after = date(2028, 1, 2)
    verdict = assess(offer(), SENSITIVE, start=day_after, today=day_after)
    assert not verdict.eligible
    assert "2028-01-01" in reasons_text(verdict)


def test_start_after_expiry_is_refused_even_if_valid_today():
    """A service starting after the qualification ends is refused although the check runs while it is valid."""
    verdict = assess(offer(), SENSITIVE, start=date(2028, 3, 1), today=TODAY)
    assert not verdict.eligible
    assert "date de début" in reasons_text(verdict)


def test_start_before_qualification_is_refused():
    """A service starting before the decision takes effect is refused."""
    later = replace(QUALIFIED, qualified_on=date(2026, 12, 15), valid_until=date(2029, 12, 15))
    verdict = assess(offer(qualification=later), SENSITIVE, start=date(2026, 12, 1), today=date(2026, 12, 20))
    assert not verdict.eligible
    assert "2026-12-15" in reasons_text(verdict)


def test_unknown_end_of_validity_is_refused_with_a_reason():
    """A qualified decision without a known `valid_until` cannot be relied on: it must be checked with ANSSI."""
    unknown = QualificationFacts("qualified", None, None)
    verdict = assess(offer(qualification=unknown), SENSITIVE, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "ANSSI" in reasons_text(verdict)


def test_unknown_start_date_with_known_end_is_accepted():
    """A missing `qualified_on` is not a refusal when the end of validity is known and ahead."""
    known_end = QualificationFacts("qualified", None, date(2028, 1, 25))
    assert assess(offer(qualification=known_end), SENSITIVE, start=TODAY, today=TODAY).eligible


def test_provider_seated_outside_eu_fails_sovereignty():
    """A provider whose seat is outside the EU fails §19.6, with the country named."""
    us = ProviderFacts("Amazon Web Services", "US", Decimal("0"), Decimal("0"))
    verdict = assess(offer(provider=us), SENSITIVE, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "US" in reasons_text(verdict) and "19.6" in reasons_text(verdict)


@pytest.mark.parametrize(
    ("largest", "total", "eligible", "fragment"),
    [
        ("24", "39", True, None),
        ("24.01", "30", False, "24 %"),
        ("10", "39.01", False, "39 %"),
        ("25", "40", False, "24 %"),
    ],
)
def test_non_eu_holding_caps(largest, total, eligible, fragment):
    """§19.6 caps: at most 24 % individually and 39 % collectively, the caps themselves allowed."""
    provider = ProviderFacts("X", "FR", Decimal(largest), Decimal(total))
    verdict = assess(offer(provider=provider), SENSITIVE, start=TODAY, today=TODAY)
    assert verdict.eligible is eligible
    if fragment:
        assert fragment in reasons_text(verdict)


def test_both_caps_exceeded_gives_two_reasons():
    """Each failed point of §19.6 has its own reason."""
    failures = doctrine.sovereignty_failures(ProviderFacts("X", "FR", Decimal("30"), Decimal("45")))
    assert len(failures) == 2


def test_undeclared_holdings_fail_sovereignty():
    """Holdings that were never declared cannot pass §19.6."""
    failures = doctrine.sovereignty_failures(ProviderFacts("X", "FR", None, None))
    assert len(failures) == 1 and "déclarée" in str(failures[0])


def test_data_outside_eu_is_refused():
    """Any data location outside the EU refuses sensitive data, naming the country."""
    verdict = assess(offer(data_locations=("FR", "US")), SENSITIVE, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "US" in reasons_text(verdict)


def test_undeclared_data_location_is_refused():
    """An offer that declares no data location cannot show its data stays in the EU."""
    assert not assess(offer(data_locations=()), SENSITIVE, start=TODAY, today=TODAY).eligible


# Health data: as sensitive, plus a valid HDS certification.

def test_health_accepts_qualified_offer_with_valid_hds():
    """A qualified, sovereign, EU-hosted offer with a valid HDS certificate may host health data."""
    assert assess(offer(), HEALTH, start=TODAY, today=TODAY).eligible


def test_health_refuses_without_hds():
    """Without HDS certification, health data is refused even on a qualified offer."""
    verdict = assess(offer(certifications={}), HEALTH, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "HDS" in reasons_text(verdict)


def test_health_refuses_lapsed_hds():
    """An HDS certificate that lapsed before the start is refused."""
    verdict = assess(offer(certifications={"hds": date(2026, 6, 30)}), HEALTH, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "2026-06-30" in reasons_text(verdict)


def test_health_needs_qualification_too():
    """HDS alone is not enough: health data is sensitive data."""
    verdict = assess(offer(qualification=None), HEALTH, start=TODAY, today=TODAY)
    assert not verdict.eligible


# Diffusion Restreinte: never on a commercial offer.

def test_restricted_is_never_eligible():
    """Diffusion Restreinte data goes to no commercial offer, however qualified."""
    verdict = assess(offer(), RESTRICTED, start=TODAY, today=TODAY)
    assert not verdict.eligible
    assert "Pi" in reasons_text(verdict)


# Continuity risk.

def test_qualification_ending_before_service_end_is_a_continuity_risk():
    """Eligible at the start but the qualification ends before the service does: accepted, flagged."""
    verdict = assess(offer(), SENSITIVE, start=TODAY, today=TODAY, end=date(2028, 6, 30))
    assert verdict.eligible and verdict.continuity_risk


def test_no_continuity_risk_when_service_ends_in_time():
    """A service ending on the last valid day is not at risk."""
    verdict = assess(offer(), SENSITIVE, start=TODAY, today=TODAY, end=date(2028, 1, 1))
    assert verdict.eligible and not verdict.continuity_risk


def test_non_sensitive_orders_carry_no_continuity_risk():
    """Non-sensitive data does not depend on the qualification, so no risk is flagged."""
    verdict = assess(offer(), NON_SENSITIVE, start=TODAY, today=TODAY, end=date(2030, 1, 1))
    assert not verdict.continuity_risk


def test_unknown_sensitivity_is_a_programming_error():
    """The doctrine refuses to answer for a sensitivity it does not know."""
    with pytest.raises(ValueError):
        assess(offer(), "secret", start=TODAY, today=TODAY)


@pytest.mark.parametrize(
    ("qualified_on", "limit"),
    [(date(2023, 11, 30), date(2026, 11, 30)), (date(2024, 2, 29), date(2027, 2, 28))],
)
def test_three_years_after(qualified_on, limit):
    """A decision lasts at most three years; a 29 February decision ends on 28 February."""
    assert doctrine.three_years_after(qualified_on) == limit


def test_assess_all_answers_every_sensitivity_in_order():
    """assess_all gives one verdict per sensitivity, in the doctrine's order."""
    verdicts = doctrine.assess_all(offer(), start=TODAY, today=TODAY)
    assert [v.sensitivity for v in verdicts] == list(doctrine.SENSITIVITIES)
    assert [v.eligible for v in verdicts] == [True, True, True, False]
