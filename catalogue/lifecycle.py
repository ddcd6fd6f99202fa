"""The daily qualification scan: expire lapsed decisions, warn before they lapse, follow the orders at risk.

`scan_qualifications(today=...)` is the one entry point: Celery beat runs it every
morning (catalogue.tasks), `manage.py scan_qualifications` by hand. It works in
sets: each step selects a batch of rows by predicate and writes it with
`update()` and `bulk_create()`, so the number of queries grows with the number
of fixed-size batches, never with each row.

Exactly once, under reruns, crashes and concurrent scans:

- Each batch is one transaction: a crash rolls back the batch in flight, the
  batches before it stay done, and a rerun carries on from the predicates.
- The qualifications of a batch are locked (`FOR NO KEY UPDATE SKIP LOCKED`) before
  anything is decided about them. A second scan skips rows the first holds; once
  the first commits, its rows no longer match the second's predicates (expired
  rows are not `qualified` any more; PostgreSQL re-checks the WHERE clause of a
  locked row that was updated), and alerts it wrote are read inside the lock.
  So the ids updated to `expired` are exactly the ids selected, and each history
  row matches a row really updated. (This was preferred to `UPDATE ... RETURNING`:
  it is plain ORM, works on every backend, and the same lock also serialises
  the alerts, which are inserted rather than updated.)
- Alerts are inserted with `bulk_create(ignore_conflicts=True)` on the unique
  constraint `one_alert_per_decision_and_threshold`; the pairs that did not exist
  before (read while holding the lock) are the ones that notify anyone.
- Every notification carries a dedup key, unique per recipient in the database,
  inserted with ON CONFLICT DO NOTHING RETURNING, and its e-mail goes through the
  outbox (procurement.services.notifications).

Several thresholds crossed at once (the decision was recorded five days before
its end, or the job did not run for weeks): every crossed threshold is recorded,
so none is raised later, but people are told once, for the smallest one, with
the true number of days left. Four messages saying "180, 90, 30 and 7 days" on
the same morning would be noise, and the first three false.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Concat
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditAction
from audit.services import audit_record_many
from broker import roles
from catalogue import doctrine
from catalogue.freshness import bump_after_commit
from catalogue.models import Qualification, QualificationAlert, QualificationEvent, QualificationStatus
from procurement.models import COMMITTED_STATUSES, Notification, NotificationKind, Order, UserProfile
from procurement.services.notifications import Message, NotifyResult, notify_many

# Days before `valid_until` at which an alert is raised, largest first.
THRESHOLDS: tuple[int, ...] = tuple(sorted(QualificationAlert.THRESHOLDS, reverse=True))

# Rows handled per transaction. Fixed, so queries grow with N / BATCH_SIZE only.
BATCH_SIZE = 1000

# The sensitivities whose orders depend on the qualification (see catalogue.doctrine.assess).
QUALIFIED_SENSITIVITIES = (doctrine.SENSITIVE, doctrine.HEALTH)

# What the scan reads about a qualification to decide and to word its messages.
QUALIFICATION_FIELDS = ("pk", "offer_id", "offer__name", "offer__slug", "offer__provider_id",
                        "offer__provider__name", "decision_number", "valid_until")


class ScanConflict(RuntimeError):
    """A locked row changed under the scan: the batch is rolled back rather than half-recorded."""


@dataclass
class ScanReport:
    """What one scan did (or, with dry_run, would have done)."""

    today: date
    dry_run: bool = False
    expired: list[str] = field(default_factory=list)
    # Alerts that told people, by threshold; and the larger thresholds recorded as passed, silently.
    alerts: dict[int, int] = field(default_factory=lambda: dict.fromkeys(THRESHOLDS, 0))
    alerts_passed: int = 0
    orders_flagged: int = 0
    orders_cleared: int = 0
    orders_notified: int = 0
    notifications: int = 0
    emails_queued: int = 0

    @property
    def alerts_raised(self) -> int:
        return sum(self.alerts.values())

    def count(self, result: NotifyResult) -> None:
        self.notifications += result.created
        self.emails_queued += result.emails_queued

    def as_dict(self) -> dict:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        data["alerts"] = {str(threshold): count for threshold, count in self.alerts.items()}
        return data


def scan_qualifications(*, today: date, dry_run: bool = False) -> ScanReport:
    """Run the daily job for `today`. With `dry_run`, do everything inside a transaction rolled back at the end.

    A dry run therefore reports exactly what the real run would do, and writes
    nothing, queues no e-mail (on-commit callbacks of a rolled-back transaction
    never run).
    """
    report = ScanReport(today=today, dry_run=dry_run)
    with translation.override(settings.LANGUAGE_CODE):
        if dry_run:
            with transaction.atomic():
                _scan(today=today, report=report)
                transaction.set_rollback(True)
        else:
            _scan(today=today, report=report)
    return report


def _scan(*, today: date, report: ScanReport) -> None:
    qualifiers = _qualifier_ids()
    _batch_by_batch(partial(_expire_batch, today=today, qualifiers=qualifiers, report=report))
    _batch_by_batch(partial(_alert_batch, today=today, qualifiers=qualifiers, report=report))
    _refresh_continuity_flags(report=report)
    _batch_by_batch(partial(_continuity_batch, report=report))


def _batch_by_batch(step: Callable[..., int | None]) -> None:
    """Call `step(after=...)` with the last id it handled, until it finds no more rows (returns None)."""
    after: int | None = 0
    while after is not None:
        after = step(after=after)


# --- Selection --------------------------------------------------------------------------------------------


def lapsed(*, today: date) -> QuerySet:
    """Current decisions still `qualified` although their last valid day is before `today`."""
    return Qualification.objects.filter(is_current=True, status=QualificationStatus.QUALIFIED,
                                        valid_until__lt=today)


def due_threshold(*, today: date) -> Case:
    """The smallest threshold a decision has crossed on `today` (NULL outside the alert window)."""
    return Case(
        *[When(valid_until__lte=today + timedelta(days=t), then=Value(t)) for t in sorted(THRESHOLDS)],
        default=Value(None), output_field=IntegerField(),
    )


def alert_due(*, today: date) -> QuerySet:
    """Current `qualified` decisions ending within the largest threshold whose due alert is not raised yet."""
    return (
        Qualification.objects.filter(
            is_current=True, status=QualificationStatus.QUALIFIED,
            valid_until__gte=today, valid_until__lte=today + timedelta(days=max(THRESHOLDS)),
        )
        .alias(due_threshold=due_threshold(today=today))
        .filter(~Exists(QualificationAlert.objects.filter(qualification=OuterRef("pk"),
                                                          threshold_days=OuterRef("due_threshold"))))
    )


def _covering_qualification() -> Exists:
    """The order's offer has a current `qualified` decision lasting until the order's last day."""
    return Exists(Qualification.objects.filter(
        offer=OuterRef("offer_id"), is_current=True, status=QualificationStatus.QUALIFIED,
        valid_until__gte=OuterRef("ends_on"),
    ))


def orders_at_risk() -> QuerySet:
    """Committed orders of sensitive or health data whose offer's qualification will not last as long as they do."""
    return Order.objects.filter(status__in=COMMITTED_STATUSES, sensitivity__in=QUALIFIED_SENSITIVITIES).filter(
        ~_covering_qualification()
    )


