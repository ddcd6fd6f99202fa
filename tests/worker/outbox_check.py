"""Checks for .ci/worker_check.sh: who must be told, what the mail directory holds, and a lock to hold.

Run as `python -m tests.worker.outbox_check COMMAND ...` with the same environment as the
worker (DATABASE_URL, REDIS_URL, EMAIL_FILE_PATH). Each check prints PASS or FAIL lines and
exits non-zero on failure. The expected recipients are worked out here from the rule itself
(vendors of the provider, active qualifiers, buyers and approvers of committed orders), not
from the notifications the scan wrote, so the check does not grade the code with its own answer.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broker.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils.text import slugify  # noqa: E402

from broker import roles  # noqa: E402
from catalogue.models import Offer, Provider, Qualification, QualificationAlert  # noqa: E402
from procurement.models import COMMITTED_STATUSES, Notification, Order  # noqa: E402
from tests.factories import make_user  # noqa: E402

SEPARATOR = b"-" * 79


def mails() -> list[email.message.EmailMessage]:
    """Every message the file backend wrote (one file per connection, messages separated by a rule)."""
    messages = []
    for path in sorted(Path(settings.EMAIL_FILE_PATH).glob("*.log")):
        for chunk in path.read_bytes().split(SEPARATOR + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


def audience(offer: Offer) -> set[str]:
    """The addresses that must hear about `offer`'s qualification."""
    users = User.objects.filter(is_active=True).exclude(email="")
    vendors = users.filter(groups__name=roles.VENDOR, profile__provider=offer.provider_id)
    qualifiers = users.filter(groups__name=roles.QUALIFIER)
    orders = Order.objects.filter(offer=offer, status__in=COMMITTED_STATUSES)
    buyers = users.filter(pk__in=orders.values("created_by"))
    approvers = users.filter(groups__name=roles.APPROVER, profile__organisation__in=orders.values("organisation"))
    return {u.email for group in (vendors, qualifiers, buyers, approvers) for u in group}


def report(ok: bool, message: str) -> bool:
    print(f"{'PASS' if ok else 'FAIL'} {message}", flush=True)
    return ok


def cmd_add_offer(args) -> int:
    """A provider with a vendor, an offer and a qualified decision valid until `valid_until` (check data)."""
    until = date.fromisoformat(args.valid_until)
    provider, _ = Provider.objects.get_or_create(name=args.provider, defaults={
        "slug": slugify(args.provider), "seat_country": "FR",
        "largest_non_eu_holding": 0, "total_non_eu_holding": 0, "data_locations": ["FR"]})
    make_user(roles.VENDOR, provider=provider, username=f"vendeur-{provider.slug}")
    offer, _ = Offer.objects.get_or_create(provider=provider, name=args.offer, defaults={
        "slug": slugify(f"{provider.slug} {args.offer}"), "service_model": "IaaS",
        "state": "published"})
    Qualification.objects.get_or_create(offer=offer, is_current=True, defaults={
        "status": "qualified", "qualified_on": until.replace(year=until.year - 2), "valid_until": until})
    print(f"offer {offer} qualified until {until}")
    return 0


def cmd_count(args) -> int:
    print(len(mails()))
    return 0


def cmd_wait_sent(args) -> int:
    """Wait (bounded) until every notification with an address is sent and the mails are all on disk."""
    deadline = time.monotonic() + args.timeout
    while True:
        unsent = Notification.objects.filter(email_sent_at__isnull=True).exclude(recipient__email="").count()
        sent = Notification.objects.filter(email_sent_at__isnull=False).count()
        on_disk = len(mails())
        if unsent == 0 and on_disk >= sent and sent >= args.at_least:
            return 0 if report(True, f"outbox drained: {sent} notification(s) sent, {on_disk} mail(s) on disk") else 1
        if time.monotonic() > deadline:
            report(False, f"outbox not drained after {args.timeout}s: {unsent} unsent, {sent} sent, "
                          f"{on_disk} on disk")
            return 1
        time.sleep(0.5)


