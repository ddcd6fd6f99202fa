"""Import ANSSI's list of SecNumCloud services into the catalogue (upsert, with a report).

The file has the columns of `catalogue/data/secnumcloud_services.csv`:
provider, provider_country, service, service_model, status, qualified_on,
valid_until, anssi_decision, note. For each row the import finds or creates the
provider and the offer, then brings the offer's current qualification in line
with the list through `catalogue.services` (the only writer of qualifications),
so every change has an author, a reason and a history row.

Safety:
- the whole file is read and its columns checked before anything is written:
  a file that cannot be read as this CSV is refused and writes nothing;
- each row runs in its own savepoint: a rejected row leaves no trace and does
  not stop the others;
- empty cells mean "unknown in the list", never "erase": the import only sets
  what the list states, and only when it differs, so a second run of the same
  file changes nothing and records no event.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from broker import roles
from broker.errors import RuleViolation
from catalogue import doctrine
from catalogue.countries import COUNTRY_CODES
from catalogue.models import Offer, OfferState, Provider, Qualification, QualificationStatus, ServiceModel
from catalogue.models.qualification import validate_dates
from catalogue.search import normalize
from catalogue.services import ensure_qualifier, qualification_renew, qualification_update

COLUMNS = ("provider", "provider_country", "service", "service_model", "status", "qualified_on", "valid_until",
           "anssi_decision", "note")

# The statuses of ANSSI's list (not Courtier's: the list has no suspended, revoked or expired).
LISTED_QUALIFIED = "qualified"
LISTED_IN_PROGRESS = "in_progress"
LISTED_NOT_QUALIFIED = "not_qualified"
LISTED_STATUSES = (LISTED_QUALIFIED, LISTED_IN_PROGRESS, LISTED_NOT_QUALIFIED)

# Courtier statuses that only a qualifier sets and that the list cannot express.
QUALIFIER_ONLY_STATUSES = (QualificationStatus.SUSPENDED, QualificationStatus.REVOKED, QualificationStatus.EXPIRED)
# Statuses of a decision that has ended for good.
ENDED_STATUSES = (QualificationStatus.REVOKED, QualificationStatus.EXPIRED)

# The account imports run as when no person does (the command, seed_demo).
IMPORT_ACCOUNT = "import-anssi"

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Milestones named in a note ("J0 on 2025-04-17 and J1 on 2025-11-17"). J3, the final
# decision, is not a milestone of an ongoing evaluation: the status says it.
_MILESTONE = re.compile(r"\bJ([0-2])\b")
_SERVICE_MODELS = {model.value.lower(): model.value for model in ServiceModel}

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
REJECTED = "rejected"


class ImportFileError(RuleViolation):
    """The file itself is unusable (unreadable, wrong columns): nothing was imported."""

    def __init__(self, message: str) -> None:
        super().__init__("import_file_invalid", message)


class RowRejected(Exception):
    """One row cannot be imported; the message says why."""


@dataclass(frozen=True)
class RowResult:
    line: int
    outcome: str
    label: str
    detail: str = ""
    warnings: tuple[str, ...] = ()


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)
    dry_run: bool = False

    def _count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def created(self) -> int:
        return self._count(CREATED)

    @property
    def updated(self) -> int:
        return self._count(UPDATED)

    @property
    def unchanged(self) -> int:
        return self._count(UNCHANGED)

    @property
    def rejected(self) -> int:
        return self._count(REJECTED)

    @property
    def rejections(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == REJECTED]

    @property
    def warnings(self) -> list[tuple[int, str]]:
        return [(row.line, warning) for row in self.rows for warning in row.warnings]


@dataclass(frozen=True)
class ListedService:
    """One valid row of the list."""

    line: int
    provider: str
    provider_country: str
    service: str
    service_model: str
    status: str
    qualified_on: date | None
    valid_until: date | None
    decision_number: str
    milestone: str
    capped_from: date | None = None


def import_account() -> User:
    """The system account that imports act as when no person does.

    A real qualifier account rather than a flag that would skip the permission
    check in the services: the rule "only qualifiers change qualifications"
    stays the only rule, and the history names the import as the author. It
    cannot sign in: it is inactive (session and token authentication both
    refuse inactive users) and has no usable password.
    """
    groups = roles.ensure_role_groups()
    user, created = User.objects.get_or_create(
        username=IMPORT_ACCOUNT,
        defaults={"is_active": False, "first_name": "Import", "last_name": "liste ANSSI"},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(groups[roles.QUALIFIER])
    return user


def qualifications_import(*, rows_file: TextIO, user=None, dry_run: bool = False,
                          cap_validity: bool = False) -> ImportReport:
    """Upsert providers, offers and current qualifications from ANSSI's list; report every row.

    Runs as `user` (who must be a qualifier) or, when None, as the import account.
    Raises ImportFileError, having written nothing, when the file is unusable.
    With `dry_run`, everything is checked and reported, then rolled back.
    `cap_validity` is for demo data only (seed_demo): a validity beyond three
    years is cut to three years, said in the report and in the history, instead
    of rejecting the row. The import of a real list never guesses.
    """
    lines = _read_file(rows_file)
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        actor = user if user is not None else import_account()
        ensure_qualifier(actor)
        seen: dict[tuple[str, str], int] = {}
        for line, cells in lines:
            report.rows.append(_import_line(line, cells, user=actor, seen=seen, cap_validity=cap_validity))
        if dry_run:
            transaction.set_rollback(True)
    return report


def _read_file(rows_file: TextIO) -> list[tuple[int, dict[str, str] | None]]:
    """Every data row with its line number (None for a row with the wrong number of cells)."""
    try:
        reader = csv.reader(rows_file)
        header = next(reader, None)
        if header is None:
            raise ImportFileError(_("Le fichier est vide."))
        columns = [name.strip().lstrip("\ufeff").lower() for name in header]
        _check_columns(columns)
        rows: list[tuple[int, dict[str, str] | None]] = []
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, dict(zip(columns, (c.strip() for c in cells), strict=True))
                             if len(cells) == len(columns) else None))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ImportFileError(_("Le fichier n'est pas un CSV lisible (ligne %(line)s) : %(error)s.")
                              % {"line": reader.line_num, "error": error}) from error
    except UnicodeDecodeError as error:
        raise ImportFileError(_("Le fichier n'est pas encodé en UTF-8.")) from error
    return rows


def _check_columns(columns: list[str]) -> None:
    problems = []
    doubled = sorted({name for name in columns if columns.count(name) > 1})
    missing = [name for name in COLUMNS if name not in columns]
    unknown = [name for name in columns if name not in COLUMNS]
    if doubled:
        problems.append(_("colonnes en double : %(names)s") % {"names": ", ".join(doubled)})
    if missing:
        problems.append(_("colonnes manquantes : %(names)s") % {"names": ", ".join(missing)})
    if unknown:
        problems.append(_("colonnes inconnues : %(names)s") % {"names": ", ".join(unknown)})
    if problems:
        raise ImportFileError(
            _("Les colonnes du fichier ne sont pas celles de la liste ANSSI (%(problems)s). Attendu : %(expected)s.")
            % {"problems": " ; ".join(problems), "expected": ",".join(COLUMNS)}
        )


def _import_line(line: int, cells: dict[str, str] | None, *, user, seen: dict[tuple[str, str], int],
                 cap_validity: bool) -> RowResult:
    if cells is None:
        return RowResult(line, REJECTED, "", _("La ligne ne compte pas %(count)s colonnes.") % {"count": len(COLUMNS)})
    label = " — ".join(part for part in (cells["provider"], cells["service"]) if part)
    try:
        key = (normalize(cells["provider"]), normalize(cells["service"]))
        if all(key) and key in seen:
            raise RowRejected(_("Doublon de la ligne %(line)s (même fournisseur et même service).")
                              % {"line": seen[key]})
        seen.setdefault(key, line)
        listed = _parse(line, cells, cap_validity=cap_validity)
        warnings: list[str] = []
        with transaction.atomic():
            outcome, detail = _apply(listed, user=user, warnings=warnings)
    except RowRejected as rejection:
        return RowResult(line, REJECTED, label, str(rejection))
    except RuleViolation as refusal:
        return RowResult(line, REJECTED, label, " ".join([refusal.message, *refusal.reasons]))
    except ValidationError as error:
        return RowResult(line, REJECTED, label, " ".join(error.messages))
    return RowResult(line, outcome, label, detail, tuple(warnings))


def _parse(line: int, cells: dict[str, str], *, cap_validity: bool = False) -> ListedService:
    """Check one row; every problem is named, then the row is rejected."""
    problems = []
    for column in ("provider", "service"):
        if not cells[column]:
            problems.append(_("la colonne « %(column)s » est vide") % {"column": column})
        elif len(cells[column]) > 200:
            problems.append(_("la colonne « %(column)s » dépasse 200 caractères") % {"column": column})
    country = cells["provider_country"].upper()
    if country not in COUNTRY_CODES:
        problems.append(_("code pays inconnu « %(value)s » dans « provider_country »")
                        % {"value": cells["provider_country"]})
    service_model = _SERVICE_MODELS.get(cells["service_model"].lower())
    if service_model is None:
        problems.append(_("modèle de service inconnu « %(value)s » (attendu : IaaS, PaaS, CaaS ou SaaS)")
                        % {"value": cells["service_model"]})
    status = cells["status"].lower()
    if status not in LISTED_STATUSES:
        problems.append(_("statut inconnu « %(value)s » (attendu : %(statuses)s)")
                        % {"value": cells["status"], "statuses": ", ".join(LISTED_STATUSES)})
    dates = {}
    for column in ("qualified_on", "valid_until"):
        try:
            dates[column] = _parse_date(cells[column])
        except ValueError:
            problems.append(_("date invalide « %(value)s » dans « %(column)s » (format attendu : AAAA-MM-JJ)")
                            % {"value": cells[column], "column": column})
    capped_from = None
    if not problems and cap_validity and dates["qualified_on"] and dates["valid_until"] \
            and dates["valid_until"] > doctrine.three_years_after(dates["qualified_on"]):
        capped_from, dates["valid_until"] = dates["valid_until"], doctrine.three_years_after(dates["qualified_on"])
    if not problems:
        problems.extend(str(message) for message in validate_dates(**dates).values())
    decision_number = cells["anssi_decision"]
    if len(decision_number) > 40:
        problems.append(_("numéro de décision trop long (40 caractères au plus)"))
    if status == LISTED_NOT_QUALIFIED and (decision_number or any(dates.values())):
        problems.append(_("une offre non qualifiée ne porte ni date ni numéro de décision"))
    if problems:
        raise RowRejected(_("Ligne rejetée : %(problems)s.") % {"problems": " ; ".join(problems)})
    milestones = _MILESTONE.findall(cells["note"]) if status == LISTED_IN_PROGRESS else []
    return ListedService(
        line=line, provider=cells["provider"], provider_country=country, service=cells["service"],
        service_model=service_model, status=status, decision_number=decision_number,
        milestone=f"J{max(milestones)}" if milestones else "", capped_from=capped_from, **dates,
    )


def _parse_date(value: str) -> date | None:
    if not value:
        return None
    if not _ISO_DATE.match(value):
        raise ValueError(value)
    return date.fromisoformat(value)


def _apply(listed: ListedService, *, user, warnings: list[str]) -> tuple[str, str]:
    """Write one row; returns the outcome and what happened. Runs inside the row's savepoint."""
    provider, provider_created = _provider_for(listed, warnings)
    offer, offer_created = _offer_for(listed, provider, warnings)
    created = provider_created or offer_created
    current = offer.qualifications.filter(is_current=True).first()
    reason = _("Import de la liste ANSSI (ligne %(line)s)") % {"line": listed.line}
    if listed.capped_from:
        capped = _("fin de validité ramenée du %(listed)s au %(capped)s (trois ans au plus)") % {
            "listed": listed.capped_from.isoformat(), "capped": listed.valid_until.isoformat()}
        warnings.append(capped)
        reason = f"{reason} ; {capped}"

    if listed.status == LISTED_NOT_QUALIFIED:
        # The list only says the offer is not on it. If Courtier holds a live decision
        # (qualified, in progress, suspended), that is either a stale list or a
        # revocation, a suspension or an expiry that ANSSI has not recorded here yet:
        # which one matters to every buyer, so a qualifier decides; the import neither
        # deletes history nor guesses a status. An ended decision agrees with the list.
        if current is not None and current.status not in ENDED_STATUSES:
            raise RowRejected(
                _("La liste indique « non qualifiée » mais Courtier détient la décision %(decision)s "
                  "(%(status)s) : à faire trancher par un agent de l'ANSSI.")
                % {"decision": _decision_label(current), "status": current.get_status_display()}
            )
        return (CREATED, _("offre créée")) if created else (UNCHANGED, "")

    values = _listed_values(listed)
    if current is None:
        qualification_renew(offer=offer, user=user, values=values, reason=reason)
        return CREATED, _("qualification créée")
    if _is_new_decision(current, listed):
        qualification_renew(offer=offer, user=user, values=values, reason=reason)
        return UPDATED, _("nouvelle décision n° %(new)s (remplace %(old)s)") % {
            "new": listed.decision_number, "old": _decision_label(current)}
    changes = {name: value for name, value in values.items() if getattr(current, name) != value}
    if not changes:
        return (CREATED, _("offre créée")) if created else (UNCHANGED, "")
    if current.status in QUALIFIER_ONLY_STATUSES and "status" in changes:
        # A suspension, revocation or expiry is a qualifier's act that the public list
        # cannot express; a list that still shows the offer must not undo it.
        raise RowRejected(
            _("La liste indique « %(listed)s » mais Courtier détient la décision %(decision)s au statut "
              "« %(status)s » : seul un agent de l'ANSSI peut changer ce statut.")
            % {"listed": QualificationStatus(values["status"]).label, "decision": _decision_label(current),
               "status": current.get_status_display()}
        )
    qualification_update(qualification=current, user=user, values=changes, reason=reason)
    return UPDATED, _("modifié : %(fields)s") % {"fields": ", ".join(sorted(changes))}


