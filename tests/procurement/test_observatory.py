"""The observatory's figures, computed exactly on the hand-built world of observatory_builders."""

from datetime import date
from decimal import Decimal

import pytest

from broker import roles
from procurement.selectors import observatory as obs
from tests.factories import make_user
from tests.procurement.observatory_builders import TODAY, build_world

pytestmark = pytest.mark.django_db

DEFAULT = obs.ObservatoryFilters(start=date(2025, 12, 1), end=TODAY)


@pytest.fixture
def world():
    return build_world()


def test_default_period_is_the_twelve_months_up_to_today():
    """The default period starts on the first day of the month eleven months back and ends today."""
    assert obs.default_period(today=TODAY) == (date(2025, 12, 1), TODAY)
    assert obs.default_period(today=date(2026, 1, 31)) == (date(2025, 2, 1), date(2026, 1, 31))


def test_add_months_clamps_the_day():
    """31 January plus one month is the last day of February; months cross years both ways."""
    assert obs.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert obs.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert obs.add_months(date(2026, 11, 22), -23) == date(2024, 12, 22)
    assert obs.add_months(date(2026, 11, 22), 12) == date(2027, 11, 22)


def test_scope_full_for_managers_qualifiers_and_superusers_public_otherwise(users):
    """Catalogue managers, qualifiers and superusers get FULL; anonymous, buyers, approvers and vendors PUBLIC."""
    superuser = make_user(username="root", is_superuser=True)
    scopes = {name: obs.observatory_scope(user) for name, user in users.items()}
    assert scopes == {"anonymous": obs.PUBLIC, "buyer": obs.PUBLIC, "approver": obs.PUBLIC,
                      "other_buyer": obs.PUBLIC, "other_approver": obs.PUBLIC, "vendor": obs.PUBLIC,
                      "other_vendor": obs.PUBLIC, "qualifier": obs.FULL, "catalogue_manager": obs.FULL}
    assert obs.observatory_scope(superuser) == obs.FULL
    assert roles.CATALOGUE_MANAGER and obs.observatory_scope(None) == obs.PUBLIC


def test_spend_summary_shares(world):
    """Approved and fulfilled orders of the period: 2150, of which 1600 SecNumCloud (74.4 %) and 1900 EU (88.4 %)."""
    summary = obs.spend_summary(filters=DEFAULT)
    assert (summary.orders, summary.amount) == (6, Decimal("2150.00"))
    assert (summary.secnumcloud_amount, summary.secnumcloud_share) == (Decimal("1600.00"), Decimal("74.4"))
    assert (summary.eu_amount, summary.eu_share) == (Decimal("1900.00"), Decimal("88.4"))
    assert (summary.submitted_orders, summary.submitted_amount) == (1, Decimal("700.00"))


def test_spend_period_boundaries_are_paris_days(world):
    """The first and last days are included (Paris time); the day before the period is not."""
    first_day = obs.spend_summary(filters=obs.ObservatoryFilters(start=date(2025, 12, 1), end=date(2025, 12, 1)))
    last_day = obs.spend_summary(filters=obs.ObservatoryFilters(start=TODAY, end=TODAY))
    day_before = obs.spend_summary(filters=obs.ObservatoryFilters(start=date(2025, 11, 30), end=date(2025, 11, 30)))
    assert (first_day.orders, first_day.amount) == (1, Decimal("100.00"))
    assert (last_day.orders, last_day.amount) == (1, Decimal("50.00"))
    assert (day_before.orders, day_before.amount) == (1, Decimal("400.00"))


def test_spend_filtered_by_framework(world):
    """Under framework B only the US orders count: 250, nothing SecNumCloud, nothing EU-seated."""
    summary = obs.spend_summary(filters=obs.ObservatoryFilters(start=DEFAULT.start, end=TODAY,
                                                                framework=world.framework_b))
    assert (summary.orders, summary.amount, summary.secnumcloud_share, summary.eu_share) == (
        2, Decimal("250.00"), Decimal("0.0"), Decimal("0.0"))


def test_spend_summary_empty_period_has_no_share(world):
    """A period without orders has a zero amount and no share (not a division by zero)."""
    summary = obs.spend_summary(filters=obs.ObservatoryFilters(start=date(2020, 1, 1), end=date(2020, 12, 31)))
    assert (summary.orders, summary.amount, summary.secnumcloud_share, summary.eu_share) == (0, 0, None, None)


def test_spend_by_month_fills_every_month(world):
    """Twelve monthly buckets, empty months at zero, each order in the Paris month of its submission."""
    months = obs.spend_by_month(filters=DEFAULT)
    assert [row.month for row in months] == [obs.add_months(date(2025, 12, 1), i) for i in range(12)]
    amounts = {row.month: (row.orders, row.amount, row.secnumcloud_amount, row.eu_amount) for row in months
               if row.orders}
    assert amounts == {
        date(2025, 12, 1): (1, Decimal("100.00"), Decimal("100.00"), Decimal("100.00")),
        date(2026, 1, 1): (1, Decimal("1000.00"), Decimal("1000.00"), Decimal("1000.00")),
        date(2026, 3, 1): (2, Decimal("800.00"), Decimal("500.00"), Decimal("800.00")),
        date(2026, 6, 1): (1, Decimal("200.00"), Decimal("0.00"), Decimal("0.00")),
        date(2026, 11, 1): (1, Decimal("50.00"), Decimal("0.00"), Decimal("0.00")),
    }
    assert sum(row.amount for row in months) == Decimal("2150.00")


