"""Notifications: written once per person and key, mailed through the outbox exactly once, read in the inbox."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from broker.celery import app as celery_app
from procurement.models import Notification, NotificationKind
from procurement.services import notifications
from procurement.services.notifications import (
    enqueue_emails,
    notification_send_email,
    notifications_send_pending,
    notify,
)
from procurement.tasks import send_pending_emails_task
from tests.factories import make_user


def _notify(recipients, key: str | None = "k1", **kwargs):
    values = {"kind": NotificationKind.QUALIFICATION_EXPIRING, "title": "Échéance proche",
              "body": "La qualification prend fin bientôt.", "link": "/catalogue/offre-1/"}
    return notify(recipients=recipients, dedup_key=key, **{**values, **kwargs})


def _closed_port() -> int:
    """A local TCP port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", _closed_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False


def _forget_connections() -> None:
    """Drop the pools made for the previous broker URL (eager calls also acquire a producer)."""
    celery_app.close()
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """The Celery app publishing to a Redis that does not answer (instead of running tasks in-process)."""
    previous = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=False, CELERY_BROKER_URL=f"redis://127.0.0.1:{_closed_port()}/0",
                           CELERY_BROKER_CONNECTION_TIMEOUT=1)
    _forget_connections()
    yield
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=previous["task_always_eager"],
                           CELERY_BROKER_URL=previous["broker_url"])
    _forget_connections()


# --- notify ------------------------------------------------------------------------------------------------


def test_notify_writes_one_row_per_recipient_and_key(users):
    """Each recipient gets the notification once; the same key again creates nothing."""
    first = _notify([users["vendor"], users["qualifier"]])
    again = _notify([users["vendor"].pk, users["qualifier"], users["buyer"]])

    assert first.created == 2 and again.created == 1
    assert again.created_keys == {"k1"}
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "acheteur", "anssi", "fournisseur"]
    row = Notification.objects.get(recipient=users["buyer"])
    assert (row.kind, row.title, row.link, row.read_at, row.email_sent_at) == (
        "qualification_expiring", "Échéance proche", "/catalogue/offre-1/", None, None)


def test_notify_without_key_always_writes(users):
    """Without a dedup key, every call is a new notification."""
    _notify([users["buyer"]], key=None)
    result = _notify([users["buyer"]], key=None)

    assert result.created == 1
    assert Notification.objects.filter(recipient=users["buyer"]).count() == 2


