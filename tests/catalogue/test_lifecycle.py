"""The daily qualification scan: expiries, alerts, orders at risk, and telling the right people once."""

from __future__ import annotations

import itertools
import threading
from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from broker import roles
from catalogue import doctrine, lifecycle
from catalogue.models import Qualification, QualificationAlert, QualificationEvent, QualificationStatus
from catalogue.tasks import scan_qualifications_task
from procurement.models import Notification, NotificationKind, Order, OrderStatus
from tests.factories import (
    LotFactory,
    OfferFactory,
    OrganisationFactory,
    ProviderFactory,
    QualificationFactory,
    make_user,
)

SCAN_DAY = date(2026, 12, 1)
_references = itertools.count(1)


def make_order(*, offer, created_by, organisation, status=OrderStatus.APPROVED, sensitivity=doctrine.SENSITIVE,
               starts_on=date(2026, 1, 1), ends_on=date(2027, 12, 31)) -> Order:
    """An order written directly (the order services are not what these tests are about)."""
    lot = LotFactory()
    return Order.objects.create(
        reference=f"BC-TEST-{next(_references):05d}", organisation=organisation, created_by=created_by,
        framework=lot.framework, lot=lot, offer=offer, quantity=1, unit_price=Decimal("100.00"),
        amount=Decimal("100.00"), sensitivity=sensitivity, starts_on=starts_on, ends_on=ends_on,
        justification="Hébergement de l'application métier", status=status,
    )


def notified(kind: str | None = None) -> set[tuple[str, str]]:
    """(username, dedup key) of every notification, optionally of one kind."""
    rows = Notification.objects.all()
    if kind:
        rows = rows.filter(kind=kind)
    return set(rows.values_list("recipient__username", "dedup_key"))


def scan(today: date = SCAN_DAY, **kwargs) -> lifecycle.ScanReport:
    return lifecycle.scan_qualifications(today=today, **kwargs)


@pytest.fixture
def lapsing(users, provider):
    """A qualified decision of the `provider` fixture whose last valid day was the day before SCAN_DAY."""
    return QualificationFactory(offer=OfferFactory(provider=provider, name="Cloud souverain"),
                                qualified_on=date(2023, 11, 30), valid_until=date(2026, 11, 30),
                                decision_number="2118")


# --- Expiry ------------------------------------------------------------------------------------------------


def test_lapsed_qualification_expires_with_a_system_history_row(lapsing):
    """A current qualified decision past its valid_until becomes expired, with one event by the system."""
    report = scan()

    lapsing.refresh_from_db()
    assert lapsing.status == QualificationStatus.EXPIRED
    assert report.expired == [f"{lapsing.offer.provider.name} — Cloud souverain"]
    event = QualificationEvent.objects.get(qualification=lapsing)
    assert event.actor is None
    assert (event.status_from, event.status_to) == ("qualified", "expired")
    assert event.reason == "Échéance atteinte le 2026-11-30 (traitement quotidien du 2026-12-01)"
    assert event.changes == {"status": ["qualified", "expired"]}


def test_only_current_qualified_decisions_past_their_date_expire(db):
    """The last valid day, unknown dates, other statuses and replaced decisions are left alone."""
    last_day = QualificationFactory(valid_until=SCAN_DAY, qualified_on=date(2024, 1, 1))
    unknown = QualificationFactory(valid_until=None, qualified_on=None)
    suspended = QualificationFactory(status=QualificationStatus.SUSPENDED, valid_until=date(2026, 6, 1),
                                     qualified_on=date(2024, 1, 1))
    replaced = QualificationFactory(is_current=False, valid_until=date(2026, 6, 1), qualified_on=date(2024, 1, 1))

    report = scan()

    assert report.expired == []
    statuses = dict(Qualification.objects.values_list("pk", "status"))
    assert statuses == {last_day.pk: "qualified", unknown.pk: "qualified", suspended.pk: "suspended",
                        replaced.pk: "qualified"}
    assert not QualificationEvent.objects.exists()