def _locked_batch(queryset: QuerySet, *, after: int) -> list[dict]:
    """The next BATCH_SIZE rows after `after`, locked; rows another scan holds are skipped, not waited for."""
    return list(
        queryset.filter(pk__gt=after).order_by("pk")
        .select_for_update(skip_locked=True, no_key=True, of=("self",))
        .values(*QUALIFICATION_FIELDS)[:BATCH_SIZE]
    )


# --- Who is told -----------------------------------------------------------------------------------------


def _qualifier_ids() -> frozenset[int]:
    """ANSSI staff (the `qualifier` group)."""
    return frozenset(get_user_model().objects.filter(is_active=True, groups__name=roles.QUALIFIER)
                     .values_list("pk", flat=True))


def _pairs(pairs: Iterable[tuple[int, int]]) -> dict[int, set[int]]:
    grouped: dict[int, set[int]] = defaultdict(set)
    for key, user_id in pairs:
        grouped[key].add(user_id)
    return grouped


def _approvers_by_organisation(organisation_ids: set[int]) -> dict[int, set[int]]:
    return _pairs(UserProfile.objects.filter(
        organisation_id__in=organisation_ids, user__is_active=True, user__groups__name=roles.APPROVER,
    ).values_list("organisation_id", "user_id"))


def _audience(rows: list[dict], *, qualifiers: frozenset[int]) -> dict[int, frozenset[int]]:
    """For each qualification row: the provider's vendors, every qualifier, the buyers and approvers of
    the committed orders on its offer. Three queries, whatever the number of rows."""
    vendors = _pairs(UserProfile.objects.filter(
        provider_id__in={row["offer__provider_id"] for row in rows}, user__is_active=True,
        user__groups__name=roles.VENDOR,
    ).values_list("provider_id", "user_id"))
    orders = list(Order.objects.filter(
        offer_id__in={row["offer_id"] for row in rows}, status__in=COMMITTED_STATUSES,
    ).values_list("offer_id", "organisation_id", "created_by_id", "created_by__is_active").distinct())
    approvers = _approvers_by_organisation({organisation_id for _, organisation_id, _, _ in orders})
    buyers: dict[int, set[int]] = defaultdict(set)
    for offer_id, organisation_id, creator_id, creator_active in orders:
        if creator_active:
            buyers[offer_id].add(creator_id)
        buyers[offer_id] |= approvers.get(organisation_id, set())
    return {
        row["pk"]: frozenset(qualifiers | vendors.get(row["offer__provider_id"], set()) | buyers[row["offer_id"]])
        for row in rows
    }


