"""Build a synthetic Courtier data set on PostgreSQL, fast: COPY for the catalogue, INSERT ... SELECT for orders.

Used by bench/run.py (which sets Django up first); `build(scale)` empties the
application tables of the current database and fills them. Distributions:

- providers: 85 % seated in France, 10 % elsewhere in the EU, 5 % outside it; one in 20 with a
  non-EU holding above the §19.6 ceilings; one vendor user each;
- offers: 35 % IaaS, 25 % PaaS, 10 % CaaS, 30 % SaaS, names and descriptions drawn from a French
  vocabulary (accents included), 92 % published; one or two data locations (5 % outside the EU);
  certifications (ISO 27001 on half, HDS on a tenth...); `search_document` built with the app's own
  `Offer.build_search_document` rules (catalogue.search.normalize);
- qualifications (one current per qualified offer): 5 % of offers `qualified`, valid until a day
  spread from 30 days ago to three years ahead (so the daily scan has expiries and alerts), 1 % in
  progress, 0.5 % suspended; one earlier decision in the history of a fifth of them;
- 50 organisations with a buyer and an approver each; three framework contracts (one in force, one
  ended, one upcoming) with four lots each; 30 % of published offers referenced in the one in force;
- orders spread over the referenced offers, 10 % of them for the bench organisation (so its buyer
  has `orders // 10` orders), every status, with one or two history rows each; then each framework's
  and lot's stored `committed_amount` is set to the sum of its committed orders.

The bench users (password BENCH_PASSWORD): bench-acheteur and bench-valideur (the bench
organisation), bench-fournisseur (provider 0), bench-anssi, bench-dinum.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.utils import timezone

from broker import roles
from catalogue.search import normalize
from procurement.models import COMMITTED_STATUSES

BENCH_PASSWORD = "bench-mot-de-passe-2026"
ORGANISATIONS = 50
BENCH_ORGANISATION_SHARE = 10  # one order in ten is the bench organisation's

SERVICE_MODELS = [("IaaS", 35), ("PaaS", 25), ("CaaS", 10), ("SaaS", 30)]
CATEGORIES = {
    "IaaS": ["Calcul", "Stockage", "Réseau", "Sauvegarde"],
    "PaaS": ["Base de données", "Hébergement web", "Messagerie applicative", "Intelligence artificielle"],
    "CaaS": ["Conteneurs", "Kubernetes"],
    "SaaS": ["Collaboration", "Messagerie", "Visioconférence", "Gestion documentaire", "Ressources humaines"],
}
ADJECTIVES = ["sécurisé", "souverain", "élastique", "managé", "dédié", "mutualisé", "haute disponibilité",
              "chiffré", "résilient", "privé", "hybride", "qualifié"]
NOUNS = {
    "IaaS": ["Machines virtuelles", "Serveurs nus", "Stockage objet", "Stockage bloc", "Réseau privé",
             "Sauvegarde externalisée", "Cloud privé"],
    "PaaS": ["PostgreSQL", "MySQL", "Redis", "Hébergement web", "Plateforme de données", "Bus de messages",
             "Plateforme d'IA"],
    "CaaS": ["Kubernetes", "Registre de conteneurs", "Orchestration de conteneurs"],
    "SaaS": ["Suite collaborative", "Messagerie électronique", "Visioconférence", "Partage de fichiers",
             "Gestion électronique de documents", "Signature électronique", "Agenda partagé"],
}
WORDS = ("hébergement données sensibles administration accès réversibilité journalisation supervision "
         "chiffrement clés réplication géographique disponibilité interopérabilité identité fédération "
         "sauvegarde restauration performance support français exploitation conformité santé public "
         "agents collectivités ministères archivage intégrité traçabilité").split()
EU_ELSEWHERE = ["DE", "NL", "BE", "IT", "ES", "LU"]
PRICE_UNITS = ["par mois", "par vCPU et par mois", "par utilisateur et par mois", "par To et par mois"]
CERTIFICATIONS = [("iso27001", 50), ("hds", 10), ("eucs_high", 5), ("eucs_substantial", 8), ("bsi_c5_type2", 4)]
# Every status an order may be in, with its share.
ORDER_STATUSES = [("draft", 10), ("submitted", 15), ("approved", 30), ("fulfilled", 30), ("rejected", 5),
                  ("cancelled", 10)]

APP_TABLES = [
    "procurement_orderevent", "procurement_order", "procurement_notification", "procurement_referencing",
    "procurement_lot", "procurement_frameworkcontract", "procurement_recordedsearchitem",
    "procurement_recordedsearch", "catalogue_qualificationalert", "catalogue_qualificationevent",
    "catalogue_qualification", "catalogue_certification", "catalogue_offerlocation", "catalogue_offerreview",
    "catalogue_offerrevision", "catalogue_providerchange", "catalogue_offer", "procurement_userprofile",
    "catalogue_provider", "procurement_organisation", "authtoken_token", "auth_user_groups",
    "auth_user_user_permissions", "django_admin_log", "auth_user", "django_session", "audit_auditevent",
    "axes_accessattempt", "axes_accesslog", "axes_accessfailurelog",
]


@dataclass(frozen=True)
class Scale:
    providers: int = 5_000
    offers: int = 100_000
    orders: int = 1_000_000
    seed: int = 2026


@dataclass
class Dataset:
    """What the measurements need to know about the data set just built."""

    today: date
    bench_offer_slug: str  # a published, qualified, referenced offer
    framework_slug: str
    framework_id: int
    lot_id: int  # the lot of the in-force framework in which bench_offer is referenced
    bench_orders: int  # orders of the bench organisation
    counts: dict
    seconds: dict


def _weighted(rng: random.Random, choices: list[tuple[str, int]]) -> str:
    return rng.choices([value for value, _ in choices], weights=[weight for _, weight in choices])[0]


def _copy(cursor, table: str, columns: list[str], rows) -> int:
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def _truncate(cursor) -> None:
    existing = set(connection.introspection.table_names())
    tables = [table for table in APP_TABLES if table in existing]
    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


# The large tables: their plain indexes are dropped during the load and built again at the end (much faster
# than maintaining them row by row). Indexes that back a constraint stay.
BULK_TABLES = ["catalogue_offer", "procurement_order", "procurement_orderevent"]


def _drop_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the indexes of `tables` that back no constraint; return their definitions."""
    cursor.execute("""
        SELECT indexname, indexdef FROM pg_indexes i
        WHERE schemaname = current_schema() AND tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""", [tables])
    rows = cursor.fetchall()
    for name, _definition in rows:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


