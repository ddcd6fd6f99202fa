"""Notifications: the in-app inbox and its e-mail outbox.

A notification is one row per recipient. Its e-mail goes out through an outbox:
the row is written in the caller's transaction, and the send task is enqueued
only once that transaction commits. The task locks the row and records when the
mail went out, so a redelivered or duplicated task sends nothing twice; the
periodic `send_pending_emails_task` sends whatever is still unsent (the broker
was down when enqueueing, the worker died, the mail server refused it).

The one window left is a worker killed after the mail server accepted a message
and before `email_sent_at` is committed: that mail is sent again, with the same
Message-ID so that mail clients can recognise it as the same message.
"""

from __future__ import annotations

import json
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial, update_wrapper

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerError

from procurement.models import Notification

logger = logging.getLogger(__name__)

# Rows written per INSERT, and ids looked up per query: a fixed size, so the
# number of queries grows with the batches, never with each recipient.
CHUNK_SIZE = 1000

# Errors of the mail server or of the network on the way to it: worth retrying later.
# (smtplib.SMTPException and socket errors are all OSError.)
MAIL_ERRORS: tuple[type[BaseException], ...] = (OSError,)

# Errors meaning the server is unreachable, as opposed to refusing one message:
# sending stops at the first one instead of timing out on every row.
SERVER_DOWN_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError, TimeoutError, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected,
)

# A notification is retried this many times at most (about a day of the periodic
# resend every five minutes); past that, the error stays visible in the admin.
EMAIL_MAX_ATTEMPTS = 300

# Notifications per send task. Publishing a task costs about a millisecond: one per e-mail
# would cost more than the whole cold-start scan (72,000 e-mails at 100,000 qualifications),
# and 50 per task still a third of it. A task of 200 sends for a few seconds, well within
# the task time limit, and a retry skips what it already sent.
EMAIL_TASK_SIZE = 200

# The periodic resend leaves the newest rows to the task enqueued on their commit.
PENDING_GRACE = timedelta(minutes=1)
PENDING_BATCH = 200


@dataclass(frozen=True)
class Message:
    """One notification addressed to several people; `dedup_key` makes it at most one per person."""

    recipient_ids: frozenset[int]
    kind: str
    title: str
    body: str = ""
    link: str = ""
    dedup_key: str | None = None


@dataclass
class NotifyResult:
    """The notifications actually created (not those the dedup key refused) and the e-mails queued."""

    notification_ids: list[int] = field(default_factory=list)
    created_keys: set[str] = field(default_factory=set)
    emails_queued: int = 0

    @property
    def created(self) -> int:
        return len(self.notification_ids)


def notify(*, recipients: Iterable, kind: str, title: str, body: str = "", link: str = "",
           dedup_key: str | None = None) -> NotifyResult:
    """Tell `recipients` (users or user ids) something, in the inbox and by e-mail after commit.

    With a `dedup_key`, each recipient gets it at most once, ever: the unique
    constraint `notification_dedup_unique` guarantees it, even across processes,
    and the result lists exactly the rows this call created.
    """
    recipient_ids = frozenset(getattr(user, "pk", user) for user in recipients)
    return notify_many(messages=[Message(recipient_ids, kind, title, body, link, dedup_key)])


def notify_many(*, messages: Sequence[Message]) -> NotifyResult:
    """Write many notifications in a fixed number of queries per chunk of rows; queue their e-mails on commit.

    Each message is worded once, whatever its number of recipients; on PostgreSQL its
    text also travels once per chunk (see `_insert_postgresql`).
    """
    keyed, undeduplicated = _deliveries(messages)
    insert = _insert_postgresql if connection.vendor == "postgresql" else _insert_orm
    result = NotifyResult()
    inserted: list[Inserted] = []
    # No savepoint inside the caller's transaction (two queries fewer): an error here fails the caller anyway.
    with transaction.atomic(savepoint=False):
        for deliveries in (keyed, undeduplicated):
            for start in range(0, len(deliveries), CHUNK_SIZE):
                inserted += insert(messages, deliveries[start:start + CHUNK_SIZE])
        for pk, key, _recipient_id, _has_address in sorted(inserted):
            result.notification_ids.append(pk)
            if key is not None:
                result.created_keys.add(key)
        result.emails_queued = _queue_emails(inserted)
    return result


# One notification to write: (index of its message, recipient id).
Delivery = tuple[int, int]
# One notification written: (id, dedup key, recipient id, whether the recipient has an e-mail address or
# None when the insert did not tell).
Inserted = tuple[int, str | None, int, bool | None]


def _deliveries(messages: Sequence[Message]) -> tuple[list[Delivery], list[Delivery]]:
    """The rows to write, those with a dedup key first: at most one per (recipient, key), the first message
    wins; recipients in id order."""
    keyed: list[Delivery] = []
    undeduplicated: list[Delivery] = []
    seen: set[tuple[int, str]] = set()
    for index, message in enumerate(messages):
        for recipient_id in sorted(message.recipient_ids):
            if message.dedup_key is None:
                undeduplicated.append((index, recipient_id))
            elif (recipient_id, message.dedup_key) not in seen:
                seen.add((recipient_id, message.dedup_key))
                keyed.append((index, recipient_id))
    return keyed, undeduplicated