# --- Expiry -------------------------------------------------------------------------------------------------


class _Wording:
    """What the messages of one batch share, worked out once rather than once per message.

    Formatting a date and reversing a URL each cost tens of microseconds, about a third of
    a cold-start scan when done for every one of 16,000 messages; a batch spans a few
    hundred distinct days, and every offer page follows one pattern.
    """

    # Slugs needing no escaping: exactly what `<slug:...>` accepts, put into a URL as they are.
    PLAIN_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
    PLACEHOLDER = "courtier-slug-placeholder"

    def __init__(self) -> None:
        self._days: dict[date, str] = {}
        prefix, found, suffix = _link("catalogue:offer-detail", self.PLACEHOLDER).partition(self.PLACEHOLDER)
        self._offer_page = (prefix, suffix) if found else None

    def day(self, value: date) -> str:
        if value not in self._days:
            self._days[value] = formats.date_format(value, "SHORT_DATE_FORMAT")
        return self._days[value]

    def offer_link(self, row: dict) -> str:
        """The offer's page: `reverse()` gives the same URL, placeholder and slug swapped; unusual slugs go
        through it."""
        slug = row["offer__slug"]
        if self._offer_page is not None and self.PLAIN_SLUG.match(slug):
            prefix, suffix = self._offer_page
            return f"{prefix}{slug}{suffix}"
        return _link("catalogue:offer-detail", slug)


def _decision(row: dict) -> str:
    return _(" (décision n° %(number)s)") % {"number": row["decision_number"]} if row["decision_number"] else ""


def _link(name: str, key: str) -> str:
    """The object's page; empty rather than a failed scan if a stored slug or reference cannot make a URL."""
    try:
        return reverse(name, args=[key])
    except NoReverseMatch:
        return ""


def _expire_batch(*, today: date, after: int, qualifiers: frozenset[int], report: ScanReport) -> int | None:
    with transaction.atomic():
        rows = _locked_batch(lapsed(today=today), after=after)
        if not rows:
            return None
        ids = [row["pk"] for row in rows]
        updated = lapsed(today=today).filter(pk__in=ids).update(status=QualificationStatus.EXPIRED,
                                                                 updated_at=timezone.now())
        if updated != len(ids):
            raise ScanConflict(f"{len(ids)} qualifications locked for expiry but {updated} updated")
        bump_after_commit()  # update() sends no post_save: the cached facet counts must still change
        events = QualificationEvent.objects.bulk_create([
            QualificationEvent(
                qualification_id=row["pk"], actor=None,
                reason=_("Échéance atteinte le %(until)s (traitement quotidien du %(today)s)")
                % {"until": row["valid_until"].isoformat(), "today": today.isoformat()},
                status_from=QualificationStatus.QUALIFIED, status_to=QualificationStatus.EXPIRED,
                changes={"status": [QualificationStatus.QUALIFIED.value, QualificationStatus.EXPIRED.value]},
            )
            for row in rows
        ])
        names = {row["pk"]: f"{row['offer__provider__name']} — {row['offer__name']}" for row in rows}
        audit_record_many(actor=None, action=AuditAction.STATE_CHANGED, model=Qualification, entries=[
            (event.qualification_id, names[event.qualification_id], event.changes, event.reason) for event in events])
        audience, wording = _audience(rows, qualifiers=qualifiers), _Wording()
        report.count(notify_many(messages=[_expired_message(row, audience[row["pk"]], wording=wording)
                                           for row in rows]))
        report.expired += [f"{row['offer__provider__name']} — {row['offer__name']}" for row in rows]
    return ids[-1]


