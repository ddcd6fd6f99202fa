"""Display helpers for catalogue templates: labels, badge colours, days left. No business rules here."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import formats
from django.utils.translation import gettext

from catalogue import doctrine
from catalogue.countries import country_name as _country_name
from catalogue.models import Milestone, Qualification, QualificationStatus

register = template.Library()

# DSFR badge colour for each qualification status (no status: a plain grey badge).
BADGE_CLASSES = {
    QualificationStatus.QUALIFIED: "fr-badge--success",
    QualificationStatus.IN_PROGRESS: "fr-badge--info",
    QualificationStatus.SUSPENDED: "fr-badge--warning",
    QualificationStatus.REVOKED: "fr-badge--error",
    QualificationStatus.EXPIRED: "fr-badge--error",
}

# Labels of the coded values a history entry may show, by field.
_VALUE_LABELS = {
    "status": dict(QualificationStatus.choices),
    "milestone": dict(Milestone.choices),
}


@register.filter
def badge_class(status: str | None) -> str:
    return BADGE_CLASSES.get(status or "", "")


@register.filter
def days_until(day: date | None, today: date) -> int | None:
    """Days from `today` to `day` (negative once past), None when the date is unknown."""
    if day is None or today is None:
        return None
    return (day - today).days


@register.filter
def negate(number: int) -> int:
    return -number


@register.filter
def percent(value: Decimal | None) -> str:
    """A share in percent without useless zeros, localised: 12.50 gives "12,5 %"."""
    if value is None:
        return ""
    value = Decimal(value)
    value = value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()
    return f"{formats.number_format(value)} %"


@register.filter
def sensitivity_label(code: str) -> str:
    return str(doctrine.SENSITIVITY_LABELS.get(code, code))


@register.filter
def country_name(code: str) -> str:
    return _country_name(code or "")


@register.filter
def change_rows(changes: dict | None) -> list[tuple[str, str, str]]:
    """A history entry's {field: [before, after]} as readable (field label, before, after) rows."""
    rows = []
    for name, values in (changes or {}).items():
        try:
            label = str(Qualification._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            label = name
        labels = _VALUE_LABELS.get(name, {})
        before, after = (list(values) + [None, None])[:2] if isinstance(values, list | tuple) else (None, values)
        rows.append((label, _readable(labels.get(before, before)), _readable(labels.get(after, after))))
    return rows


def _readable(value) -> str:
    return "—" if value in (None, "") else str(value)


@register.filter
def euros_ht(value) -> str:
    """An amount excluding VAT in the active language: « 1 234,50 € HT », "€1,234.50 excl. VAT"."""
    if value in (None, ""):
        return "—"
    amount = formats.number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    return gettext("%(amount)s € HT") % {"amount": amount}