def _reset_sequences(cursor, tables: list[str]) -> None:
    for table in tables:
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


def _fill_committed_amounts(cursor) -> None:
    """The running committed totals the order services keep, set from the loaded orders: one UPDATE per table
    (a grouped scan of the orders each), as refresh_commitments() would, without a subquery per row."""
    statuses = ", ".join(f"'{status}'" for status in COMMITTED_STATUSES)
    for table, column in (("procurement_frameworkcontract", "framework_id"), ("procurement_lot", "lot_id")):
        cursor.execute(f"""
            UPDATE {table} t SET committed_amount = s.total
            FROM (SELECT {column} AS id, sum(amount) AS total FROM procurement_order
                  WHERE status IN ({statuses}) GROUP BY {column}) s
            WHERE t.id = s.id""")


def build(scale: Scale, *, log=print) -> Dataset:
    """Empty the application tables and fill them at `scale`. PostgreSQL only."""
    if connection.vendor != "postgresql":
        raise SystemExit("The bench data set is built with COPY: point DATABASE_URL at PostgreSQL.")
    rng = random.Random(scale.seed)
    today = timezone.localdate()
    now = datetime.now(tz=UTC)
    seconds: dict[str, float] = {}
    counts: dict[str, int] = {}
    password = make_password(BENCH_PASSWORD)
    groups = {name: Group.objects.get_or_create(name=name)[0].pk for name in roles.ROLES}

    def step(name: str, started: float) -> None:
        seconds[name] = round(time.perf_counter() - started, 2)
        log(f"  {name:<28} {counts.get(name, 0):>10,} rows  {seconds[name]:6.1f} s")

    with transaction.atomic(), connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        started = time.perf_counter()
        _truncate(cursor)
        indexes = _drop_indexes(cursor, BULK_TABLES)
        # The rows are consistent by construction: skip the foreign-key triggers (millions of deferred
        # row checks, about 90 s at the default scale) when the role may (a superuser, as in CI).
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = replica")
        step("truncate", started)

        # Providers and their vendors.
        started = time.perf_counter()
        providers = []
        for n in range(scale.providers):
            draw = rng.random()
            seat = "FR" if draw < 0.85 else rng.choice(EU_ELSEWHERE) if draw < 0.95 else "US"
            largest, total = (Decimal("0"), Decimal("0"))
            if rng.random() < 0.05:
                largest = Decimal(rng.randint(10, 60))
                total = largest + Decimal(rng.randint(0, 30))
            name = f"Fournisseur {n:05d} {rng.choice(['Cloud', 'Numérique', 'Hébergement', 'Systèmes'])}"
            providers.append((n + 1, name, f"fournisseur-{n:05d}", f"{name} SAS", f"{100000000 + n:09d}", "",
                              seat, largest, min(total, Decimal(100)), '["FR"]', '["FR"]', "", now, now))
        counts["providers"] = _copy(cursor, "catalogue_provider", [
            "id", "name", "slug", "legal_name", "siren", "vat_number", "seat_country", "largest_non_eu_holding",
            "total_non_eu_holding", "data_locations", "support_locations", "website", "created_at",
            "updated_at"], providers)
        step("providers", started)

        # Offers, their locations and certifications.
        started = time.perf_counter()
        offers, locations, certifications = [], [], []
        published: list[int] = []
        offer_models: dict[int, str] = {}
        for n in range(scale.offers):
            offer_id = n + 1
            provider = providers[n % scale.providers]
            model = _weighted(rng, SERVICE_MODELS)
            category = rng.choice(CATEGORIES[model])
            name = f"{rng.choice(NOUNS[model])} {rng.choice(ADJECTIVES)} {n:06d}"
            description = " ".join(rng.sample(WORDS, 12)).capitalize() + "."
            draw = rng.random()
            state = ("published" if draw < 0.92 else "draft" if draw < 0.95 else "submitted" if draw < 0.97
                     else "withdrawn")
            search_document = normalize(" ".join([name, provider[1], category, model, description]))
            published_at = now - timedelta(days=rng.randint(1, 1000)) if state in ("published", "withdrawn") else None
            offers.append((offer_id, provider[0], name, f"offre-{n:06d}", model, category, description,
                           Decimal(rng.randint(5, 5000)), rng.choice(PRICE_UNITS), state, provider[1],
                           search_document, published_at, now, now))
            offer_models[offer_id] = model
            if state == "published":
                published.append(offer_id)
            countries = ["FR"] if rng.random() < 0.7 else rng.sample(EU_ELSEWHERE, 1)
            if rng.random() < 0.3:
                countries.append(rng.choice(["FR", *EU_ELSEWHERE]))
            if rng.random() < 0.05:
                countries.append("US")
            locations.extend((offer_id, country) for country in sorted(set(countries)))
            for kind, share in CERTIFICATIONS:
                if rng.randrange(100) < share:
                    certifications.append((offer_id, kind, f"CERT-{offer_id}-{kind}",
                                           today + timedelta(days=rng.randint(-100, 1000))))
        counts["offers"] = _copy(cursor, "catalogue_offer", [
            "id", "provider_id", "name", "slug", "service_model", "category", "description", "list_price",
            "price_unit", "state", "provider_name", "search_document", "published_at", "created_at", "updated_at"],
            offers)
        counts["offer locations"] = _copy(cursor, "catalogue_offerlocation", ["offer_id", "country"], locations)
        counts["certifications"] = _copy(cursor, "catalogue_certification",
                                         ["offer_id", "kind", "reference", "valid_until"], certifications)
        step("offers", started)

        # Qualifications: a few percent qualified, validity spread over the next three years.
        started = time.perf_counter()
        qualifications = []
        qualified: list[int] = []
        for offer_id in range(1, scale.offers + 1):
            draw = rng.random()
            if draw < 0.05:
                valid_until = today + timedelta(days=rng.randint(-30, 3 * 365))
                qualified_on = valid_until - timedelta(days=3 * 365)
                status, milestone = "qualified", ""
                if offers[offer_id - 1][9] == "published" and valid_until > today + timedelta(days=400):
                    qualified.append(offer_id)
            elif draw < 0.06:
                status, milestone, qualified_on, valid_until = "in_progress", rng.choice(["J0", "J1", "J2"]), None, None
            elif draw < 0.065:
                valid_until = today + timedelta(days=rng.randint(30, 700))
                qualified_on = valid_until - timedelta(days=3 * 365)
                status, milestone = "suspended", ""
            else:
                continue
            if rng.random() < 0.2 and qualified_on:
                qualifications.append((offer_id, False, "expired", "", "3.1", f"{offer_id}-A", qualified_on
                                       - timedelta(days=3 * 365), qualified_on - timedelta(days=1), "", now, now))
            qualifications.append((offer_id, True, status, milestone, "3.2", f"{offer_id}-B", qualified_on,
                                   valid_until, "", now, now))
        counts["qualifications"] = _copy(cursor, "catalogue_qualification", [
            "offer_id", "is_current", "status", "milestone", "referential_version", "decision_number",
            "qualified_on", "valid_until", "conditions", "created_at", "updated_at"], qualifications)
        step("qualifications", started)

        # Organisations, users (one vendor per provider), profiles, tokens come later (bench/run.py).
        started = time.perf_counter()
        organisations = [(n + 1, f"Administration bench {n:02d}", f"administration-bench-{n:02d}",
                          f"{11000000000000 + n:014d}", "ministry", now) for n in range(ORGANISATIONS)]
        _copy(cursor, "procurement_organisation", ["id", "name", "slug", "siret", "kind", "created_at"],
              organisations)
        users, memberships, profiles = [], [], []

        def user(username: str, group: str, *, organisation=None, provider=None, staff=False) -> int:
            user_id = len(users) + 1
            users.append((user_id, password, False, username, "", "", f"{username}@bench.example", staff, True, now))
            memberships.append((user_id, groups[group]))
            if organisation or provider:
                profiles.append((user_id, organisation, provider))
            return user_id

        bench_buyer = user("bench-acheteur", roles.BUYER, organisation=1)
        user("bench-valideur", roles.APPROVER, organisation=1)
        user("bench-fournisseur", roles.VENDOR, provider=1)
        user("bench-anssi", roles.QUALIFIER, staff=True)
        user("bench-dinum", roles.CATALOGUE_MANAGER, staff=True)
        buyers = {1: bench_buyer}
        for org_id in range(2, ORGANISATIONS + 1):
            buyers[org_id] = user(f"acheteur-{org_id:02d}", roles.BUYER, organisation=org_id)
            user(f"valideur-{org_id:02d}", roles.APPROVER, organisation=org_id)
        for provider_id in range(2, scale.providers + 1):
            user(f"vendeur-{provider_id:05d}", roles.VENDOR, provider=provider_id)
        counts["users"] = _copy(cursor, "auth_user", [
            "id", "password", "is_superuser", "username", "first_name", "last_name", "email", "is_staff",
            "is_active", "date_joined"], users)
        _copy(cursor, "auth_user_groups", ["user_id", "group_id"], memberships)
        _copy(cursor, "procurement_userprofile", ["user_id", "organisation_id", "provider_id"], profiles)
        step("users", started)

        # Framework contracts, lots, referencings.
        started = time.perf_counter()
        frameworks = [
            (1, "AC-BENCH-2025", "ac-bench-2025", "Nuage de confiance", today - timedelta(days=400),
             today + timedelta(days=1500), None),
            (2, "AC-BENCH-2021", "ac-bench-2021", "Nuage public (échu)", today - timedelta(days=1800),
             today - timedelta(days=30), None),
            (3, "AC-BENCH-2027", "ac-bench-2027", "Nuage souverain (à venir)", today + timedelta(days=200),
             today + timedelta(days=2000), None),
        ]
        _copy(cursor, "procurement_frameworkcontract", [
            "id", "reference", "slug", "title", "description", "purchasing_body", "holder", "starts_on",
            "ends_on", "ceiling", "discount_percent", "terminated_on", "created_at", "committed_amount"],
            [(fid, ref, slug, title, "", "UGAP", "Courtier bench", starts, ends, Decimal("900000000000.00"),
              Decimal("12.50"), terminated, now, Decimal("0"))
             for fid, ref, slug, title, starts, ends, terminated in frameworks])
        lots, lot_of = [], {}
        for framework_id, *_rest in frameworks:
            for number, (model, _share) in enumerate(SERVICE_MODELS, start=1):
                lot_id = len(lots) + 1
                lots.append((lot_id, framework_id, number, f"Lot {model}", model, None, Decimal("0")))
                lot_of[(framework_id, model)] = lot_id
        _copy(cursor, "procurement_lot", ["id", "framework_id", "number", "title", "service_model", "ceiling",
                                          "committed_amount"], lots)
        referenced = sorted(set(qualified) | {o for o in published if rng.random() < 0.3})
        referencings = [(lot_of[(1, offer_models[o])], o, None, today - timedelta(days=300)) for o in referenced]
        referencings += [(lot_of[(2, offer_models[o])], o, Decimal("5"), today - timedelta(days=1700))
                         for o in published if rng.random() < 0.1]
        counts["frameworks"] = len(frameworks)
        counts["referencings"] = _copy(cursor, "procurement_referencing",
                                       ["lot_id", "offer_id", "discount_percent", "referenced_on"], referencings)
        step("frameworks", started)

        # Orders: generated by PostgreSQL from the referenced offers (one array), statuses by weight.
        started = time.perf_counter()
        cursor.execute("CREATE TEMP TABLE bench_referenced (n int PRIMARY KEY, offer_id bigint, lot_id bigint, "
                       "price numeric, offer_name text, provider_name text) ON COMMIT DROP")
        cursor.execute("""
            INSERT INTO bench_referenced
            SELECT row_number() OVER (ORDER BY r.id) - 1, r.offer_id, r.lot_id,
                   round(o.list_price * 0.875, 2), o.name, p.name
            FROM procurement_referencing r JOIN procurement_lot l ON l.id = r.lot_id AND l.framework_id = 1
            JOIN catalogue_offer o ON o.id = r.offer_id JOIN catalogue_provider p ON p.id = o.provider_id""")
        status_case = "CASE " + " ".join(
            f"WHEN s.draw < {sum(w for _, w in ORDER_STATUSES[:i + 1])} THEN '{name}'"
            for i, (name, _w) in enumerate(ORDER_STATUSES)) + " END"
        buyer_case = "CASE " + " ".join(f"WHEN s.org = {org} THEN {uid}" for org, uid in buyers.items()) + " END"
        cursor.execute(f"""
            WITH s AS (
              SELECT g AS n,
                     (hashint4(g) & 2147483647) % 100 AS draw,
                     CASE WHEN g % {BENCH_ORGANISATION_SHARE} = 0 THEN 1
                          ELSE 2 + (hashint4(g + 7) & 2147483647) % {ORGANISATIONS - 1} END AS org,
                     (hashint4(g + 13) & 2147483647) % (SELECT count(*) FROM bench_referenced) AS pick,
                     1 + (hashint4(g + 17) & 2147483647) % 36 AS quantity,
                     now() - make_interval(mins => ({scale.orders} - g)) AS created
              FROM generate_series(1, {scale.orders}) g
            )
            INSERT INTO procurement_order (
              id, reference, quantity, unit_price, amount, sensitivity, starts_on, ends_on, justification,
              status, offer_name, provider_name, qualification_status, qualification_valid_until, eligibility,
              continuity_risk, idempotency_key, submitted_at, decided_at, created_at, updated_at, created_by_id,
              decided_by_id, framework_id, lot_id, offer_id, organisation_id, search_id)
            SELECT s.n, 'BC-BENCH-' || lpad(s.n::text, 8, '0'), s.quantity, r.price, r.price * s.quantity,
                   'non_sensitive', created::date, created::date + 365, 'Besoin du service (bench).',
                   {status_case}, r.offer_name, r.provider_name, '', NULL, '{{}}'::jsonb, false, NULL,
                   CASE WHEN {status_case} <> 'draft' THEN created + interval '1 hour' END,
                   NULL, created, created, {buyer_case}, NULL, 1, r.lot_id, r.offer_id, s.org, NULL
            FROM s JOIN bench_referenced r ON r.n = s.pick""")
        counts["orders"] = cursor.rowcount
        cursor.execute("""
            INSERT INTO procurement_orderevent (created_at, status_from, status_to, reason, actor_id, order_id)
            SELECT created_at, '', 'draft', '', created_by_id, id FROM procurement_order
            UNION ALL
            SELECT submitted_at, 'draft', status, '', created_by_id, id FROM procurement_order
            WHERE status <> 'draft'""")
        counts["order events"] = cursor.rowcount
        step("orders", started)

        started = time.perf_counter()
        _fill_committed_amounts(cursor)
        step("committed amounts", started)

        started = time.perf_counter()
        if superuser:
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:  # check the deferred foreign keys now: no index can be built on a table with pending events
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for definition in indexes:
            cursor.execute(definition)
        counts["indexes"] = len(indexes)
        step("indexes", started)
        _reset_sequences(cursor, ["catalogue_provider", "catalogue_offer", "catalogue_qualification",
                                  "procurement_organisation", "auth_user", "procurement_frameworkcontract",
                                  "procurement_lot", "procurement_order", "procurement_orderevent"])
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # What autovacuum does soon after a bulk load: statistics, and the visibility map that lets
        # counts and id pages be read from indexes alone.
        cursor.execute("VACUUM ANALYZE")
    step("vacuum analyze", started)

    return _dataset(today=today, lot_of=lot_of, counts=counts, seconds=seconds,
                    bench_orders=scale.orders // BENCH_ORGANISATION_SHARE)


def _dataset(*, today: date, lot_of: dict, counts: dict, seconds: dict, bench_orders: int) -> Dataset:
    """Pick the bench offer: published, eligible for sensitive data today, referenced in the framework in force."""
    from catalogue import doctrine, selectors
    from catalogue.models import Offer

    eligible = Offer.objects.filter(selectors.eligible_q(doctrine.SENSITIVE, start=today, today=today),
                                    referencings__lot__framework_id=1, list_price__isnull=False)
    offer = eligible.order_by("pk").values("slug", "service_model").first()
    if offer is None:
        raise SystemExit("No offer eligible for sensitive data: choose a larger scale.")
    counts["bench organisation orders"] = bench_orders
    return Dataset(today=today, bench_offer_slug=offer["slug"], framework_slug="ac-bench-2025", framework_id=1,
                   lot_id=lot_of[(1, offer["service_model"])], bench_orders=bench_orders, counts=counts,
                   seconds=seconds)


def existing(scale: Scale) -> Dataset:
    """The Dataset of a data set already built (bench/run.py --reuse)."""
    from procurement.models import Lot, Order

    today = timezone.localdate()
    lot_of = {(1, lot.service_model): lot.pk for lot in Lot.objects.filter(framework_id=1)}
    bench_orders = Order.objects.filter(organisation_id=1).count()
    return _dataset(today=today, lot_of=lot_of, counts={"orders": Order.objects.count()}, seconds={},
                    bench_orders=bench_orders)
