"""The "cloud au centre" doctrine: may this offer host this data on these dates?

A pure module: it reads plain facts (no database, no clock) and answers with a
verdict and the reasons in plain words. Everything else in Courtier (search
filters, the offer page, order submission and approval, the daily scan) asks
this module, so the rule exists once.

Sources: circulaire 6282/SG (5 July 2021) updated by 6404/SG (31 May 2023),
article 31 of the law of 21 May 2024; SecNumCloud 3.2 §19.2 and §19.6.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

# A SecNumCloud decision is valid at most three years.
QUALIFICATION_MAX_YEARS = 3

# SecNumCloud 3.2 §19.6 caps on capital and voting rights held outside the EU.
MAX_NON_EU_HOLDING_INDIVIDUAL = Decimal("24")
MAX_NON_EU_HOLDING_COLLECTIVE = Decimal("39")

# Member states of the European Union (ISO 3166-1 alpha-2).
EU_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)

NON_SENSITIVE = "non_sensitive"
SENSITIVE = "sensitive"
HEALTH = "health"
RESTRICTED = "restricted"

SENSITIVITIES = (NON_SENSITIVE, SENSITIVE, HEALTH, RESTRICTED)
SENSITIVITY_LABELS = {
    NON_SENSITIVE: _("Non sensibles"),
    SENSITIVE: _("Sensibles"),
    HEALTH: _("Données de santé"),
    RESTRICTED: _("Diffusion Restreinte"),
}

QUALIFIED = "qualified"
HDS = "hds"

# What a qualification's status is called on screen (the model's choices take these labels).
QUALIFICATION_STATUS_LABELS = {
    "in_progress": _("En cours de qualification"),
    QUALIFIED: _("Qualifiée"),
    "suspended": _("Suspendue"),
    "revoked": _("Retirée"),
    "expired": _("Expirée"),
}


def three_years_after(day: date) -> date:
    """The last day a decision taken on `day` may be valid (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + QUALIFICATION_MAX_YEARS)
    except ValueError:
        return day.replace(year=day.year + QUALIFICATION_MAX_YEARS, day=28)


@dataclass(frozen=True)
class ProviderFacts:
    """What §19.6 looks at: seat and non-EU holdings (percent, None when not declared)."""

    name: str
    seat_country: str
    largest_non_eu_holding: Decimal | None
    total_non_eu_holding: Decimal | None


@dataclass(frozen=True)
class QualificationFacts:
    """The current SecNumCloud qualification of an offer, if any."""

    status: str
    qualified_on: date | None
    valid_until: date | None


