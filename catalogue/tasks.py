"""Celery tasks of the catalogue. Thin: they take plain values and call the service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from catalogue import lifecycle
from catalogue.selectors import today_local


@shared_task(acks_late=True)
def scan_qualifications_task(today_iso: str | None = None) -> dict:
    """The daily scan (beat, 06:00 Europe/Paris). Idempotent: a rerun the same day changes and sends nothing."""
    today = date.fromisoformat(today_iso) if today_iso else today_local()
    return lifecycle.scan_qualifications(today=today).as_dict()