def test_expiry_is_no_longer_eligible_for_sensitive_data(lapsing):
    """After the scan, the doctrine refuses the offer for sensitive data, citing the expired qualification."""
    scan()

    verdict = doctrine.assess(lapsing.offer.facts(), doctrine.SENSITIVE, start=SCAN_DAY, today=SCAN_DAY)
    assert not verdict.eligible
    assert "n'est pas en vigueur" in " ".join(str(reason) for reason in verdict.reasons)


def test_expiry_tells_vendors_qualifiers_and_the_people_of_committed_orders(users, organisation, other_organisation,
                                                                             lapsing):
    """Vendors of the provider, ANSSI staff, and buyers and approvers of committed orders on the offer: once each."""
    make_order(offer=lapsing.offer, created_by=users["buyer"], organisation=organisation)
    make_order(offer=lapsing.offer, created_by=users["other_buyer"], organisation=other_organisation,
               status=OrderStatus.DRAFT)
    inactive_vendor = make_user(roles.VENDOR, provider=lapsing.offer.provider, username="ancien", is_active=False)

    report = scan()

    key = f"qualification-expired:{lapsing.pk}"
    assert notified(NotificationKind.QUALIFICATION_EXPIRED) == {
        ("fournisseur", key), ("anssi", key), ("acheteur", key), ("valideur", key),
    }
    assert not Notification.objects.filter(recipient=inactive_vendor).exists()
    notification = Notification.objects.get(recipient=users["vendor"], kind=NotificationKind.QUALIFICATION_EXPIRED)
    assert notification.title == "Qualification SecNumCloud expirée : « Cloud souverain » (OVHcloud)"
    assert "30/11/2026" in notification.body and "n° 2118" in notification.body
    assert notification.link == lapsing.offer.get_absolute_url()
    assert report.notifications == Notification.objects.count()


def test_second_run_the_same_day_changes_and_sends_nothing(users, organisation, lapsing,
                                                           django_capture_on_commit_callbacks, mailoutbox):
    """Dedup keys and predicates make a rerun a no-op: no event, no notification, no e-mail."""
    make_order(offer=lapsing.offer, created_by=users["buyer"], organisation=organisation)
    with django_capture_on_commit_callbacks(execute=True):
        first = scan()
    sent = len(mailoutbox)
    counts = (QualificationEvent.objects.count(), Notification.objects.count(), QualificationAlert.objects.count())

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = scan()

    assert first.notifications > 0 and sent == first.emails_queued > 0
    assert (second.expired, second.notifications, second.emails_queued, second.alerts_raised) == ([], 0, 0, 0)
    assert callbacks == []
    assert len(mailoutbox) == sent
    assert counts == (QualificationEvent.objects.count(), Notification.objects.count(),
                      QualificationAlert.objects.count())


# --- Alerts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("days_left", "threshold"), [(180, 180), (91, 180), (90, 90), (30, 30), (7, 7), (0, 7)])
def test_alert_raised_on_the_threshold_day(users, provider, days_left, threshold):
    """An alert is due once today >= valid_until - threshold, up to and including valid_until."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider), qualified_on=date(2024, 6, 1),
                                         valid_until=SCAN_DAY + timedelta(days=days_left))

    report = scan()

    assert report.alerts[threshold] == 1 and report.alerts_raised == 1
    assert QualificationAlert.objects.filter(qualification=qualification, threshold_days=threshold,
                                             raised_on=SCAN_DAY,
                                             valid_until=qualification.valid_until).exists()
    assert notified(NotificationKind.QUALIFICATION_EXPIRING) == {
        (username, f"qualification-expiring:{qualification.pk}:{threshold}") for username in ("fournisseur", "anssi")
    }


def test_no_alert_before_the_first_threshold(users):
    """181 days before the end, nothing is due yet."""
    QualificationFactory(qualified_on=date(2024, 6, 1), valid_until=SCAN_DAY + timedelta(days=181))

    report = scan()

    assert report.alerts_raised == 0
    assert not QualificationAlert.objects.exists() and not Notification.objects.exists()


def test_several_thresholds_crossed_at_once_tell_people_once_for_the_smallest(users, provider):
    """A first scan five days before the end records all four thresholds but sends one J-7 message per person."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider, name="Stockage"),
                                         qualified_on=date(2024, 1, 1), valid_until=SCAN_DAY + timedelta(days=5))

    report = scan()

    assert sorted(QualificationAlert.objects.filter(qualification=qualification)
                  .values_list("threshold_days", flat=True)) == [7, 30, 90, 180]
    assert report.alerts == {180: 0, 90: 0, 30: 0, 7: 1}
    assert report.alerts_passed == 3
    assert Notification.objects.filter(recipient=users["vendor"]).count() == 1
    notification = Notification.objects.get(recipient=users["vendor"])
    assert notification.dedup_key == f"qualification-expiring:{qualification.pk}:7"
    assert "dans 5 jours" in notification.body and "J-7" in notification.body
    assert notification.title == "Qualification SecNumCloud de « Stockage » (OVHcloud) : fin de validité le 06/12/2026"


