"""manage.py import_qualifications FILE.csv [--dry-run]: upsert ANSSI's list and print the report."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from catalogue.importer import (
    CREATED,
    REJECTED,
    UNCHANGED,
    UPDATED,
    ImportFileError,
    ImportReport,
    qualifications_import,
)


class Command(BaseCommand):
    help = _("Importe la liste ANSSI des services SecNumCloud (CSV) et affiche chaque ligne rejetée.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help=_("Fichier CSV au format de catalogue/data/secnumcloud_services.csv."))
        parser.add_argument("--dry-run", action="store_true",
                            help=_("Tout vérifier et rendre compte, sans rien enregistrer."))

    def handle(self, *args, file: str, dry_run: bool, **options) -> None:
        try:
            # utf-8-sig: a file saved by a spreadsheet starts with a byte-order mark.
            with open(file, encoding="utf-8-sig", newline="") as rows_file:
                report = qualifications_import(rows_file=rows_file, dry_run=dry_run)
        except OSError as error:
            raise CommandError(_("Lecture impossible de %(file)s : %(error)s") % {"file": file, "error": error}) \
                from error
        except ImportFileError as error:
            raise CommandError(_("Fichier refusé, rien n'a été importé : %(reason)s") % {"reason": error.message}) \
                from error
        write_report(self, report, verbose=options["verbosity"] > 1)


def write_report(command: BaseCommand, report: ImportReport, *, verbose: bool = False) -> None:
    """Print the counts, then a line per rejected row and per warning (every row when verbose)."""
    prefix = _("[simulation, rien n'est enregistré] ") if report.dry_run else ""
    command.stdout.write(
        prefix + _("Import : %(created)s créée(s), %(updated)s mise(s) à jour, %(unchanged)s inchangée(s), "
                   "%(rejected)s rejetée(s).")
        % {"created": report.created, "updated": report.updated, "unchanged": report.unchanged,
           "rejected": report.rejected}
    )
    outcomes = {CREATED: _("créée"), UPDATED: _("mise à jour"), UNCHANGED: _("inchangée")}
    for row in report.rows:
        if row.outcome == REJECTED:
            command.stdout.write(command.style.WARNING(
                _("ligne %(line)s rejetée (%(label)s) : %(reason)s")
                % {"line": row.line, "label": row.label or "?", "reason": row.detail}
            ))
        elif verbose:
            command.stdout.write(_("ligne %(line)s %(outcome)s (%(label)s) %(detail)s")
                                 % {"line": row.line, "outcome": outcomes[row.outcome], "label": row.label,
                                    "detail": row.detail})
    for line, warning in report.warnings:
        command.stdout.write(command.style.NOTICE(_("ligne %(line)s : %(warning)s") % {"line": line,
                                                                                       "warning": warning}))