def _insert_postgresql(messages: Sequence[Message], deliveries: list[Delivery]) -> list[Inserted]:
    """Insert the rows in one INSERT ... SELECT; return (id, key, recipient, has address) of those really
    inserted.

    The chunk's messages and its (message, recipient) pairs are sent as two JSON documents,
    which PostgreSQL expands and joins: each message's text is sent once, not once per
    recipient, and no Python object is built per row (building model instances and
    compiling a row-by-row INSERT took most of the time of a 70,000-row scan). ON CONFLICT
    DO NOTHING on the constraint `notification_dedup_unique` decides, in one statement and
    even against a concurrent writer of the same key (PostgreSQL makes the second insert
    wait for the first transaction, then skip the row if it committed); rows without a
    key never conflict. The other columns get their model defaults (unread, not mailed), and
    the rows of one statement share their `created_at`. The same statement says which recipients have an
    e-mail address (a join on the users), so queueing the e-mails costs no other query.
    """
    position: dict[int, int] = {}  # message index -> its place in this chunk's message list
    for index, _recipient_id in deliveries:
        position.setdefault(index, len(position))
    chunk_messages = [
        {"n": place, "kind": messages[index].kind, "title": messages[index].title[:250],
         "body": messages[index].body, "link": messages[index].link, "dedup_key": messages[index].dedup_key}
        for index, place in position.items()
    ]
    pairs = [{"n": position[index], "recipient_id": recipient_id} for index, recipient_id in deliveries]
    users, quote = get_user_model(), connection.ops.quote_name
    user_table, user_pk = quote(users._meta.db_table), quote(users._meta.pk.column)
    user_email = quote(users._meta.get_field(users.get_email_field_name()).column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH inserted AS (
                INSERT INTO procurement_notification
                    (recipient_id, kind, title, body, link, dedup_key, created_at, email_attempts,
                     email_last_error)
                SELECT d.recipient_id, m.kind, m.title, m.body, m.link, m.dedup_key, %s, 0, ''
                FROM json_to_recordset(%s::json) AS d(n int, recipient_id int)
                JOIN json_to_recordset(%s::json) AS m(n int, kind text, title text, body text, link text,
                                                      dedup_key text) USING (n)
                ORDER BY n, d.recipient_id  -- the order of `deliveries`, so ids follow it
                ON CONFLICT (recipient_id, dedup_key) WHERE dedup_key IS NOT NULL DO NOTHING
                RETURNING id, dedup_key, recipient_id
            )
            SELECT inserted.id, inserted.dedup_key, inserted.recipient_id, COALESCE(u.{user_email} > '', false)
            FROM inserted LEFT JOIN {user_table} u ON u.{user_pk} = inserted.recipient_id
            """,  # the names interpolated are the user model's table and columns, quoted
            [timezone.now(), json.dumps(pairs), json.dumps(chunk_messages, ensure_ascii=False)],
        )
        return [tuple(row) for row in cursor.fetchall()]


def _insert_orm(messages: Sequence[Message], deliveries: list[Delivery]) -> list[Inserted]:
    """The same as `_insert_postgresql` through the ORM, for the other databases (SQLite in development).

    This is the INSERT ... ON CONFLICT DO NOTHING that `bulk_create(ignore_conflicts=True)`
    runs, plus RETURNING, which bulk_create leaves out when ignoring conflicts.
    `QuerySet._insert` is the method bulk_create and Model.save use. Rows without a key
    (never in the same chunk as keyed ones) are inserted without ignoring anything. Whether recipients have
    an address is left to _queue_emails.
    """
    meta = Notification._meta
    rows = [
        Notification(recipient_id=recipient_id, kind=messages[index].kind, title=messages[index].title[:250],
                     body=messages[index].body, link=messages[index].link, dedup_key=messages[index].dedup_key)
        for index, recipient_id in deliveries
    ]
    inserted = Notification.objects._insert(
        rows,
        fields=[field for field in meta.concrete_fields if not field.primary_key],
        returning_fields=[meta.pk, meta.get_field("dedup_key"), meta.get_field("recipient")],
        on_conflict=OnConflict.IGNORE if rows[0].dedup_key is not None else None,
    )
    # A single row refused by the constraint comes back as [None].
    return [(*row, None) for row in inserted if row is not None]


def _queue_emails(inserted: list[Inserted]) -> int:
    """After commit, enqueue the e-mails of the notifications whose recipient has an address."""
    unknown = sorted({recipient_id for _pk, _key, recipient_id, has_address in inserted if has_address is None})
    with_address_ids: set[int] = set()
    for start in range(0, len(unknown), CHUNK_SIZE):
        with_address_ids.update(get_user_model().objects.filter(
            pk__in=unknown[start:start + CHUNK_SIZE], email__gt="").values_list("pk", flat=True))
    with_address = sorted(pk for pk, _key, recipient_id, has_address in inserted
                          if has_address or (has_address is None and recipient_id in with_address_ids))
    if with_address:
        # update_wrapper gives the partial a __qualname__, which Django's robust on_commit logs on failure.
        callback = update_wrapper(partial(enqueue_emails, notification_ids=with_address), enqueue_emails)
        transaction.on_commit(callback, robust=True)
    return len(with_address)


def enqueue_emails(*, notification_ids: Sequence[int]) -> int:
    """Hand the e-mails to the queue, EMAIL_TASK_SIZE per task; returns how many were queued.

    Runs after commit: the rows exist whatever happens here, so a broker outage
    loses nothing and must not fail the caller: the rest is left to the periodic resend.
    """
    from procurement.tasks import send_notification_emails  # the tasks module imports this one

    for start in range(0, len(notification_ids), EMAIL_TASK_SIZE):
        chunk = list(notification_ids[start:start + EMAIL_TASK_SIZE])
        try:
            send_notification_emails.delay(chunk)
        except (BrokerError, *MAIL_ERRORS) as error:
            # BrokerError: Redis is down. MAIL_ERRORS: in eager mode (no broker) the send runs here.
            logger.warning("Could not queue e-mail for notification %s (%s); %s e-mail(s) left to the "
                           "periodic resend.", chunk[0], error, len(notification_ids) - start)
            return start
    return len(notification_ids)


def _absolute(link: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{link}" if link.startswith("/") else link


def _email_for(notification: Notification) -> EmailMessage:
    context = {"notification": notification, "recipient": notification.recipient,
               "link": _absolute(notification.link),
               "inbox_url": _absolute(reverse("procurement:notification-list"))}
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string("emails/notification_subject.txt", context).split())
        body = render_to_string("emails/notification_body.txt", context)
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "courtier.local"
    return EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[notification.recipient.email],
        headers={
            # The same Message-ID on every attempt: a resend is recognisably the same message.
            "Message-ID": f"<notification-{notification.pk}@{domain}>",
            "X-Courtier-Notification": str(notification.pk),
        },
    )


def notification_send_email(*, notification_id: int, now: datetime | None = None) -> bool:
    """Send the e-mail of one notification unless it was already sent. True when this call sent it.

    The row is locked while sending, so two workers never send the same one; a
    failure is recorded (attempts, last error) and re-raised for the task to retry.
    """
    try:
        with transaction.atomic():
            notification = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
                            .select_related("recipient").filter(pk=notification_id).first())
            # None: deleted, or locked by another worker sending it right now.
            if notification is None or notification.email_sent_at is not None or not notification.recipient.email:
                return False
            _email_for(notification).send(fail_silently=False)
            Notification.objects.filter(pk=notification.pk).update(
                email_sent_at=now or timezone.now(), email_attempts=F("email_attempts") + 1, email_last_error="",
            )
            return True
    except MAIL_ERRORS as error:
        Notification.objects.filter(pk=notification_id, email_sent_at__isnull=True).update(
            email_attempts=F("email_attempts") + 1, email_last_error=f"{type(error).__name__}: {error}"[:2000],
        )
        raise


@dataclass
class SendResult:
    sent: int = 0
    failed: int = 0
    stopped: bool = False
    error: BaseException | None = None


def notifications_send_emails(*, notification_ids: Iterable[int], now: datetime | None = None) -> SendResult:
    """Send the e-mails of these notifications, each at most once; go on after a refused message, stop
    at the first sign the mail server is unreachable (instead of timing out on every row)."""
    result = SendResult()
    for notification_id in notification_ids:
        try:
            result.sent += notification_send_email(notification_id=notification_id, now=now)
        except MAIL_ERRORS as error:
            result.failed += 1
            result.error = error
            if isinstance(error, SERVER_DOWN_ERRORS):
                logger.warning("Mail server unreachable (%s): sending stops here and is tried again later.", error)
                result.stopped = True
                break
    return result


def notifications_send_pending(*, now: datetime | None = None, grace: timedelta = PENDING_GRACE,
                               limit: int = PENDING_BATCH) -> SendResult:
    """Send the e-mails still unsent `grace` (a minute) after their notification was written, oldest first."""
    now = now or timezone.now()
    pending = list(
        Notification.objects.filter(
            email_sent_at__isnull=True, created_at__lte=now - grace, recipient__email__gt="",
            email_attempts__lt=EMAIL_MAX_ATTEMPTS,
        ).order_by("created_at", "pk").values_list("pk", flat=True)[:limit]
    )
    return notifications_send_emails(notification_ids=pending, now=now)


def notification_mark_read(*, user, notification_id: int, now: datetime | None = None) -> Notification:
    """Mark one of `user`'s notifications read. Another user's answers Notification.DoesNotExist."""
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = now or timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notifications_mark_all_read(*, user, now: datetime | None = None) -> int:
    """Mark every unread notification of `user` read; returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=now or timezone.now())