@dataclass(frozen=True)
class OfferFacts:
    """The facts the doctrine needs about one offer."""

    published: bool
    provider: ProviderFacts
    data_locations: tuple[str, ...]
    qualification: QualificationFacts | None = None
    certifications: dict[str, date | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The answer: eligible or not, why not, and whether continuity is at risk."""

    sensitivity: str
    eligible: bool
    reasons: tuple[str, ...] = ()
    continuity_risk: bool = False

    def as_dict(self) -> dict:
        return {
            "sensitivity": self.sensitivity,
            "eligible": self.eligible,
            "reasons": [str(r) for r in self.reasons],
            "continuity_risk": self.continuity_risk,
        }


def sovereignty_failures(provider: ProviderFacts) -> list[str]:
    """SecNumCloud 3.2 §19.6: one reason for each point the provider fails (empty when it passes)."""
    reasons: list[str] = []
    if provider.seat_country.upper() not in EU_COUNTRIES:
        reasons.append(
            _("Le siège de %(provider)s (%(country)s) n'est pas dans l'Union européenne (§19.6).")
            % {"provider": provider.name, "country": provider.seat_country.upper()}
        )
    if provider.largest_non_eu_holding is None or provider.total_non_eu_holding is None:
        reasons.append(
            _("La part du capital et des droits de vote détenue hors UE n'est pas déclarée (§19.6).")
        )
        return reasons
    if provider.largest_non_eu_holding > MAX_NON_EU_HOLDING_INDIVIDUAL:
        reasons.append(
            _("Un actionnaire hors UE détient %(share)s %% du capital ou des droits de vote, "
              "au-delà du plafond individuel de 24 %% (§19.6).")
            % {"share": provider.largest_non_eu_holding}
        )
    if provider.total_non_eu_holding > MAX_NON_EU_HOLDING_COLLECTIVE:
        reasons.append(
            _("Les actionnaires hors UE détiennent ensemble %(share)s %% du capital ou des droits "
              "de vote, au-delà du plafond collectif de 39 %% (§19.6).")
            % {"share": provider.total_non_eu_holding}
        )
    return reasons


def _qualification_failures(qualification: QualificationFacts | None, *, start: date,
                            today: date) -> list[str]:
    if qualification is None:
        return [_("L'offre n'a pas de qualification SecNumCloud.")]
    if qualification.status != QUALIFIED:
        return [_("La qualification SecNumCloud n'est pas en vigueur (statut : %(status)s).")
                % {"status": QUALIFICATION_STATUS_LABELS.get(qualification.status, qualification.status)}]
    if qualification.valid_until is None:
        return [_("La date de fin de validité de la qualification n'est pas connue : "
                  "elle doit être vérifiée auprès de l'ANSSI.")]
    reasons = []
    days = [(today, _("ce jour"))]
    if start != today:
        days.append((start, _("la date de début du service")))
    for day, label in days:
        if qualification.qualified_on and day < qualification.qualified_on:
            reasons.append(_("La qualification ne prend effet que le %(since)s, après %(label)s.")
                           % {"since": qualification.qualified_on.isoformat(), "label": label})
        elif day > qualification.valid_until:
            reasons.append(_("La qualification a expiré le %(until)s, avant %(label)s.")
                           % {"until": qualification.valid_until.isoformat(), "label": label})
    return reasons


def _location_failures(data_locations: tuple[str, ...]) -> list[str]:
    if not data_locations:
        return [_("Les lieux d'hébergement des données ne sont pas déclarés (§19.2).")]
    outside = sorted(c.upper() for c in data_locations if c.upper() not in EU_COUNTRIES)
    if outside:
        return [_("Des données sont hébergées hors de l'Union européenne : %(countries)s (§19.2).")
                % {"countries": ", ".join(outside)}]
    return []


def _hds_failures(certifications: dict[str, date | None], *, start: date, today: date) -> list[str]:
    if HDS not in certifications:
        return [_("L'offre n'est pas certifiée HDS (hébergeur de données de santé).")]
    valid_until = certifications[HDS]
    if valid_until is not None and valid_until < max(start, today):
        return [_("La certification HDS a expiré le %(until)s.") % {"until": valid_until.isoformat()}]
    return []


def assess(offer: OfferFacts, sensitivity: str, *, start: date, today: date,
           end: date | None = None) -> Verdict:
    """Decide whether `offer` may host data of `sensitivity` for a service starting on `start`.

    `today` is the day of the check; `end`, when known, the last day of the
    service: a qualification ending before it is a continuity risk, not a refusal.
    """
    if sensitivity not in SENSITIVITIES:
        raise ValueError(f"unknown sensitivity {sensitivity!r}")
    if sensitivity == RESTRICTED:
        return Verdict(sensitivity, False, (
            _("Les données Diffusion Restreinte ne peuvent aller sur aucune offre commerciale : "
              "seul un cloud interne de l'État (Pi) peut les héberger."),
        ))
    reasons: list[str] = []
    if not offer.published:
        reasons.append(_("L'offre n'est pas publiée au catalogue."))
    if sensitivity in (SENSITIVE, HEALTH):
        reasons += _qualification_failures(offer.qualification, start=start, today=today)
        reasons += sovereignty_failures(offer.provider)
        reasons += _location_failures(offer.data_locations)
    if sensitivity == HEALTH:
        reasons += _hds_failures(offer.certifications, start=start, today=today)
    continuity_risk = bool(
        not reasons
        and sensitivity in (SENSITIVE, HEALTH)
        and end is not None
        and offer.qualification is not None
        and offer.qualification.valid_until is not None
        and offer.qualification.valid_until < end
    )
    return Verdict(sensitivity, not reasons, tuple(reasons), continuity_risk)


def assess_all(offer: OfferFacts, *, start: date, today: date) -> list[Verdict]:
    """The verdict for every sensitivity, in the doctrine's order."""
    return [assess(offer, s, start=start, today=today) for s in SENSITIVITIES]
