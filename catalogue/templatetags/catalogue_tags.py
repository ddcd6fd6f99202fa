"""Display helpers for catalogue templates: labels, badge colours, days left, reused markup. No business rules here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from django import template
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.template.loader import render_to_string
from django.utils import formats
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

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


@dataclass(frozen=True)
class Validity:
    """The two phrases of a validity line, ready to show."""

    until: SafeString  # "Valable jusqu'au 3 mai 2027"
    left: SafeString  # "12 jours restants", "dernier jour de validité" or "échue depuis 3 jours"


@register.simple_tag
def validity(valid_until: date, today: date) -> Validity:
    """The phrases of catalogue/_validity.html for a known end date, as blocktranslate would give them
    (translated message, values escaped), at a fraction of its cost: a page of cards shows many."""
    days = (valid_until - today).days
    until = _phrase(gettext("Valable jusqu'au %(date)s"), date=formats.date_format(valid_until, "j F Y"))
    if days > 0:
        left = _phrase(ngettext("%(days)s jour restant", "%(days)s jours restants", days), days=days)
    elif days == 0:
        left = mark_safe(gettext("dernier jour de validité"))
    else:
        left = _phrase(ngettext("échue depuis %(days)s jour", "échue depuis %(days)s jours", -days), days=-days)
    return Validity(until, left)


def _phrase(message: str, **values) -> SafeString:
    """A translated message with its values put in, escaped as {{ }} would escape them."""
    return mark_safe(message % {name: conditional_escape(formats.localize(value)) for name, value in values.items()})


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


# Markup rendered once and reused. A page of cards repeats the same few badges and eligibility lists:
# each distinct one is rendered once per page render. A search's facets are the same until the
# catalogue changes: each process keeps the markup of the latest ones. Either way the key holds
# everything the partial reads (and the language), so the output is the partial's, unchanged.


@register.simple_tag(takes_context=True)
def eligibility_icons(context, verdicts) -> str:
    """catalogue/_eligibility_list.html without reasons (one icon per sensitivity), for a card."""
    key = tuple((verdict.sensitivity, verdict.eligible) for verdict in verdicts)
    return _render_once(context, "catalogue/_eligibility_list.html", key, {"verdicts": verdicts})


@register.simple_tag(takes_context=True)
def qualification_badge(context, qualification) -> str:
    """catalogue/_qualification_badge.html without the validity line, for a card."""
    key = (qualification.status, qualification.milestone) if qualification else None
    return _render_once(context, "catalogue/_qualification_badge.html", key, {"qualification": qualification})


def _render_once(context, template_name: str, key, values: dict) -> str:
    """`template_name` rendered with `values`, once per `key` during the current page render
    (the render context's root lives as long as the page's render, in one language)."""
    rendered = context.render_context.dicts[0].setdefault(("catalogue_tags", template_name), {})
    if key not in rendered:
        rendered[key] = render_to_string(template_name, values)
    return rendered[key]


FACETS_TEMPLATE = "catalogue/_facets.html"


@register.simple_tag
def search_facets(facets) -> str:
    """catalogue/_facets.html for `facets` (catalogue.views.public.Facet: plain, hashable values).

    In development templates reload when edited: no reuse there.
    """
    if settings.DEBUG:
        return render_to_string(FACETS_TEMPLATE, {"facets": facets})
    return _facets_markup(get_language(), tuple(facets))


@lru_cache(maxsize=128)
def _facets_markup(language: str, facets: tuple) -> str:
    return render_to_string(FACETS_TEMPLATE, {"facets": facets})
