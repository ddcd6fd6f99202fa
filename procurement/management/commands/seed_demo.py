"""manage.py seed_demo: idempotent demo data (see procurement/demo.py), then a summary with the logins."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from broker.commands import iso_date
from catalogue.management.commands.import_qualifications import write_report
from catalogue.models import Offer, Provider, Qualification
from catalogue.selectors import today_local
from procurement import demo
from procurement.models import FrameworkContract, Lot, Organisation, Referencing


class Command(BaseCommand):
    help = _("Crée ou complète les données de démonstration ; sans effet si elles sont déjà là.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help=_("Jour de référence des commandes de démonstration (AAAA-MM-JJ) ; "
                                              "par défaut, aujourd'hui à Paris."))

    def handle(self, *args, today: str | None = None, **options) -> None:
        day = iso_date(today) if today else today_local()
        with transaction.atomic():
            demo.seed_site_config()
            catalogue = demo.seed_catalogue()
            demo.seed_organisations()
            framework = demo.seed_framework()
            users = demo.seed_users(password=settings.DEMO_PASSWORD)

        write_report(self, catalogue.report)
        self.stdout.write(_(
            "Catalogue : %(providers)s fournisseurs, %(offers)s offres, %(qualifications)s qualifications en vigueur "
            "(%(enriched)s offres complétées par cette exécution)."
        ) % {"providers": Provider.objects.count(), "offers": Offer.objects.count(),
             "qualifications": Qualification.objects.filter(is_current=True).count(),
             "enriched": catalogue.offers_enriched})
        self.stdout.write(_(
            "Achats : %(organisations)s administrations, %(frameworks)s accord(s)-cadre(s) dont %(reference)s "
            "(%(lots)s lots, %(referencings)s offres référencées). Prix et montants de démonstration."
        ) % {"organisations": Organisation.objects.count(), "frameworks": FrameworkContract.objects.count(),
             "reference": framework.reference, "lots": Lot.objects.filter(framework=framework).count(),
             "referencings": Referencing.objects.filter(lot__framework=framework).count()})

        orders = demo.seed_orders(today=day)
        self.stdout.write(_("Commandes de démonstration : %(count)s (%(created)s créées par cette exécution).")
                          % {"count": len(orders.orders), "created": orders.created})
        for key, message in orders.skipped:
            self.stdout.write(self.style.WARNING(_("Commande de démonstration « %(key)s » non créée : %(message)s")
                                                 % {"key": key, "message": message}))

        # The logins last, so that they are what the person reads when the command ends.
        self.stdout.write(self.style.SUCCESS(_("Identifiants de démonstration :")))
        for values in demo.USERS:
            where = values.get("organisation") or values.get("provider") or _("équipe d'administration (/admin/)")
            self.stdout.write(f"  {values['username']:<22} {values['role']:<18} {where}")
        if settings.DEMO_PASSWORD:
            self.stdout.write(_("Mot de passe : la valeur de DEMO_PASSWORD."))
        if users.generated_password:
            self.stdout.write(self.style.WARNING(
                _("Mot de passe généré pour %(users)s (affiché une seule fois) : %(password)s")
                % {"users": ", ".join(users.created), "password": users.generated_password}))
        if users.kept:
            self.stdout.write(_("Mots de passe conservés (DEMO_PASSWORD absent) pour : %(users)s.")
                              % {"users": ", ".join(users.kept)})