def test_each_threshold_alerts_once_as_days_pass(users, provider):
    """Day after day: J-180 once, nothing until J-90, then J-90 once; reruns never duplicate."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider), qualified_on=date(2024, 6, 1),
                                         valid_until=SCAN_DAY + timedelta(days=180))

    raised = [scan(SCAN_DAY + timedelta(days=offset)).alerts_raised for offset in (0, 0, 1, 89, 90, 90)]

    assert raised == [1, 0, 0, 0, 1, 0]
    assert sorted(QualificationAlert.objects.values_list("threshold_days", flat=True)) == [90, 180]
    assert Notification.objects.filter(recipient=users["vendor"]).count() == 2
    assert QualificationAlert.objects.get(qualification=qualification, threshold_days=90).raised_on == \
        SCAN_DAY + timedelta(days=90)


def test_alert_left_by_an_interrupted_run_is_not_raised_twice(users, provider):
    """An alert already recorded for the due threshold (a concurrent run committed it) is neither duplicated
    nor notified again."""
    qualification = QualificationFactory(offer=OfferFactory(provider=provider), qualified_on=date(2024, 1, 1),
                                         valid_until=SCAN_DAY + timedelta(days=20))
    QualificationAlert.objects.create(qualification=qualification, threshold_days=30,
                                      valid_until=qualification.valid_until, raised_on=SCAN_DAY)

    report = scan()

    assert report.alerts_raised == 0
    assert list(QualificationAlert.objects.values_list("threshold_days", flat=True)) == [30]
    assert not Notification.objects.exists()


def test_renewal_is_a_new_decision_with_its_own_alerts(users, provider):
    """Alerts belong to a decision: the renewed one is warned again at the same thresholds."""
    offer = OfferFactory(provider=provider)
    old = QualificationFactory(offer=offer, qualified_on=date(2024, 1, 1), valid_until=SCAN_DAY + timedelta(days=6))
    scan()
    Qualification.objects.filter(pk=old.pk).update(is_current=False)
    renewed = QualificationFactory(offer=offer, qualified_on=date(2024, 6, 1),
                                   valid_until=SCAN_DAY + timedelta(days=6))

    report = scan()

    assert report.alerts == {180: 0, 90: 0, 30: 0, 7: 1}
    assert QualificationAlert.objects.filter(qualification=renewed).count() == 4
    assert Notification.objects.filter(recipient=users["vendor"], kind=NotificationKind.QUALIFICATION_EXPIRING,
                                       ).count() == 2


def test_alerts_and_expiry_of_other_statuses_are_ignored(users):
    """Suspended, revoked or in-progress decisions raise no alert."""
    for status in (QualificationStatus.SUSPENDED, QualificationStatus.REVOKED):
        QualificationFactory(status=status, qualified_on=date(2024, 1, 1), valid_until=SCAN_DAY + timedelta(days=3))

    assert scan().alerts_raised == 0
    assert not QualificationAlert.objects.exists()


# --- Orders at risk ----------------------------------------------------------------------------------------


def test_orders_outliving_the_qualification_are_flagged_and_their_people_told_once(users, organisation,
                                                                                   other_organisation):
    """Committed sensitive orders ending after valid_until are flagged; the buyer and approvers told once."""
    qualification = QualificationFactory(qualified_on=date(2024, 6, 1), valid_until=date(2027, 6, 1))
    at_risk = make_order(offer=qualification.offer, created_by=users["buyer"], organisation=organisation)
    covered = make_order(offer=qualification.offer, created_by=users["buyer"], organisation=organisation,
                         ends_on=date(2027, 6, 1))
    not_sensitive = make_order(offer=qualification.offer, created_by=users["buyer"], organisation=organisation,
                               sensitivity=doctrine.NON_SENSITIVE)
    draft = make_order(offer=qualification.offer, created_by=users["other_buyer"],
                       organisation=other_organisation, status=OrderStatus.DRAFT)

    report = scan()

    flags = dict(Order.objects.values_list("pk", "continuity_risk"))
    assert flags == {at_risk.pk: True, covered.pk: False, not_sensitive.pk: False, draft.pk: False}
    assert report.orders_flagged == 1 and report.orders_notified == 1
    key = f"continuity-risk:{at_risk.pk}:{qualification.pk}"
    assert notified(NotificationKind.CONTINUITY_RISK) == {("acheteur", key), ("valideur", key)}
    notification = Notification.objects.get(recipient=users["approver"], kind=NotificationKind.CONTINUITY_RISK)
    assert notification.link == at_risk.get_absolute_url()
    assert "01/06/2027" in notification.body and "31/12/2027" in notification.body

    again = scan()
    assert (again.orders_flagged, again.orders_notified, again.notifications) == (0, 0, 0)


def test_expiry_puts_orders_at_risk_and_a_renewal_clears_them(users, organisation, lapsing):
    """An order on an offer whose qualification expired is at risk; a covering renewal clears the flag."""
    order = make_order(offer=lapsing.offer, created_by=users["buyer"], organisation=organisation,
                       ends_on=date(2026, 11, 30))

    report = scan()

    order.refresh_from_db()
    assert order.continuity_risk and report.orders_flagged == 1
    notification = Notification.objects.get(recipient=users["buyer"], kind=NotificationKind.CONTINUITY_RISK)
    assert "Expirée" in notification.body
    Qualification.objects.filter(pk=lapsing.pk).update(is_current=False)
    QualificationFactory(offer=lapsing.offer, qualified_on=date(2026, 11, 1), valid_until=date(2029, 11, 1))

    cleared = scan()

    order.refresh_from_db()
    assert not order.continuity_risk and cleared.orders_cleared == 1


def test_a_new_decision_still_too_short_tells_the_order_people_again(users, organisation):
    """Once per order and decision: a renewal that still ends before the order warns again."""
    offer = OfferFactory()
    first = QualificationFactory(offer=offer, qualified_on=date(2024, 1, 1), valid_until=date(2027, 1, 1))
    order = make_order(offer=offer, created_by=users["buyer"], organisation=organisation, ends_on=date(2029, 1, 1))
    scan()
    Qualification.objects.filter(pk=first.pk).update(is_current=False)
    second = QualificationFactory(offer=offer, qualified_on=date(2025, 1, 1), valid_until=date(2028, 1, 1))

    report = scan()

    assert report.orders_notified == 1
    assert set(Notification.objects.filter(recipient=users["buyer"], kind=NotificationKind.CONTINUITY_RISK)
               .values_list("dedup_key", flat=True)) == {f"continuity-risk:{order.pk}:{first.pk}",
                                                         f"continuity-risk:{order.pk}:{second.pk}"}


# --- Dry run, scale, command, task -------------------------------------------------------------------------


def test_dry_run_reports_what_the_real_run_does_and_writes_nothing(users, organisation, lapsing,
                                                                   django_capture_on_commit_callbacks):
    """--dry-run gives the same figures as the real run, and leaves the database and the outbox untouched."""
    make_order(offer=lapsing.offer, created_by=users["buyer"], organisation=organisation)
    QualificationFactory(qualified_on=date(2024, 1, 1), valid_until=SCAN_DAY + timedelta(days=10))

    with django_capture_on_commit_callbacks() as callbacks:
        dry = scan(dry_run=True)

    assert callbacks == []
    assert not Notification.objects.exists() and not QualificationAlert.objects.exists()
    assert not QualificationEvent.objects.exists() and not Order.objects.filter(continuity_risk=True).exists()
    lapsing.refresh_from_db()
    assert lapsing.status == QualificationStatus.QUALIFIED
    real = scan()
    assert dry.dry_run and not real.dry_run
    assert {**dry.as_dict(), "dry_run": None} == {**real.as_dict(), "dry_run": None}
    assert real.notifications > 0 and real.alerts_raised == 1 and real.orders_flagged == 1


def _population(size: int, *, start: int) -> None:
    """`size` offers of distinct providers, each with a vendor and a committed order, across every step."""
    organisation = OrganisationFactory()
    buyer = make_user(roles.BUYER, organisation=organisation, username=f"acheteur-{start}")
    for number in range(start, start + size):
        provider = ProviderFactory()
        make_user(roles.VENDOR, provider=provider, username=f"vendeur-{number}")
        ends = SCAN_DAY + timedelta(days=(-1, 3, 45, 120)[number % 4])
        qualification = QualificationFactory(offer=OfferFactory(provider=provider), qualified_on=date(2024, 6, 1),
                                             valid_until=ends)
        make_order(offer=qualification.offer, created_by=buyer, organisation=organisation)


def test_queries_do_not_grow_with_the_number_of_qualifications(users, django_assert_max_num_queries):
    """The scan runs in a fixed number of queries per batch: 4 and 40 qualifications cost the same."""
    counts = []
    for size, start in ((4, 0), (40, 100)):
        _population(size, start=start)
        with django_assert_max_num_queries(60) as queries:
            report = scan()
        assert len(report.expired) == size // 4 and report.alerts_raised == size - size // 4
        assert report.orders_notified == size
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_command_prints_the_report(users, organisation, lapsing):
    """manage.py scan_qualifications --today prints expiries, alerts, orders, notifications and e-mails."""
    make_order(offer=lapsing.offer, created_by=users["buyer"], organisation=organisation)
    out = StringIO()

    call_command("scan_qualifications", "--today", "2026-12-01", stdout=out)

    text = out.getvalue()
    assert "Traitement du 2026-12-01" in text
    assert "Qualifications expirées : 1" in text and "OVHcloud — Cloud souverain" in text
    assert "Alertes levées : 0 (J-180 : 0, J-90 : 0, J-30 : 0, J-7 : 0)" in text
    assert "Commandes signalées en risque de continuité : 1" in text
    assert f"Notifications : {Notification.objects.count()}" in text
    assert "Courriels à envoyer (file d'envoi) : " in text
    lapsing.refresh_from_db()
    assert lapsing.status == QualificationStatus.EXPIRED


def test_command_dry_run_changes_nothing(lapsing):
    """--dry-run says it is a simulation and writes nothing."""
    out = StringIO()

    call_command("scan_qualifications", "--today", "2026-12-01", "--dry-run", stdout=out)

    assert "Simulation du 2026-12-01" in out.getvalue() and "Qualifications expirées : 1" in out.getvalue()
    lapsing.refresh_from_db()
    assert lapsing.status == QualificationStatus.QUALIFIED
    assert not Notification.objects.exists()


@pytest.mark.parametrize("value", ["2026-13-01", "demain", "01/12/2026"])
def test_command_refuses_a_bad_date(db, value):
    """A malformed --today is a clear CommandError naming the expected format, not a traceback."""
    with pytest.raises(CommandError, match="AAAA-MM-JJ"):
        call_command("scan_qualifications", "--today", value, stdout=StringIO())


def test_celery_task_runs_the_same_scan(lapsing):
    """scan_qualifications_task(today_iso) calls the service and returns its report."""
    result = scan_qualifications_task.delay(today_iso="2026-12-01").get()

    assert result["expired"] == ["OVHcloud — Cloud souverain"] and result["today"] == "2026-12-01"
    lapsing.refresh_from_db()
    assert lapsing.status == QualificationStatus.EXPIRED


# --- The demo check: 3DS Outscale --------------------------------------------------------------------------


def test_outscale_expires_on_2026_12_01_and_everyone_concerned_is_told_once(
        users, organisation, django_capture_on_commit_callbacks, mailoutbox):
    """Reference facts: 3DS Outscale's IaaS, valid until 2026-11-30, is expired on 2026-12-01; vendor, ANSSI and
    the buyers of its orders get one notification and one e-mail each; the second run sends nothing."""
    outscale = ProviderFactory(name="3DS Outscale", slug="3ds-outscale", seat_country="FR")
    offer = OfferFactory(provider=outscale, name="IaaS Cloud on Demand", slug="3ds-outscale-iaas-cloud-on-demand")
    qualification = QualificationFactory(offer=offer, qualified_on=date(2023, 11, 30), valid_until=date(2026, 11, 30),
                                         decision_number="2118")
    outscale_vendor = make_user(roles.VENDOR, provider=outscale, username="vendeur-outscale")
    make_order(offer=offer, created_by=users["buyer"], organisation=organisation, ends_on=date(2027, 6, 30))
    the_day_before = date(2026, 11, 30)
    assert doctrine.assess(offer.facts(), doctrine.SENSITIVE, start=the_day_before, today=the_day_before).eligible

    with django_capture_on_commit_callbacks(execute=True):
        call_command("scan_qualifications", "--today", "2026-12-01", stdout=StringIO())

    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.EXPIRED
    offer.refresh_from_db()
    assert not doctrine.assess(offer.facts(), doctrine.SENSITIVE, start=SCAN_DAY, today=SCAN_DAY).eligible
    told = {outscale_vendor.email, users["qualifier"].email, users["buyer"].email, users["approver"].email}
    expiry_mail = [m for m in mailoutbox if "expirée" in m.subject and "IaaS Cloud on Demand" in m.subject]
    assert sorted(address for m in expiry_mail for address in m.to) == sorted(told)
    assert users["vendor"].email not in {a for m in mailoutbox for a in m.to}
    assert Notification.objects.filter(kind=NotificationKind.QUALIFICATION_EXPIRED).count() == 4
    assert Notification.objects.filter(email_sent_at__isnull=True).count() == 0
    sent = len(mailoutbox)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("scan_qualifications", "--today", "2026-12-01", stdout=StringIO())

    assert len(mailoutbox) == sent
    assert Notification.objects.filter(kind=NotificationKind.QUALIFICATION_EXPIRED).count() == 4


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_record_and_notify_everything_exactly_once(users, provider):
    """Two scans at the same moment on PostgreSQL: every alert, event and notification exists once, and the
    two reports add up to exactly one run (each row was handled by one scan only)."""
    for number in range(300):
        QualificationFactory(offer=OfferFactory(provider=provider), qualified_on=date(2024, 6, 1),
                             valid_until=SCAN_DAY + timedelta(days=(-3, 5, 60)[number % 3]))
    reports: list[lifecycle.ScanReport] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            reports.append(scan())
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(len(r.expired) for r in reports) == 100
    assert sum(r.alerts_raised for r in reports) == 200
    assert sum(r.notifications for r in reports) == Notification.objects.count() == 300 * 2
    assert QualificationEvent.objects.count() == 100
    assert QualificationAlert.objects.count() == 100 * 4 + 100 * 2  # 5 days left: all four; 60 days: 180 and 90
    assert len(mail.outbox) == len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 300 * 2
