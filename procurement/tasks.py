"""Celery tasks of procurement: the e-mail outbox. Thin: they take ids and call the service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from procurement.services import notifications


@shared_task(
    acks_late=True,
    autoretry_for=notifications.MAIL_ERRORS,
    max_retries=8,
    retry_backoff=30,  # 30 s, 60 s, 120 s... capped below
    retry_backoff_max=30 * 60,
    retry_jitter=True,
)
def send_notification_emails(notification_ids: list[int]) -> dict:
    """Send these notifications' e-mails. Idempotent: what was sent is skipped, so a retry (after an SMTP or
    connection error, with exponential backoff) or a redelivery sends only what is left."""
    result = notifications.notifications_send_emails(notification_ids=notification_ids)
    if result.error is not None:
        raise result.error
    return {"sent": result.sent}


@shared_task(acks_late=True)
def send_pending_emails_task(older_than_seconds: int | None = None) -> dict:
    """Periodic: send what is still unsent (broker down at enqueue time, worker lost, mail server down).

    By default only rows older than a minute, leaving the newest to the task enqueued on their commit;
    an operator may pass 0 to send everything pending now.
    """
    grace = notifications.PENDING_GRACE if older_than_seconds is None else timedelta(seconds=older_than_seconds)
    result = notifications.notifications_send_pending(grace=grace)
    return {"sent": result.sent, "failed": result.failed, "stopped": result.stopped}
