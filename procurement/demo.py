"""Demo data for Courtier: the reference catalogue, administrations, a framework and one user per role.

Each `seed_*` function is idempotent: it creates what is missing and fills
fields that are still empty, never overwrites what someone changed since (the
web container may seed at every start), and a second run changes nothing. The
`seed_demo` command calls them in order.

The catalogue comes from `catalogue/data/secnumcloud_services.csv` (the facts
of ANSSI's list as of September 2026), imported through the same service as
`import_qualifications`. Everything else here is demo data: descriptions,
prices, certification dates and holdings are plausible values for a
demonstration, not statements about the companies.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from dsfr.models import DsfrConfig

from broker import roles
from broker.errors import RuleViolation
from catalogue import doctrine
from catalogue.importer import ImportReport, qualifications_import
from catalogue.models import Certification, CertificationKind, Offer, OfferLocation, Provider
from procurement.models import (
    FrameworkContract,
    Lot,
    Order,
    OrderEvent,
    OrderStatus,
    Organisation,
    OrganisationKind,
    Referencing,
    UserProfile,
)
from procurement.services import orders as order_services
from procurement.services.frameworks import refresh_commitments

# --- Catalogue -------------------------------------------------------------

# A SecNumCloud 3.2 qualification implies compliance with §19.6 (at most 24 % of
# capital and voting rights held outside the EU individually, 39 % collectively).
# The exact figures are not public: 0 % is a demo declaration for the French
# providers of the list. The US generic clouds are wholly held outside the EU.
FRENCH_HOLDINGS = {"largest_non_eu_holding": Decimal("0"), "total_non_eu_holding": Decimal("0")}
US_HOLDINGS = {"largest_non_eu_holding": Decimal("100"), "total_non_eu_holding": Decimal("100")}
FRENCH_LOCATIONS = {"data_locations": ["FR"], "support_locations": ["FR"]}

# Legal names only where they are well known; the others stay empty.
PROVIDERS: dict[str, dict] = {
    "3DS Outscale": {"legal_name": "3DS Outscale SAS", "website": "https://www.outscale.com",
                     **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "OVHcloud": {"legal_name": "OVH SAS", "website": "https://www.ovhcloud.com", **FRENCH_HOLDINGS,
                 **FRENCH_LOCATIONS},
    "Cegedim": {"legal_name": "Cegedim SA", "website": "https://www.cegedim.cloud", **FRENCH_HOLDINGS,
                **FRENCH_LOCATIONS},
    "Cloud Temple": {"website": "https://www.cloud-temple.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Numspot": {"website": "https://numspot.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Orange Business": {"website": "https://www.orange-business.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "S3NS (Thales)": {"website": "https://www.s3ns.io", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Worldline": {"legal_name": "Worldline SA", "website": "https://worldline.com", **FRENCH_HOLDINGS,
                  **FRENCH_LOCATIONS},
    "Oodrive": {"website": "https://www.oodrive.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Whaller": {"website": "https://whaller.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Cloud Solutions": {"website": "https://www.wimi-teamwork.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Index Education": {"website": "https://www.index-education.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Bleu": {"website": "https://www.bleucloud.fr", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Scaleway": {"legal_name": "Scaleway SAS", "website": "https://www.scaleway.com", **FRENCH_HOLDINGS,
                 **FRENCH_LOCATIONS},
    "ITS Integra": {"website": "https://www.itsintegra.com", **FRENCH_HOLDINGS, **FRENCH_LOCATIONS},
    "Scalingo": {"legal_name": "Scalingo SAS", "website": "https://scalingo.com", **FRENCH_HOLDINGS,
                 **FRENCH_LOCATIONS},
    "Amazon Web Services": {"legal_name": "Amazon Web Services, Inc.", "website": "https://aws.amazon.com",
                            "data_locations": ["FR", "IE", "DE"], "support_locations": ["IE", "US"],
                            **US_HOLDINGS},
    "Microsoft": {"legal_name": "Microsoft Corporation", "website": "https://azure.microsoft.com",
                  "data_locations": ["FR", "NL", "IE"], "support_locations": ["IE", "US"], **US_HOLDINGS},
    "Google": {"legal_name": "Google LLC", "website": "https://cloud.google.com",
               "data_locations": ["FR", "NL", "BE"], "support_locations": ["IE", "US"], **US_HOLDINGS},
}

DEMO_PRICE_NOTE = "Tarif indicatif de démonstration."
HDS, ISO, C5 = CertificationKind.HDS, CertificationKind.ISO_27001, CertificationKind.BSI_C5_TYPE2


@dataclass(frozen=True)
class DemoOffer:
    category: str
    description: str
    list_price: Decimal
    price_unit: str
    certifications: tuple[str, ...] = (ISO,)
    # For the US generic clouds: the country of the EU region the offer names.
    locations: tuple[str, ...] = ("FR",)


PER_VCPU = "par vCPU et par mois"
PER_USER = "par utilisateur et par mois"

# Keyed by (provider, service) as in the reference list. Prices are demo values.
OFFERS: dict[tuple[str, str], DemoOffer] = {
    ("3DS Outscale", "IaaS Cloud on Demand"): DemoOffer(
        "Calcul et stockage",
        "Infrastructure cloud sécurisée qualifiée SecNumCloud : machines virtuelles, stockage objet et réseaux "
        "privés à la demande, hébergés en France et opérés par des équipes françaises.",
        Decimal("38.00"), PER_VCPU, (HDS, ISO)),
    ("OVHcloud", "Hosted Private Cloud (VMware)"): DemoOffer(
        "Cloud privé",
        "Cloud privé VMware dédié et sécurisé, qualifié SecNumCloud, dans les centres de données français "
        "d'OVHcloud : migration des charges existantes sans les réécrire.",
        Decimal("1450.00"), "par hôte et par mois", (HDS, ISO)),
    ("OVHcloud", "Bare Metal Pod"): DemoOffer(
        "Serveurs dédiés",
        "Grappes de serveurs physiques dédiés, isolées et qualifiées SecNumCloud, pour les traitements "
        "lourds et les plateformes souveraines à grande échelle.",
        Decimal("690.00"), "par serveur et par mois", (HDS, ISO)),
    ("OVHcloud", "SNC Cloud Platform"): DemoOffer(
        "Cloud public",
        "Plateforme de cloud public qualifiée SecNumCloud : instances, stockage bloc et objet, réseau privé "
        "et Kubernetes managé, hébergés et administrés en France.",
        Decimal("32.00"), PER_VCPU, (HDS, ISO)),
    ("Cegedim", "CegNumCloud Secured IaaS"): DemoOffer(
        "Calcul et stockage",
        "Infrastructure sécurisée qualifiée SecNumCloud et certifiée HDS, conçue pour les données de santé "
        "et les applications sensibles des établissements publics.",
        Decimal("41.00"), PER_VCPU, (HDS, ISO)),
    ("Cloud Temple", "PaaS OpenShift"): DemoOffer(
        "Conteneurs",
        "Plateforme de conteneurs Red Hat OpenShift managée, qualifiée SecNumCloud : déploiement continu, "
        "registre d'images et supervision, dans un environnement sécurisé.",
        Decimal("520.00"), "par nœud de calcul et par mois", (HDS, ISO)),
    ("Cloud Temple", "IaaS Secure Temple"): DemoOffer(
        "Calcul et stockage",
        "Infrastructure virtualisée sécurisée qualifiée SecNumCloud, avec sauvegarde et plan de reprise "
        "d'activité entre deux centres de données en France.",
        Decimal("45.00"), PER_VCPU, (HDS, ISO)),
    ("Numspot", "Plateforme des services cloud"): DemoOffer(
        "Cloud public",
        "Cloud de confiance qualifié SecNumCloud : calcul, stockage et services managés pour les "
        "administrations et les opérateurs d'importance vitale.",
        Decimal("36.00"), PER_VCPU, (HDS, ISO)),
    ("Orange Business", "Cloud Avenue SecNum"): DemoOffer(
        "Cloud privé",
        "Infrastructure VMware qualifiée SecNumCloud opérée par Orange Business, avec connectivité privée "
        "vers les réseaux de l'État.",
        Decimal("44.00"), PER_VCPU),
    ("S3NS (Thales)", "PREMI3NS - cloud de confiance S3NS"): DemoOffer(
        "Plateforme cloud",
        "Services de la technologie Google Cloud opérés par S3NS, filiale de Thales, dans un environnement "
        "qualifié SecNumCloud, isolé et sécurisé.",
        Decimal("40.00"), PER_VCPU),
    ("Worldline", "Cloud Services - Secured IaaS"): DemoOffer(
        "Calcul et stockage",
        "Infrastructure sécurisée qualifiée SecNumCloud, issue des plateformes de paiement de Worldline, "
        "pour les applications critiques à haute disponibilité.",
        Decimal("48.00"), PER_VCPU),
    ("Oodrive", "Oodrive Meet"): DemoOffer(
        "Visioconférence",
        "Visioconférence qualifiée SecNumCloud pour les réunions sensibles : chiffrement, salles d'attente "
        "et comptes invités maîtrisés.",
        Decimal("9.50"), PER_USER),
    ("Oodrive", "Oodrive Work"): DemoOffer(
        "Collaboration",
        "Suite collaborative qualifiée SecNumCloud : partage de documents, coédition et signature "
        "électronique dans un espace sécurisé.",
        Decimal("12.00"), PER_USER),
    ("Oodrive", "Oodrive Work Share"): DemoOffer(
        "Partage de fichiers",
        "Partage et synchronisation de fichiers qualifiés SecNumCloud, avec traçabilité des accès et "
        "liens de partage à durée limitée.",
        Decimal("8.00"), PER_USER),
    ("Whaller", "Whaller"): DemoOffer(
        "Collaboration",
        "Réseau social d'organisation et plateforme de communication interne qualifiés SecNumCloud, "
        "organisés en sphères étanches.",
        Decimal("5.00"), PER_USER),
    ("Cloud Solutions", "Wimi"): DemoOffer(
        "Collaboration",
        "Espace de travail collaboratif qualifié SecNumCloud : projets, agendas, documents et messagerie "
        "d'équipe.",
        Decimal("7.00"), PER_USER),
    ("Index Education", "Index Education cloud"): DemoOffer(
        "Vie scolaire",
        "Hébergement qualifié SecNumCloud des logiciels de vie scolaire et d'emploi du temps des "
        "établissements d'enseignement.",
        Decimal("1200.00"), "par établissement et par an"),
    ("Bleu", "Bleu (Microsoft Azure and 365 operated by Orange and Capgemini)"): DemoOffer(
        "Plateforme cloud",
        "Services Microsoft Azure et Microsoft 365 opérés en France par Bleu, coentreprise d'Orange et de "
        "Capgemini, en cours de qualification SecNumCloud.",
        Decimal("42.00"), PER_VCPU),
    ("Scaleway", "Scaleway SecNumCloud offer"): DemoOffer(
        "Cloud public",
        "Instances et stockage de Scaleway dans une région dédiée, en cours de qualification SecNumCloud.",
        Decimal("30.00"), PER_VCPU),
    ("ITS Integra", "ITS Integra cloud"): DemoOffer(
        "Infogérance",
        "Hébergement infogéré et sécurisé d'applications métier, en cours de qualification SecNumCloud.",
        Decimal("43.00"), PER_VCPU),
    ("Amazon Web Services", "AWS public cloud (Paris region)"): DemoOffer(
        "Cloud public",
        "Cloud public généraliste d'Amazon Web Services, région de Paris (eu-west-3). Non qualifié "
        "SecNumCloud : réservé aux données non sensibles.",
        Decimal("24.00"), PER_VCPU, (HDS, ISO, C5)),
    ("Microsoft", "Microsoft Azure (France Central)"): DemoOffer(
        "Cloud public",
        "Cloud public généraliste Microsoft Azure, région France Centre. Non qualifié SecNumCloud : réservé "
        "aux données non sensibles.",
        Decimal("26.00"), PER_VCPU, (HDS, ISO, C5)),
    ("Google", "Google Cloud Platform (europe-west9)"): DemoOffer(
        "Cloud public",
        "Cloud public généraliste Google Cloud, région de Paris (europe-west9). Non qualifié SecNumCloud : "
        "réservé aux données non sensibles.",
        Decimal("25.00"), PER_VCPU, (HDS, ISO, C5)),
    ("Scalingo", "Scalingo PaaS"): DemoOffer(
        "Hébergement d'applications",
        "Plateforme d'hébergement d'applications et de bases de données managées, hébergée en France. "
        "Non qualifiée SecNumCloud.",
        Decimal("28.00"), "par conteneur et par mois"),
}

# Demo validity dates of the certificates (not the real certificates' dates).
CERTIFICATION_VALID_UNTIL = {HDS: date(2028, 3, 31), ISO: date(2027, 9, 30), C5: date(2027, 6, 30)}


@dataclass
class CatalogueResult:
    report: ImportReport
    offers_enriched: int = 0
    providers_enriched: int = 0


def reference_list_path() -> Path:
    """The project's copy of ANSSI's list (never the shared reference folder)."""
    return Path(apps.get_app_config("catalogue").path) / "data" / "secnumcloud_services.csv"


def seed_catalogue() -> CatalogueResult:
    """Import the reference list, then complete the providers and offers it created."""
    with reference_list_path().open(encoding="utf-8", newline="") as rows_file:
        # Two rows of the list give a validity a few days beyond the three years a
        # decision may last; the real import rejects them. For the demo they are cut
        # to three years, which the report and the qualification's history say.
        report = qualifications_import(rows_file=rows_file, cap_validity=True)
    result = CatalogueResult(report=report)
    for provider in Provider.objects.filter(name__in=PROVIDERS):
        result.providers_enriched += _fill(provider, PROVIDERS[provider.name])
    for offer in Offer.objects.filter(provider__name__in=PROVIDERS).select_related("provider"):
        demo = OFFERS.get((offer.provider.name, offer.name))
        if demo is not None:
            result.offers_enriched += _enrich_offer(offer, demo)
    return result


def _enrich_offer(offer: Offer, demo: DemoOffer) -> bool:
    changed = _fill(offer, {"category": demo.category, "description": f"{demo.description} {DEMO_PRICE_NOTE}",
                            "list_price": demo.list_price, "price_unit": demo.price_unit})
    for country in demo.locations:
        changed |= OfferLocation.objects.get_or_create(offer=offer, country=country)[1]
    for kind in demo.certifications:
        changed |= Certification.objects.get_or_create(
            offer=offer, kind=kind, defaults={"valid_until": CERTIFICATION_VALID_UNTIL[kind]})[1]
    return changed


def _fill(obj: Model, values: dict) -> bool:
    """Set the fields of `values` that are still empty on `obj`; save only those. True when it changed."""
    empty = {name: value for name, value in values.items() if getattr(obj, name) in (None, "", [])}
    for name, value in empty.items():
        setattr(obj, name, value)
    if empty:
        auto = ["updated_at"] if any(f.name == "updated_at" for f in obj._meta.fields) else []
        obj.save(update_fields=[*empty, *auto])
    return bool(empty)


# --- Administrations -------------------------------------------------------

# DINUM and AP-HP: their SIRETs as published in the Sirene directory to our knowledge;
# Intérieur and Armées: demo values computed to pass the Luhn check. All are checked by
# validate_siret; re-check against Sirene before any real use.
ORGANISATIONS = [
    {"name": "Ministère de l'Intérieur", "slug": "ministere-interieur", "siret": "11001401600015",
     "kind": OrganisationKind.MINISTRY},
    {"name": "Direction interministérielle du numérique", "slug": "dinum", "siret": "13002526500013",
     "kind": OrganisationKind.AGENCY},
    {"name": "Assistance Publique – Hôpitaux de Paris", "slug": "ap-hp", "siret": "26750045200011",
     "kind": OrganisationKind.HOSPITAL},
    {"name": "Ministère des Armées", "slug": "ministere-armees", "siret": "11000900700011",
     "kind": OrganisationKind.MINISTRY},
]


def seed_organisations() -> list[Organisation]:
    organisations = []
    for values in ORGANISATIONS:
        organisation, _created = Organisation.objects.get_or_create(
            name=values["name"], defaults={key: value for key, value in values.items() if key != "name"})
        organisations.append(organisation)
    return organisations


# --- Framework contract ----------------------------------------------------

# Modelled on UGAP's "Nuage public" framework (broker: Crayon France at the renewal).
# Amounts, dates and the discount are demo values.
FRAMEWORK = {
    "reference": "UGAP-NP-2024",
    "slug": "ugap-np-2024",
    "title": "Nuage public — services d'informatique en nuage",
    "description": (
        "Accord-cadre de la centrale d'achat UGAP : les administrations commandent par bons de commande, "
        "sans mise en concurrence propre, les services cloud d'une quinzaine de fournisseurs référencés "
        "par le courtier titulaire. Montants et remise de démonstration."
    ),
    "purchasing_body": "UGAP",
    "holder": "Crayon France",
    "starts_on": date(2024, 10, 1),
    "ends_on": date(2028, 9, 30),
    "ceiling": Decimal("60000000.00"),
    "discount_percent": Decimal("7.50"),
}
LOTS = [
    {"number": 1, "title": "Infrastructure à la demande (IaaS)", "service_model": "IaaS",
     "ceiling": Decimal("35000000.00")},
    {"number": 2, "title": "Plateformes applicatives et conteneurs (PaaS)", "service_model": "PaaS",
     "ceiling": Decimal("15000000.00")},
    {"number": 3, "title": "Logiciels en ligne (SaaS)", "service_model": "SaaS",
     "ceiling": Decimal("10000000.00")},
]


def seed_framework() -> FrameworkContract:
    """The framework, its lots, and every demo offer referenced in the lot of its service model."""
    framework, _created = FrameworkContract.objects.get_or_create(
        reference=FRAMEWORK["reference"],
        defaults={key: value for key, value in FRAMEWORK.items() if key != "reference"})
    demo_offers = [offer for offer in Offer.objects.filter(provider__name__in=PROVIDERS).select_related("provider")
                   if (offer.provider.name, offer.name) in OFFERS]
    for values in LOTS:
        lot, _created = Lot.objects.get_or_create(
            framework=framework, number=values["number"],
            defaults={key: value for key, value in values.items() if key != "number"})
        for offer in demo_offers:
            if offer.service_model == lot.service_model:
                Referencing.objects.get_or_create(lot=lot, offer=offer)
    return framework


# --- Users -----------------------------------------------------------------

USERS = [
    {"username": "acheteur", "first_name": "Camille", "last_name": "Durand", "role": roles.BUYER,
     "organisation": "Ministère de l'Intérieur"},
    {"username": "valideur", "first_name": "Dominique", "last_name": "Moreau", "role": roles.APPROVER,
     "organisation": "Ministère de l'Intérieur"},
    {"username": "fournisseur", "first_name": "Sacha", "last_name": "Lefèvre", "role": roles.VENDOR,
     "provider": "OVHcloud"},
    # A second vendor, for the provider whose qualification lapses on 2026-11-30: the daily job tells them.
    {"username": "fournisseur-outscale", "first_name": "Noa", "last_name": "Garnier", "role": roles.VENDOR,
     "provider": "3DS Outscale"},
    {"username": "anssi", "first_name": "Alex", "last_name": "Bernard", "role": roles.QUALIFIER, "is_staff": True},
    {"username": "dinum", "first_name": "Claude", "last_name": "Petit", "role": roles.CATALOGUE_MANAGER,
     "is_staff": True},
]
DEMO_EMAIL_DOMAIN = "courtier.example"


@dataclass
class UsersResult:
    users: list[User] = field(default_factory=list)
    # The password generated for the users created by this run (None when DEMO_PASSWORD is set).
    generated_password: str | None = None
    created: list[str] = field(default_factory=list)
    # Users whose password was left as it was (no DEMO_PASSWORD, user already there).
    kept: list[str] = field(default_factory=list)


def seed_users(*, password: str = "") -> UsersResult:
    """One demo user per role, with `password`, or a generated one for new users when it is empty.

    Without a password, existing users keep theirs: a re-run must not lock out
    whoever already uses the demo.
    """
    groups = roles.ensure_role_groups()
    result = UsersResult()
    new_password = password or secrets.token_urlsafe(12)
    # Password hashing is slow on purpose: hash once for every demo user, and check
    # each distinct stored hash once (the demo users share theirs).
    encoded = ""
    checked: dict[str, bool] = {}
    for values in USERS:
        user, created = User.objects.get_or_create(
            username=values["username"],
            defaults={"first_name": values["first_name"], "last_name": values["last_name"],
                      "email": f"{values['username']}@{DEMO_EMAIL_DOMAIN}",
                      "is_staff": values.get("is_staff", False)},
        )
        if password and not created and user.password not in checked:
            checked[user.password] = check_password(password, user.password)
        if created or (password and not checked[user.password]):
            encoded = encoded or make_password(new_password)
            user.password = encoded
            user.save(update_fields=["password"])
        if created:
            result.created.append(user.username)
        elif not password:
            result.kept.append(user.username)
        if values.get("is_staff") and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        user.groups.add(groups[values["role"]])
        _attach(user, organisation=values.get("organisation"), provider=values.get("provider"))
        result.users.append(user)
    if not password and result.created:
        result.generated_password = new_password
    return result


def _attach(user: User, *, organisation: str | None, provider: str | None) -> None:
    if organisation is None and provider is None:
        return
    UserProfile.objects.get_or_create(user=user, defaults={
        "organisation": Organisation.objects.get(name=organisation) if organisation else None,
        "provider": Provider.objects.get(name=provider) if provider else None,
    })


# --- Site ------------------------------------------------------------------

SITE_CONFIG = {
    "fr": {"site_title": "Courtier", "site_tagline": "Le catalogue cloud de l'État"},
    "en": {"site_title": "Courtier", "site_tagline": "The French State's cloud catalogue"},
}


def seed_site_config() -> None:
    """django-dsfr's site configuration (title shown by its templates), per language."""
    for language, values in SITE_CONFIG.items():
        DsfrConfig.objects.get_or_create(language=language, defaults=values)