def test_email_is_sent_after_commit_once(users, django_capture_on_commit_callbacks, mailoutbox, settings):
    """The e-mail leaves on commit, in French plain text, from DEFAULT_FROM_EMAIL, and is recorded as sent."""
    settings.SITE_URL = "https://courtier.example.gouv.fr"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _notify([users["vendor"]])
        assert mailoutbox == []

    assert len(callbacks) == 1 and result.emails_queued == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    row = Notification.objects.get()
    assert message.to == [users["vendor"].email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "[Courtier] Échéance proche"
    assert "Bonjour fournisseur," in message.body
    assert "La qualification prend fin bientôt." in message.body
    assert "https://courtier.example.gouv.fr/catalogue/offre-1/" in message.body
    assert "https://courtier.example.gouv.fr/notifications/" in message.body
    assert message.extra_headers["Message-ID"].startswith(f"<notification-{row.pk}@")
    assert row.email_sent_at is not None and row.email_attempts == 1 and row.email_last_error == ""

    assert notification_send_email(notification_id=row.pk) is False
    assert len(mailoutbox) == 1


def test_recipient_without_address_gets_the_inbox_only(users, django_capture_on_commit_callbacks, mailoutbox):
    """No e-mail address: the notification exists, nothing is queued, the periodic resend ignores it."""
    nameless = make_user(username="sans-courriel", email="")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        result = _notify([nameless])

    assert result.created == 1 and result.emails_queued == 0 and callbacks == []
    later = timezone.now() + timedelta(minutes=5)
    assert notifications_send_pending(now=later).sent == 0
    assert mailoutbox == []


def test_only_recipients_with_an_address_are_mailed_and_the_rows_cost_one_statement(
        users, django_capture_on_commit_callbacks, mailoutbox, django_assert_num_queries):
    """Mixed recipients: only those with an address are mailed. In a caller's transaction, writing the rows and
    learning who has an address is one statement on PostgreSQL (an insert, then a lookup elsewhere), with no
    savepoint."""
    nameless = make_user(username="sans-courriel", email="")
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
            result = _notify([nameless, users["vendor"], users["buyer"]])

    assert result.created == 3 and result.emails_queued == 2
    assert Notification.objects.filter(recipient=nameless, email_sent_at__isnull=True).exists()
    assert sorted(message.to[0] for message in mailoutbox) == sorted([users["vendor"].email, users["buyer"].email])


def test_mail_server_down_is_recorded_then_the_periodic_resend_sends_once(users, mail_server_down, settings,
                                                                          mailoutbox):
    """A refused connection is recorded (attempts, error) and raised for retry; once the server is back, the
    periodic task sends the mail, once."""
    _notify([users["vendor"]])
    row = Notification.objects.get()

    with pytest.raises(OSError):
        notification_send_email(notification_id=row.pk)

    row.refresh_from_db()
    assert row.email_sent_at is None and row.email_attempts == 1
    assert "ConnectionRefusedError" in row.email_last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    too_soon = notifications_send_pending(now=row.created_at + timedelta(seconds=30))
    assert too_soon.sent == 0 and mailoutbox == []

    result = notifications_send_pending(now=row.created_at + timedelta(minutes=2))
    again = notifications_send_pending(now=row.created_at + timedelta(minutes=10))

    assert (result.sent, again.sent) == (1, 0)
    assert len(mailoutbox) == 1
    row.refresh_from_db()
    assert row.email_sent_at is not None and row.email_attempts == 2 and row.email_last_error == ""


def test_periodic_resend_stops_at_the_first_unreachable_server(users, mail_server_down):
    """With the mail server down, one attempt is made, not one timeout per pending row."""
    for key in ("a", "b", "c"):
        _notify([users["vendor"]], key=key)

    result = notifications_send_pending(now=timezone.now() + timedelta(minutes=2))

    assert (result.sent, result.failed, result.stopped) == (0, 1, True)
    assert sorted(Notification.objects.values_list("email_attempts", flat=True)) == [0, 0, 1]


def test_periodic_task_sends_pending_emails(users, mailoutbox):
    """send_pending_emails_task (beat, every five minutes) sends rows left unsent for over a minute."""
    _notify([users["vendor"], users["buyer"]])
    Notification.objects.update(created_at=timezone.now() - timedelta(minutes=3))

    result = send_pending_emails_task.delay().get()

    assert result == {"sent": 2, "failed": 0, "stopped": False}
    assert sorted(address for message in mailoutbox for address in message.to) == sorted(
        [users["vendor"].email, users["buyer"].email])
    assert not Notification.objects.filter(email_sent_at__isnull=True).exists()


def test_broker_down_loses_nothing_and_does_not_fail_the_caller(users, broker_down, mailoutbox, settings,
                                                                django_capture_on_commit_callbacks):
    """Redis unreachable when enqueueing: the commit stands, the rows stay unsent, the periodic resend sends them."""
    with django_capture_on_commit_callbacks(execute=True):
        result = _notify([users["vendor"], users["qualifier"]])

    assert result.created == 2
    assert Notification.objects.filter(email_sent_at__isnull=True).count() == 2
    assert enqueue_emails(notification_ids=result.notification_ids) == 0
    assert mailoutbox == []

    pending = notifications_send_pending(now=timezone.now() + timedelta(minutes=2))

    assert pending.sent == 2 and len(mailoutbox) == 2
    assert not Notification.objects.filter(email_sent_at__isnull=True).exists()


def test_notify_in_a_rolled_back_transaction_sends_nothing(users, django_capture_on_commit_callbacks, mailoutbox):
    """The outbox follows the transaction: rolled back, no row and no e-mail."""
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            _notify([users["vendor"]])
            transaction.set_rollback(True)

    assert callbacks == [] and mailoutbox == []
    assert not Notification.objects.exists()


def test_max_attempts_stop_the_periodic_resend(users, mailoutbox):
    """A notification that failed EMAIL_MAX_ATTEMPTS times is left alone (its error stays visible)."""
    _notify([users["vendor"]])
    Notification.objects.update(email_attempts=notifications.EMAIL_MAX_ATTEMPTS)

    assert notifications_send_pending(now=timezone.now() + timedelta(minutes=2)).sent == 0
    assert mailoutbox == []


# --- Inbox page --------------------------------------------------------------------------------------------


@pytest.fixture
def inbox(users):
    """Two notifications of the buyer (one read) and one of the approver."""
    own = _notify([users["buyer"]], key="a", title="Commande à risque")
    _notify([users["buyer"]], key="b", title="Déjà lue")
    Notification.objects.filter(title="Déjà lue").update(read_at=timezone.now())
    other = _notify([users["approver"]], key="c", title="Pour le valideur")
    return {"own": own.notification_ids[0], "other": other.notification_ids[0]}


def test_inbox_requires_login(client, db):
    """Anonymous visitors are sent to the login page."""
    response = client.get("/notifications/")

    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_inbox_lists_only_my_notifications_with_unread_marked(client, users, inbox):
    """The page shows the user's own notifications, the unread ones marked, the header count right."""
    client.force_login(users["buyer"])

    response = client.get(reverse("procurement:notification-list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Commande à risque" in body and "Déjà lue" in body and "Pour le valideur" not in body
    assert body.count("fr-badge--new") == 1
    assert "1 notification non lue" in body
    assert f'action="/notifications/{inbox["own"]}/lire/"' in body
    assert 'href="/catalogue/offre-1/"' in body
    assert response.context["unread_notifications"] == 1


def test_inbox_unread_filter(client, users, inbox):
    """?non_lues=1 shows only the unread notifications."""
    client.force_login(users["buyer"])

    body = client.get("/notifications/?non_lues=1").content.decode()

    assert "Commande à risque" in body and "Déjà lue" not in body


def test_mark_one_read_by_post(client, users, inbox):
    """POST marks it read and returns to the page; GET is refused; another user's is 404."""
    client.force_login(users["buyer"])
    url = reverse("procurement:notification-read", args=[inbox["own"]])

    assert client.get(url).status_code == 405
    response = client.post(url, {"next": "/notifications/?non_lues=1"})

    assert response.status_code == 302 and response["Location"] == "/notifications/?non_lues=1"
    assert Notification.objects.get(pk=inbox["own"]).read_at is not None
    foreign = client.post(reverse("procurement:notification-read", args=[inbox["other"]]))
    assert foreign.status_code == 404
    assert Notification.objects.get(pk=inbox["other"]).read_at is None


def test_mark_read_ignores_an_outside_next(client, users, inbox):
    """A `next` pointing to another site falls back to the inbox."""
    client.force_login(users["buyer"])

    response = client.post(reverse("procurement:notification-read", args=[inbox["own"]]),
                           {"next": "https://evil.example.com/"})

    assert response["Location"] == reverse("procurement:notification-list")


def test_mark_all_read(client, users, inbox):
    """POST read-all marks every unread notification of the user, and only theirs."""
    client.force_login(users["buyer"])

    response = client.post(reverse("procurement:notification-read-all"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=users["buyer"], read_at__isnull=True).exists()
    assert Notification.objects.get(pk=inbox["other"]).read_at is None


# --- API ---------------------------------------------------------------------------------------------------


def test_api_lists_only_my_notifications(api, users, inbox):
    """GET notifications/ gives the caller's inbox, newest first, with read state."""
    response = api(users["buyer"]).get("/api/v1/notifications/")

    assert response.status_code == 200
    assert response.data["count"] == 2
    titles = {row["title"]: row["is_read"] for row in response.data["results"]}
    assert titles == {"Commande à risque": False, "Déjà lue": True}
    assert response.data["results"][0]["kind_label"] == "Échéance de qualification"


def test_api_unread_filter_and_bad_value(api, users, inbox):
    """?unread=true keeps the unread ones; an invalid value is a coded 400 naming the parameter."""
    client = api(users["buyer"])

    unread = client.get("/api/v1/notifications/?unread=true")
    bad = client.get("/api/v1/notifications/?unread=peut-etre")

    assert [row["title"] for row in unread.data["results"]] == ["Commande à risque"]
    assert bad.status_code == 400 and bad.data["code"] == "invalid_filter" and "unread" in bad.data


def test_api_another_users_notification_is_404(api, users, inbox):
    """Reading or marking someone else's notification answers 404 and changes nothing."""
    client = api(users["buyer"])

    assert client.get(f"/api/v1/notifications/{inbox['other']}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{inbox['other']}/read/").status_code == 404
    assert Notification.objects.get(pk=inbox["other"]).read_at is None


def test_api_mark_read_and_read_all(api, users, inbox):
    """POST read/ marks one; POST read-all/ marks the rest and says how many."""
    client = api(users["buyer"])
    _notify([users["buyer"]], key="d", title="Encore une")

    one = client.post(f"/api/v1/notifications/{inbox['own']}/read/")
    rest = client.post("/api/v1/notifications/read-all/")

    assert one.status_code == 200 and one.data["is_read"] is True
    assert rest.status_code == 200 and rest.data == {"marked_read": 1}
    assert not Notification.objects.filter(recipient=users["buyer"], read_at__isnull=True).exists()


def test_api_requires_authentication(api, db):
    """Anonymous callers get 401."""
    assert api(None).get("/api/v1/notifications/").status_code == 401
    assert api(None).post("/api/v1/notifications/read-all/").status_code == 401
