"""Helpers shared by the management commands."""

from datetime import date

from django.core.management.base import CommandError


def iso_date(value: str, *, option: str = "--today") -> date:
    """Parse a YYYY-MM-DD option, or stop the command with a clear message."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option} : date invalide « {value} », format attendu AAAA-MM-JJ.") from error