def _expired_message(row: dict, recipients: frozenset[int], *, wording: _Wording) -> Message:
    names = {"offer": row["offer__name"], "provider": row["offer__provider__name"], "decision": _decision(row),
             "until": wording.day(row["valid_until"]), "next": wording.day(row["valid_until"] + timedelta(days=1))}
    return Message(
        recipient_ids=recipients,
        kind=NotificationKind.QUALIFICATION_EXPIRED,
        title=_("Qualification SecNumCloud expirée : « %(offer)s » (%(provider)s)") % names,
        body=_("La qualification SecNumCloud de l'offre « %(offer)s » de %(provider)s%(decision)s a pris fin "
               "le %(until)s. Depuis le %(next)s, l'offre n'est plus éligible aux données sensibles ni aux "
               "données de santé ; les commandes de telles données qui en dépendent sont signalées en risque "
               "de continuité.") % names,
        link=wording.offer_link(row),
        dedup_key=f"qualification-expired:{row['pk']}",
    )


# --- Alerts -------------------------------------------------------------------------------------------------


def _alert_batch(*, today: date, after: int, qualifiers: frozenset[int], report: ScanReport) -> int | None:
    with transaction.atomic():
        rows = _locked_batch(alert_due(today=today), after=after)
        if not rows:
            return None
        # Read while holding the lock: what a concurrent scan committed is seen here.
        existing = set(QualificationAlert.objects.filter(qualification_id__in=[row["pk"] for row in rows])
                       .values_list("qualification_id", "threshold_days"))
        alerts, warned = [], []
        for row in rows:
            crossed = [t for t in THRESHOLDS if row["valid_until"] <= today + timedelta(days=t)]
            missing = [t for t in crossed if (row["pk"], t) not in existing]
            alerts += [(row["pk"], t, row["valid_until"]) for t in missing]
            due = min(crossed)
            if due in missing:
                warned.append((row, due))
                report.alerts[due] += 1
            report.alerts_passed += len(missing) - (due in missing)
        _record_alerts(alerts, today=today)
        if warned:
            audience, wording = _audience([row for row, _ in warned], qualifiers=qualifiers), _Wording()
            report.count(notify_many(messages=[
                _expiring_message(row, threshold, audience[row["pk"]], today=today, wording=wording)
                for row, threshold in warned
            ]))
    return rows[-1]["pk"]