# --- Orders ----------------------------------------------------------------

@dataclass(frozen=True)
class DemoOrder:
    key: str
    provider: str
    offer: str
    status: str
    sensitivity: str
    # Units of the offer's price unit over the whole period (for example vCPU × months).
    quantity: int
    justification: str
    starts_in_days: int = 7
    months: int = 12
    reason: str = ""


# One demo order in every status for the Ministère de l'Intérieur's buyer. The 3DS Outscale one
# outlives its qualification (valid until 30 November 2026): accepted, flagged as a continuity risk.
ORDERS = [
    DemoOrder("brouillon", "OVHcloud", "SNC Cloud Platform", OrderStatus.DRAFT, "sensitive", 16 * 12,
              "Environnement de recette de l'application de gestion des titres (16 vCPU pendant 12 mois)."),
    DemoOrder("risque-continuite", "3DS Outscale", "IaaS Cloud on Demand", OrderStatus.SUBMITTED, "sensitive",
              32 * 12, "Hébergement du portail des démarches en ligne (32 vCPU pendant 12 mois).",
              starts_in_days=0),
    DemoOrder("validee", "Cegedim", "CegNumCloud Secured IaaS", OrderStatus.APPROVED, "health", 24 * 12,
              "Hébergement des données de santé du service médical des agents (24 vCPU pendant 12 mois)."),
    DemoOrder("executee", "OVHcloud", "Bare Metal Pod", OrderStatus.FULFILLED, "sensitive", 2 * 12,
              "Calcul intensif pour l'analyse d'images (2 serveurs pendant 12 mois).", starts_in_days=0),
    DemoOrder("rejetee", "Amazon Web Services", "AWS public cloud (Paris region)", OrderStatus.REJECTED,
              "non_sensitive", 64 * 12, "Site institutionnel et ses environnements de test (64 vCPU pendant 12 mois).",
              reason="Besoin à regrouper avec l'hébergement du portail déjà en cours de commande."),
    DemoOrder("annulee", "Oodrive", "Oodrive Meet", OrderStatus.CANCELLED, "sensitive", 150 * 12,
              "Visioconférence pour les cellules de crise préfectorales (150 utilisateurs pendant 12 mois).",
              reason="Projet reporté à l'an prochain."),
]
ORDER_BUYER, ORDER_APPROVER, ORDER_VENDOR = "acheteur", "valideur", "fournisseur"