def test_spend_by_provider_country_lot(world):
    """Per provider, seat country and lot, largest first (lots in framework and number order)."""
    providers = [(row.label, row.key, row.orders, row.amount, row.secnumcloud_share)
                 for row in obs.spend_by_provider(filters=DEFAULT)]
    assert providers == [("Nuage Français", "FR", 3, Decimal("1600.00"), Decimal("100.0")),
                         ("Wolke GmbH", "DE", 1, Decimal("300.00"), Decimal("0.0")),
                         ("Cloud Inc", "US", 2, Decimal("250.00"), Decimal("0.0"))]
    countries = [(row.key, row.detail, row.amount) for row in obs.spend_by_country(filters=DEFAULT)]
    assert countries == [("FR", "eu", Decimal("1600.00")), ("DE", "eu", Decimal("300.00")),
                         ("US", "non_eu", Decimal("250.00"))]
    lots = [(row.key, row.amount) for row in obs.spend_by_lot(filters=DEFAULT)]
    assert lots == [(("AC-A", 1), Decimal("1600.00")), (("AC-A", 2), Decimal("300.00")),
                    (("AC-B", 1), Decimal("250.00"))]


def test_spend_by_organisation_full_only(world):
    """Per administration for the full scope; the public scope is refused."""
    rows = [(row.label, row.orders, row.amount) for row in obs.spend_by_organisation(filters=DEFAULT, scope=obs.FULL)]
    assert rows == [("Ministère A", 3, Decimal("1400.00")), ("Agence B", 3, Decimal("750.00"))]
    with pytest.raises(PermissionError):
        obs.spend_by_organisation(filters=DEFAULT, scope=obs.PUBLIC)


def test_wider_period_takes_the_earlier_order(world):
    """From 1 November 2025 the order of 30 November counts too: 2550 ordered."""
    summary = obs.spend_summary(filters=obs.ObservatoryFilters(start=date(2025, 11, 1), end=TODAY))
    assert (summary.orders, summary.amount) == (7, Decimal("2550.00"))


def test_continuity_risks_grouped_and_listed(world):
    """Two followed at-risk orders end in June 2027 (1700); ended and cancelled ones are left out."""
    groups = obs.continuity_risk_by_month(today=TODAY)
    assert [(g.month, g.provider, g.orders, g.amount) for g in groups] == [
        (date(2027, 6, 1), "Nuage Français", 2, Decimal("1700.00"))]
    orders = obs.continuity_risk_orders(today=TODAY, scope=obs.FULL)
    assert [order.reference for order in orders] == ["BC-TEST-o5", "BC-TEST-o1"]
    assert obs.continuity_risk_by_month(today=TODAY, framework=world.framework_b) == []
    with pytest.raises(PermissionError):
        obs.continuity_risk_orders(today=TODAY, scope=obs.PUBLIC)


def test_expiring_qualifications_next_twelve_months(world):
    """Qualified decisions ending in [today, today + 12 months): today's included, the one a year later not.
    The window spans 13 calendar months, the first and last ones partly."""
    public = obs.expiring_by_month(today=TODAY, scope=obs.PUBLIC)
    assert len(public) == 13 and public[0].month == date(2026, 11, 1) and public[-1].month == date(2027, 11, 1)
    assert {row.month: row.count for row in public if row.count} == {date(2026, 11, 1): 1, date(2027, 3, 1): 1}
    full = obs.expiring_by_month(today=TODAY, scope=obs.FULL)
    assert {row.month: row.count for row in full if row.count} == {
        date(2026, 11, 1): 1, date(2027, 1, 1): 1, date(2027, 3, 1): 1}
    listed = [q.offer.name for q in obs.expiring_qualifications(today=TODAY, scope=obs.PUBLIC)]
    assert listed == ["Messagerie", "Calcul FR"]
    assert list(obs.expiring_qualifications(today=TODAY, scope=obs.PUBLIC, framework=world.framework_b)) == []


def test_qualified_offers_over_time(world):
    """At each month end: distinct offers covered by a decision neither in progress nor revoked."""
    points = obs.qualified_offers_over_time(today=TODAY, scope=obs.PUBLIC)
    assert len(points) == 24
    assert points[0].day == date(2024, 12, 31) and points[-2].day == date(2026, 10, 31) and points[-1].day == TODAY
    counts = {point.day: point.count for point in points}
    # fr (counted once despite two decisions), ending, late; the suspended offer from June 2025.
    assert counts[date(2024, 12, 31)] == 3
    assert counts[date(2025, 5, 31)] == 3
    assert counts[date(2025, 6, 30)] == 4
    assert counts[TODAY] == 4
    full = obs.qualified_offers_over_time(today=TODAY, scope=obs.FULL)
    assert [point.count for point in full] == [point.count + 1 for point in points]


def test_offers_by_state_and_model(world):
    """Published offers only for the public; every state for the full scope."""
    public = {(row.state, row.service_model): row.count for row in obs.offers_by_state_and_model(scope=obs.PUBLIC)}
    assert public == {("published", "IaaS"): 3, ("published", "PaaS"): 1, ("published", "SaaS"): 2}
    full = {(row.state, row.service_model): row.count for row in obs.offers_by_state_and_model(scope=obs.FULL)}
    assert full == {**public, ("draft", "SaaS"): 1}
    framework_b = obs.offers_by_state_and_model(scope=obs.FULL, framework=world.framework_b)
    assert [(row.state, row.service_model, row.count) for row in framework_b] == [("published", "IaaS", 1)]