def _record_alerts(alerts: list[tuple[int, int, date]], *, today: date) -> None:
    """Insert the (qualification, threshold, valid_until) alerts raised `today`, skipping any that exists.

    The INSERT ... ON CONFLICT DO NOTHING of `bulk_create(ignore_conflicts=True)`; on PostgreSQL
    written as one INSERT ... SELECT from a JSON document, as notifications are
    (procurement.services.notifications), because building a model instance and compiling
    a value per row cost more than writing the rows.
    """
    if connection.vendor != "postgresql":
        QualificationAlert.objects.bulk_create(
            [QualificationAlert(qualification_id=pk, threshold_days=threshold, valid_until=valid_until,
                                raised_on=today) for pk, threshold, valid_until in alerts],
            ignore_conflicts=True, batch_size=BATCH_SIZE)
        return
    document = json.dumps([
        {"qualification_id": pk, "threshold_days": threshold, "valid_until": valid_until.isoformat()}
        for pk, threshold, valid_until in alerts
    ])
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO catalogue_qualificationalert (qualification_id, threshold_days, valid_until, raised_on,
                                                      created_at)
            SELECT a.qualification_id, a.threshold_days, a.valid_until, %s, %s
            FROM json_to_recordset(%s::json) AS a(qualification_id bigint, threshold_days int, valid_until date)
            ON CONFLICT (qualification_id, threshold_days) DO NOTHING
            """,
            [today, timezone.now(), document],
        )


def _expiring_message(row: dict, threshold: int, recipients: frozenset[int], *, today: date,
                      wording: _Wording) -> Message:
    days = (row["valid_until"] - today).days
    names = {"offer": row["offer__name"], "provider": row["offer__provider__name"], "decision": _decision(row),
             "until": wording.day(row["valid_until"]), "next": wording.day(row["valid_until"] + timedelta(days=1)),
             "days": days, "threshold": threshold}
    if days == 0:
        when = _("La qualification SecNumCloud de l'offre « %(offer)s » de %(provider)s%(decision)s prend fin "
                 "aujourd'hui, %(until)s.") % names
    else:
        when = ngettext(
            "La qualification SecNumCloud de l'offre « %(offer)s » de %(provider)s%(decision)s prend fin le "
            "%(until)s, dans %(days)s jour.",
            "La qualification SecNumCloud de l'offre « %(offer)s » de %(provider)s%(decision)s prend fin le "
            "%(until)s, dans %(days)s jours.",
            days,
        ) % names
    consequence = _("Sans renouvellement, l'offre ne pourra plus accueillir de données sensibles ni de données "
                    "de santé à partir du %(next)s. (Alerte J-%(threshold)s.)") % names
    return Message(
        recipient_ids=recipients,
        kind=NotificationKind.QUALIFICATION_EXPIRING,
        title=_("Qualification SecNumCloud de « %(offer)s » (%(provider)s) : fin de validité le %(until)s") % names,
        body=f"{when} {consequence}",
        link=wording.offer_link(row),
        dedup_key=f"qualification-expiring:{row['pk']}:{threshold}",
    )


# --- Orders at risk -----------------------------------------------------------------------------------------


def _refresh_continuity_flags(*, report: ScanReport) -> None:
    """Set the flag on committed orders at risk, clear it on those no longer at risk (e.g. after a renewal)."""
    now = timezone.now()
    with transaction.atomic():
        report.orders_flagged += orders_at_risk().filter(continuity_risk=False).update(
            continuity_risk=True, updated_at=now)
        report.orders_cleared += Order.objects.filter(status__in=COMMITTED_STATUSES, continuity_risk=True).filter(
            Q(_covering_qualification()) | ~Q(sensitivity__in=QUALIFIED_SENSITIVITIES)
        ).update(continuity_risk=False, updated_at=now)


def _continuity_batch(*, after: int, report: ScanReport) -> int | None:
    """Tell the buyer and the approvers of each flagged order, once per order and qualification decision."""
    current = Qualification.objects.filter(offer=OuterRef("offer_id"), is_current=True)
    key = Concat(Value("continuity-risk:"), Cast("pk", CharField()), Value(":"),
                 Coalesce(Cast(Subquery(current.values("pk")[:1]), CharField()), Value("0")),
                 output_field=CharField())
    with transaction.atomic():
        rows = list(
            Order.objects.filter(status__in=COMMITTED_STATUSES, continuity_risk=True, pk__gt=after)
            .annotate(
                notice_key=key,
                current_status=Subquery(current.values("status")[:1]),
                current_until=Subquery(current.values("valid_until")[:1]),
            )
            # Cheap skip of orders already told (the dedup key is the guarantee; this only saves work).
            .filter(~Exists(Notification.objects.filter(recipient_id=OuterRef("created_by_id"),
                                                        dedup_key=OuterRef("notice_key"))))
            .order_by("pk")
            .values("pk", "reference", "organisation_id", "created_by_id", "created_by__is_active", "ends_on",
                    "offer__name", "offer__provider__name", "notice_key", "current_status",
                    "current_until")[:BATCH_SIZE]
        )
        if not rows:
            return None
        approvers = _approvers_by_organisation({row["organisation_id"] for row in rows})
        messages, wording = [], _Wording()
        for row in rows:
            recipients = set(approvers.get(row["organisation_id"], set()))
            if row["created_by__is_active"]:
                recipients.add(row["created_by_id"])
            messages.append(_continuity_message(row, frozenset(recipients), wording=wording))
        result = notify_many(messages=messages)
        report.count(result)
        report.orders_notified += sum(1 for row in rows if row["notice_key"] in result.created_keys)
    return rows[-1]["pk"]


def _continuity_message(row: dict, recipients: frozenset[int], *, wording: _Wording) -> Message:
    names = {"reference": row["reference"], "offer": row["offer__name"], "provider": row["offer__provider__name"],
             "ends_on": wording.day(row["ends_on"])}
    if row["current_status"] == QualificationStatus.QUALIFIED and row["current_until"]:
        cause = _("la qualification SecNumCloud de l'offre prend fin le %(until)s") % {
            "until": wording.day(row["current_until"])}
    elif row["current_status"]:
        cause = _("l'offre n'a plus de qualification SecNumCloud en vigueur (statut : %(status)s)") % {
            "status": QualificationStatus(row["current_status"]).label}
    else:
        cause = _("l'offre n'a pas de qualification SecNumCloud")
    return Message(
        recipient_ids=recipients,
        kind=NotificationKind.CONTINUITY_RISK,
        title=_("Risque de continuité sur la commande %(reference)s") % names,
        body=_("La commande %(reference)s (« %(offer)s », %(provider)s) court jusqu'au %(ends_on)s, mais "
               "%(cause)s. Prévoyez le renouvellement de la qualification ou une solution de remplacement pour "
               "vos données sensibles.") % {**names, "cause": cause},
        link=_link("procurement:order-detail", row["reference"]),
        dedup_key=row["notice_key"],
    )