def _listed_values(listed: ListedService) -> dict:
    """What the list states about the decision; empty cells are unknown, so left out."""
    values: dict = {"status": QualificationStatus.QUALIFIED if listed.status == LISTED_QUALIFIED
                    else QualificationStatus.IN_PROGRESS}
    if listed.qualified_on:
        values["qualified_on"] = listed.qualified_on
    if listed.valid_until:
        values["valid_until"] = listed.valid_until
    if listed.decision_number:
        values["decision_number"] = listed.decision_number
    if listed.milestone:
        values["milestone"] = listed.milestone
    return values


def _is_new_decision(current: Qualification, listed: ListedService) -> bool:
    """Does the row carry a decision other than the current one (a renewal)?

    Two different numbers are two decisions. A number for a decision we hold
    without one is the same decision made known (an evaluation in progress
    concluding, or a number missing from an earlier list), unless ours has ended
    for good: an expired or revoked decision never comes back, so a listed one is new.
    """
    if not listed.decision_number or listed.decision_number == current.decision_number:
        return False
    return bool(current.decision_number) or current.status in ENDED_STATUSES


def _decision_label(qualification: Qualification) -> str:
    if qualification.decision_number:
        return _("n° %(number)s") % {"number": qualification.decision_number}
    return _("sans numéro")