@dataclass
class OrdersResult:
    orders: list[Order] = field(default_factory=list)
    created: int = 0
    # Demo orders a rule refuses today (for example a qualification expired since): key and message.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _last_day(start: date, months: int) -> date:
    """The last day of a service of `months` whole months starting on `start`."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = start.day
    while True:
        try:
            return date(year, month, day) - timedelta(days=1)
        except ValueError:  # the 29th to 31st of a shorter month
            day -= 1


def seed_orders(*, today: date) -> OrdersResult:
    """The demo orders, created and moved through the order services so that prices, snapshots, verdicts
    and history are the real ones.

    Idempotent: each order carries a fixed idempotency key of the demo buyer, so a re-run finds it and
    changes nothing. An order that a rule refuses today is rolled back whole and retried at the next run.
    """
    people = {user.username: user for user in User.objects.filter(
        username__in=[ORDER_BUYER, ORDER_APPROVER, ORDER_VENDOR])}
    framework = FrameworkContract.objects.filter(reference=FRAMEWORK["reference"]).first()
    result = OrdersResult()
    if len(people) < 3 or framework is None:
        return result
    for demo in ORDERS:
        referencing = (Referencing.objects.filter(lot__framework=framework, offer__provider__name=demo.provider,
                                                  offer__name=demo.offer).select_related("lot", "offer").first())
        if referencing is None:
            result.skipped.append((demo.key, f"{demo.offer} n'est pas référencée dans {framework.reference}."))
            continue
        starts_on = today + timedelta(days=demo.starts_in_days)
        data = {"framework": framework, "lot": referencing.lot, "offer": referencing.offer,
                "quantity": demo.quantity, "sensitivity": demo.sensitivity, "starts_on": starts_on,
                "ends_on": _last_day(starts_on, demo.months), "justification": demo.justification}
        try:
            with transaction.atomic():
                order, created = order_services.order_create(user=people[ORDER_BUYER], data=data,
                                                             idempotency_key=f"demo-{demo.key}", today=today)
                if created:
                    order = _advance(order, demo, today=today, people=people)
        except RuleViolation as violation:
            result.skipped.append((demo.key, violation.message))
            continue
        result.created += int(created)
        result.orders.append(order)
    history = seed_order_history(today=today)
    result.orders += history.orders
    result.created += history.created
    result.skipped += history.skipped
    return result


def _advance(order: Order, demo: DemoOrder, *, today: date, people: dict[str, User]) -> Order:
    """Move a new demo order to its status along the workflow, each step by the person who may take it."""
    buyer, approver, vendor = people[ORDER_BUYER], people[ORDER_APPROVER], people[ORDER_VENDOR]
    if demo.status == OrderStatus.DRAFT:
        return order
    order = order_services.order_submit(order=order, user=buyer, today=today)
    if demo.status == OrderStatus.CANCELLED:
        return order_services.order_cancel(order=order, user=buyer, reason=demo.reason)
    if demo.status == OrderStatus.REJECTED:
        return order_services.order_reject(order=order, user=approver, reason=demo.reason)
    if demo.status == OrderStatus.SUBMITTED:
        return order
    order = order_services.order_approve(order=order, user=approver, today=today)
    if demo.status == OrderStatus.FULFILLED:
        order = order_services.order_fulfil(order=order, user=vendor)
    return order


# --- Order history (for the observatory) -----------------------------------------------------------------

# 36 orders approved or fulfilled over the last 18 months, for the four administrations, across SecNumCloud
# offers, generic US clouds (non-sensitive data only) and a French offer without qualification, so that every
# figure of /observatoire/ shows something. (provider, offer, sensitivity, quantity over the whole service).
HISTORY_OFFERS = [
    ("OVHcloud", "Bare Metal Pod", "sensitive", 2 * 12),
    ("Amazon Web Services", "AWS public cloud (Paris region)", "non_sensitive", 64 * 12),
    ("3DS Outscale", "IaaS Cloud on Demand", "sensitive", 48 * 12),
    ("Oodrive", "Oodrive Work", "sensitive", 400 * 12),
    ("Microsoft", "Microsoft Azure (France Central)", "non_sensitive", 48 * 12),
    ("Cegedim", "CegNumCloud Secured IaaS", "health", 24 * 12),
    ("Cloud Temple", "PaaS OpenShift", "sensitive", 3 * 12),
    ("Google", "Google Cloud Platform (europe-west9)", "non_sensitive", 32 * 12),
    ("Numspot", "Plateforme des services cloud", "non_sensitive", 16 * 12),
    ("Scalingo", "Scalingo PaaS", "non_sensitive", 10 * 12),
    ("OVHcloud", "Hosted Private Cloud (VMware)", "sensitive", 4 * 12),
    ("Worldline", "Cloud Services - Secured IaaS", "sensitive", 24 * 12),
]
HISTORY_MONTHS = 18
HISTORY_REASON = "Reprise de l'historique des commandes (données de démonstration)."


@dataclass(frozen=True)
class HistoryOrder:
    number: int
    # Where to start in HISTORY_OFFERS: the first offer from there that the doctrine accepts on the day is bought.
    offer_index: int
    organisation: str
    submitted_on: date
    status: str
    months: int

    @property
    def reference(self) -> str:
        return f"BC-HIST-{self.number:03d}"


def history_plan(*, today: date) -> list[HistoryOrder]:
    """Two orders a month for 18 months up to `today`, spread over the offers and administrations."""
    plan = []
    for index in range(HISTORY_MONTHS * 2):
        months_back = HISTORY_MONTHS - 1 - index // 2
        month = _last_day(today.replace(day=1), -months_back) + timedelta(days=1)
        plan.append(HistoryOrder(
            number=index + 1, offer_index=(index * 5) % len(HISTORY_OFFERS),
            organisation=ORGANISATIONS[index % len(ORGANISATIONS)]["name"],
            submitted_on=min(month.replace(day=4 if index % 2 else 18), today),
            status=OrderStatus.FULFILLED if months_back >= 4 and index % 3 else OrderStatus.APPROVED,
            months=24 if index % 4 == 0 else 12,
        ))
    return plan


def _history_author(organisation: Organisation) -> User:
    """The account the history is recorded under: one per administration, which cannot sign in."""
    user, created = User.objects.get_or_create(
        username=f"reprise-{organisation.slug}",
        defaults={"first_name": "Reprise", "last_name": organisation.name[:150], "is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        UserProfile.objects.get_or_create(user=user, defaults={"organisation": organisation})
    return user


def seed_order_history(*, today: date) -> OrdersResult:
    """The history of orders the observatory reads, recorded as an import would: each order with its price,
    its snapshot and the doctrine's verdict on the day it was submitted, its status history back-dated.

    Idempotent: an order whose reference exists is left as it is; the framework's committed totals are
    recomputed at the end. Each order buys the first offer of
    HISTORY_OFFERS, from its own starting point, that the doctrine accepted on its day (an offer not yet
    qualified then is passed over).
    """
    result = OrdersResult()
    framework = FrameworkContract.objects.filter(reference=FRAMEWORK["reference"]).first()
    if framework is None:
        return result
    plan = history_plan(today=today)
    existing = {order.reference: order for order in Order.objects.filter(
        reference__in=[item.reference for item in plan])}
    organisations = {organisation.name: organisation for organisation in Organisation.objects.all()}
    referencings = {
        (referencing.offer.provider.name, referencing.offer.name): referencing
        for referencing in Referencing.objects.filter(lot__framework=framework).select_related(
            "lot__framework", "offer__provider")
    }
    for item in plan:
        if item.reference in existing:
            result.orders.append(existing[item.reference])
            continue
        organisation = organisations.get(item.organisation)
        order = None
        for shift in range(len(HISTORY_OFFERS)):
            provider, offer, sensitivity, quantity = HISTORY_OFFERS[(item.offer_index + shift) % len(HISTORY_OFFERS)]
            referencing = referencings.get((provider, offer))
            if referencing is not None and organisation is not None:
                order = _history_order(item, referencing=referencing, organisation=organisation,
                                       sensitivity=sensitivity, quantity=quantity)
            if order is not None:
                break
        if order is None:
            result.skipped.append((item.reference, "aucune offre de l'historique n'est disponible."))
            continue
        result.orders.append(order)
        result.created += 1
    # These orders were written committed, past the order services: recompute the framework's running totals.
    refresh_commitments(framework_ids=[framework.pk])
    return result


def _qualification_then(qualification, day: date) -> str:
    """The status the order's snapshot had on `day`: none before the decision's date, its status after."""
    if qualification is None or (qualification.qualified_on and day < qualification.qualified_on):
        return ""
    return qualification.status


def _history_order(item: HistoryOrder, *, referencing: Referencing, organisation: Organisation, sensitivity: str,
                   quantity: int) -> Order | None:
    """The order, or None when the doctrine would have refused it on its day."""
    offer = Offer.objects.prefetch_related("locations", "certifications").select_related("provider").get(
        pk=referencing.offer_id)
    starts_on = item.submitted_on + timedelta(days=14)
    ends_on = _last_day(starts_on, item.months)
    verdict = doctrine.assess(offer.facts(), sensitivity, start=starts_on, today=item.submitted_on,
                              end=ends_on)
    if not verdict.eligible:
        return None
    qualification = offer.current_qualification
    unit_price, amount = order_services.order_price(referencing=referencing, quantity=quantity)
    author = _history_author(organisation)
    submitted_at = timezone.make_aware(datetime.combine(item.submitted_on, time(10, 0)))
    decided_at = submitted_at + timedelta(days=2)
    with transaction.atomic():
        order = Order.objects.create(
            reference=item.reference, organisation=organisation, created_by=author, framework=referencing.lot.framework,
            lot=referencing.lot, offer=offer, quantity=quantity, unit_price=unit_price, amount=amount,
            sensitivity=sensitivity, starts_on=starts_on, ends_on=ends_on,
            justification=f"{offer.category} : {offer.name} ({item.months} mois). {HISTORY_REASON}",
            status=item.status, offer_name=offer.name, provider_name=offer.provider.name,
            qualification_status=_qualification_then(qualification, item.submitted_on),
            qualification_valid_until=qualification.valid_until if qualification else None,
            eligibility={**verdict.as_dict(), "checked_on": item.submitted_on.isoformat()},
            continuity_risk=verdict.continuity_risk, submitted_at=submitted_at, decided_at=decided_at,
        )
        steps = [("", OrderStatus.DRAFT, submitted_at), (OrderStatus.DRAFT, OrderStatus.SUBMITTED, submitted_at),
                 (OrderStatus.SUBMITTED, OrderStatus.APPROVED, decided_at)]
        if item.status == OrderStatus.FULFILLED:
            steps.append((OrderStatus.APPROVED, OrderStatus.FULFILLED, decided_at + timedelta(days=12)))
        for status_from, status_to, when in steps:
            event = OrderEvent.objects.create(order=order, actor=author, status_from=status_from,
                                              status_to=status_to, reason=HISTORY_REASON)
            OrderEvent.objects.filter(pk=event.pk).update(created_at=when)  # auto_now_add: back-dated after
        Order.objects.filter(pk=order.pk).update(created_at=submitted_at, updated_at=decided_at)
    return order