def cmd_expect_once(args) -> int:
    """Each expected address got exactly one message about the offer whose subject has `subject`; nobody else."""
    offer = Offer.objects.get(provider__name=args.provider, name=args.offer)
    expected = audience(offer)
    about = [m for m in mails() if args.subject in m["Subject"] and args.offer in m["Subject"]]
    received = Counter(address.addr_spec for m in about for address in m["To"].addresses)
    ok = report(bool(expected) and len(expected) >= args.at_least,
                f"{args.label}: {len(expected)} people must be told: {', '.join(sorted(expected))}")
    for address in sorted(expected | set(received)):
        count = received.get(address, 0)
        wanted = 1 if address in expected else 0
        ok &= report(count == wanted, f"{args.label}: {address} received {count} mail(s), expected {wanted}")
    ids = Counter(m["X-Courtier-Notification"] for m in mails())
    twice = sorted(key for key, count in ids.items() if count > 1)
    ok &= report(not twice, f"no notification mailed twice overall ({len(ids)} distinct)"
                 + (f"; twice: {', '.join(twice)}" if twice else ""))
    return 0 if ok else 1


def cmd_expect_count(args) -> int:
    count = len(mails())
    ok = report(count == args.count, f"{args.label}: {count} mail(s) on disk, expected {args.count}")
    return 0 if ok else 1


def cmd_expect_recorded(args) -> int:
    """After a scan with the broker down: alerts and notifications are recorded, their mails still unsent."""
    offer = Offer.objects.get(provider__name=args.provider, name=args.offer)
    alerts = QualificationAlert.objects.filter(qualification__offer=offer).count()
    rows = Notification.objects.filter(link=offer.get_absolute_url(), kind=args.kind)
    unsent = rows.filter(email_sent_at__isnull=True).count()
    ok = report(alerts > 0, f"{args.label}: {alerts} alert(s) recorded for {offer}")
    ok &= report(rows.count() > 0 and unsent == rows.count(),
                 f"{args.label}: {rows.count()} notification(s) recorded, {unsent} waiting for their e-mail")
    return 0 if ok else 1


def cmd_expect_no_alert(args) -> int:
    """The interrupted scan left nothing half-written for the offer (its transaction was rolled back)."""
    offer = Offer.objects.get(provider__name=args.provider, name=args.offer)
    alerts = QualificationAlert.objects.filter(qualification__offer=offer).count()
    ok = report(alerts == 0, f"{args.label}: {alerts} alert(s) committed by the killed scan, expected 0")
    return 0 if ok else 1


def cmd_hold_lock(args) -> int:
    """Block inserts into the notification table until `release_file` exists (or `seconds` pass).

    The scan then stops deterministically in the middle of its transaction, which is where
    the check kills the worker.
    """
    release = Path(args.release_file)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {Notification._meta.db_table} IN SHARE MODE")
        print("locked", flush=True)
        deadline = time.monotonic() + args.seconds
        while not release.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    print("released", flush=True)
    return 0


def cmd_wait_blocked(args) -> int:
    """Wait (bounded) until another session waits for the lock on the notification table."""
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass",
                [Notification._meta.db_table],
            )
            if cursor.fetchone()[0]:
                return 0 if report(True, "the scan is blocked in the middle of its transaction") else 1
        time.sleep(0.2)
    report(False, f"the scan never reached the notification insert within {args.timeout}s")
    return 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="outbox_check")
    commands = parser.add_subparsers(dest="command", required=True)
    command = commands.add_parser("add-offer")
    command.add_argument("--provider", required=True)
    command.add_argument("--offer", required=True)
    command.add_argument("--valid-until", required=True)
    command.set_defaults(run=cmd_add_offer)
    commands.add_parser("count").set_defaults(run=cmd_count)
    command = commands.add_parser("wait-sent")
    command.add_argument("--timeout", type=float, default=60)
    command.add_argument("--at-least", type=int, default=1)
    command.set_defaults(run=cmd_wait_sent)
    for name, run in (("expect-once", cmd_expect_once), ("expect-recorded", cmd_expect_recorded),
                      ("expect-no-alert", cmd_expect_no_alert)):
        command = commands.add_parser(name)
        command.add_argument("--provider", required=True)
        command.add_argument("--offer", required=True)
        command.add_argument("--subject", default="")
        command.add_argument("--kind", default="qualification_expiring")
        command.add_argument("--label", required=True)
        command.add_argument("--at-least", type=int, default=1)
        command.set_defaults(run=run)
    command = commands.add_parser("expect-count")
    command.add_argument("--count", type=int, required=True)
    command.add_argument("--label", required=True)
    command.set_defaults(run=cmd_expect_count)
    command = commands.add_parser("hold-lock")
    command.add_argument("--release-file", required=True)
    command.add_argument("--seconds", type=float, default=90)
    command.set_defaults(run=cmd_hold_lock)
    command = commands.add_parser("wait-blocked")
    command.add_argument("--timeout", type=float, default=30)
    command.set_defaults(run=cmd_wait_blocked)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
