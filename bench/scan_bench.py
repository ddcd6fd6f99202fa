"""Benchmark of the daily qualification scan: N qualifications, time and SQL queries.

    DATABASE_URL=postgres://.../courtier_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/scan_bench.py --size 100000

The database must be a scratch one (its name must contain "bench"): it is migrated and
flushed. The e-mails the scan queues go to the Redis database of REDIS_URL, as in
production, and are purged at the end (no worker sends them). See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from broker import roles  # noqa: E402
from broker.celery import app as celery_app  # noqa: E402
from catalogue import lifecycle  # noqa: E402
from catalogue.models import Offer, OfferState, Provider, Qualification, QualificationStatus  # noqa: E402
from procurement.models import (  # noqa: E402
    FrameworkContract,
    Lot,
    Order,
    OrderStatus,
    Organisation,
    UserProfile,
)

TODAY = date(2026, 12, 1)
OFFERS_PER_PROVIDER = 100
ORDERS_PER_QUALIFICATIONS = 50  # one committed order per 50 qualifications
QUALIFIERS = 3
ORGANISATIONS = 10
INSERT_BATCH = 5000
# Validity ends spread evenly from 10 days ago to three years ahead, as in a catalogue whose
# three-year decisions are renewed all year round: about N / 1,105 decisions reach each day.
SPREAD_DAYS = (-10, 3 * 365)


def prepare_database() -> None:
    name = settings.DATABASES["default"]["NAME"]
    if "bench" not in str(name):
        sys.exit(f"Refusing to flush database {name!r}: use a scratch database whose name contains 'bench'.")
    if not settings.REDIS_URL:
        sys.exit("Set REDIS_URL to a scratch Redis database: without it Celery runs eagerly and every e-mail "
                 "the scan queues would be sent in-process, which is not what is measured here.")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def users(prefix: str, count: int, group: str) -> list[User]:
    created = User.objects.bulk_create(
        [User(username=f"{prefix}-{n}", email=f"{prefix}-{n}@bench.example", password="!") for n in range(count)],
        batch_size=INSERT_BATCH,
    )
    role = Group.objects.get_or_create(name=group)[0]
    User.groups.through.objects.bulk_create(
        [User.groups.through(user_id=user.pk, group_id=role.pk) for user in created], batch_size=INSERT_BATCH)
    return created


def populate(size: int, *, seed: int) -> None:
    rng = random.Random(seed)
    providers = Provider.objects.bulk_create([
        Provider(name=f"Bench fournisseur {n}", slug=f"bench-fournisseur-{n}", seat_country="FR",
                 largest_non_eu_holding=Decimal(0), total_non_eu_holding=Decimal(0), data_locations=["FR"])
        for n in range(max(1, size // OFFERS_PER_PROVIDER))
    ], batch_size=INSERT_BATCH)
    vendors = users("bench-vendeur", len(providers), roles.VENDOR)
    UserProfile.objects.bulk_create([UserProfile(user=user, provider=provider)
                                     for user, provider in zip(vendors, providers, strict=True)],
                                    batch_size=INSERT_BATCH)
    users("bench-anssi", QUALIFIERS, roles.QUALIFIER)
    offers = Offer.objects.bulk_create([
        Offer(provider=providers[n % len(providers)], provider_name=providers[n % len(providers)].name,
              name=f"Offre {n}", slug=f"bench-offre-{n}",
              service_model="IaaS", state=OfferState.PUBLISHED, list_price=Decimal("100.00"))
        for n in range(size)
    ], batch_size=INSERT_BATCH)
    qualifications = []
    for offer in offers:
        valid_until = TODAY + timedelta(days=rng.randint(*SPREAD_DAYS))
        qualifications.append(Qualification(offer=offer, status=QualificationStatus.QUALIFIED,
                                            qualified_on=valid_until - timedelta(days=1000),
                                            valid_until=valid_until, decision_number=f"B{offer.pk}"))
    Qualification.objects.bulk_create(qualifications, batch_size=INSERT_BATCH)

    organisations = Organisation.objects.bulk_create([
        Organisation(name=f"Bench administration {n}", slug=f"bench-administration-{n}",
                     siret=f"{n:014d}", kind="ministry") for n in range(ORGANISATIONS)])
    buyers = users("bench-acheteur", ORGANISATIONS, roles.BUYER)
    approvers = users("bench-valideur", ORGANISATIONS, roles.APPROVER)
    UserProfile.objects.bulk_create([UserProfile(user=user, organisation=organisation)
                                     for people in (buyers, approvers)
                                     for user, organisation in zip(people, organisations, strict=True)])
    framework = FrameworkContract.objects.create(
        reference="BENCH-1", slug="bench-1", title="Bench", purchasing_body="UGAP", holder="Bench",
        starts_on=date(2025, 1, 1), ends_on=date(2030, 12, 31), ceiling=Decimal("1000000000.00"),
        discount_percent=Decimal("0"))
    lot = Lot.objects.create(framework=framework, number=1, title="Bench", service_model="IaaS")
    Order.objects.bulk_create([
        Order(reference=f"BENCH-{n:07d}", organisation=organisations[n % ORGANISATIONS],
              created_by=buyers[n % ORGANISATIONS], framework=framework, lot=lot,
              offer=offers[rng.randrange(size)], quantity=1, unit_price=Decimal("100"), amount=Decimal("100"),
              sensitivity="sensitive", starts_on=date(2026, 1, 1), ends_on=date(2028, 12, 31),
              justification="Bench", status=rng.choice([OrderStatus.SUBMITTED, OrderStatus.APPROVED]))
        for n in range(max(1, size // ORDERS_PER_QUALIFICATIONS))
    ], batch_size=INSERT_BATCH)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")


def timed_scan(label: str, today: date) -> None:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        report = lifecycle.scan_qualifications(today=today)
        elapsed = time.perf_counter() - started
    alerts = ", ".join(f"J-{t}: {c}" for t, c in report.alerts.items())
    print(f"{label:<28} {elapsed:7.2f} s {len(queries):6d} queries | expired {len(report.expired)}, "
          f"alerts {report.alerts_raised} ({alerts}; {report.alerts_passed} passed silently), "
          f"orders flagged {report.orders_flagged}, notifications {report.notifications}, "
          f"e-mails queued {report.emails_queued}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000, help="number of qualifications (default 10,000)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    prepare_database()
    started = time.perf_counter()
    populate(args.size, seed=args.seed)
    print(f"{args.size} qualifications on {connection.vendor} created in {time.perf_counter() - started:.1f} s "
          f"(batch size {lifecycle.BATCH_SIZE})", flush=True)
    try:
        timed_scan("first scan (cold start)", TODAY)
        timed_scan("same day again", TODAY)
        timed_scan("next day (steady state)", TODAY + timedelta(days=1))
    finally:
        celery_app.control.purge()


if __name__ == "__main__":
    main()
