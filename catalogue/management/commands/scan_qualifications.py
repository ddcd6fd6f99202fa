"""manage.py scan_qualifications [--today YYYY-MM-DD] [--dry-run]: the daily qualification job, by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandParser

from broker.commands import iso_date
from catalogue import lifecycle
from catalogue.selectors import today_local

# Expired offers named one by one in the report; beyond that, a count.
LISTED_EXPIRIES = 20


class Command(BaseCommand):
    help = ("Expire les qualifications SecNumCloud échues, lève les alertes à 180, 90, 30 et 7 jours, "
            "signale les commandes en risque de continuité et prévient les personnes concernées.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Jour du traitement (AAAA-MM-JJ) ; par défaut, aujourd'hui à Paris.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Affiche ce qui serait fait sans rien enregistrer ni envoyer.")

    def handle(self, *args, today: str | None = None, dry_run: bool = False, **options) -> None:
        day = iso_date(today) if today else today_local()
        report = lifecycle.scan_qualifications(today=day, dry_run=dry_run)
        write = self.stdout.write
        if dry_run:
            write(self.style.WARNING(f"Simulation du {day.isoformat()} : rien n'est enregistré ni envoyé."))
        else:
            write(f"Traitement du {day.isoformat()}")
        write(f"Qualifications expirées : {len(report.expired)}")
        for label in report.expired[:LISTED_EXPIRIES]:
            write(f"  - {label}")
        if len(report.expired) > LISTED_EXPIRIES:
            write(f"  … et {len(report.expired) - LISTED_EXPIRIES} autres")
        alerts = ", ".join(f"J-{threshold} : {count}" for threshold, count in report.alerts.items())
        write(f"Alertes levées : {report.alerts_raised} ({alerts})")
        if report.alerts_passed:
            write(f"Seuils déjà dépassés, enregistrés sans message : {report.alerts_passed}")
        write(f"Commandes signalées en risque de continuité : {report.orders_flagged} "
              f"(levées : {report.orders_cleared} ; prévenues : {report.orders_notified})")
        write(f"Notifications : {report.notifications}")
        write(f"Courriels à envoyer (file d'envoi) : {report.emails_queued}")