def _provider_for(listed: ListedService, warnings: list[str]) -> tuple[Provider, bool]:
    provider = Provider.objects.filter(name__iexact=listed.provider).order_by("pk").first()
    if provider is None:
        provider = Provider.objects.create(name=listed.provider, slug=_free_slug(Provider, listed.provider),
                                           seat_country=listed.provider_country)
        return provider, True
    if provider.seat_country != listed.provider_country:
        # The seat decides the §19.6 check; catalogue managers keep providers, so we report.
        warnings.append(_("pays du siège « %(listed)s » dans la liste, « %(held)s » dans Courtier : conservé")
                        % {"listed": listed.provider_country, "held": provider.seat_country})
    return provider, False


def _offer_for(listed: ListedService, provider: Provider, warnings: list[str]) -> tuple[Offer, bool]:
    offer = provider.offers.filter(name__iexact=listed.service).order_by("pk").first()
    if offer is None:
        # ANSSI's list is public: an offer it names is published at once, so that
        # buyers see it; the vendor completes the description afterwards.
        offer = Offer.objects.create(
            provider=provider, name=listed.service, service_model=listed.service_model,
            slug=_free_slug(Offer, _offer_slug_text(provider.name, listed.service)),
            state=OfferState.PUBLISHED, published_at=timezone.now(),
        )
        return offer, True
    if offer.service_model != listed.service_model:
        warnings.append(_("modèle « %(listed)s » dans la liste, « %(held)s » dans Courtier : conservé")
                        % {"listed": listed.service_model, "held": offer.service_model})
    return offer, False


def _offer_slug_text(provider: str, service: str) -> str:
    """The provider's name then the service's ("ovhcloud-bare-metal-pod"), once ("oodrive-meet")."""
    return service if slugify(service).startswith(slugify(provider)) else f"{provider} {service}"


def _free_slug(model: type[Model], text: str) -> str:
    """slugify(text), with -2, -3... when taken."""
    max_length = model._meta.get_field("slug").max_length
    base = slugify(text)[: max_length - 4].strip("-") or model._meta.model_name
    slug, suffix = base, 2
    while model.objects.filter(slug=slug).exists():
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug
