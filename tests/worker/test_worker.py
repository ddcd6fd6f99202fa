"""The scan through a real Celery worker on Redis and PostgreSQL: e-mails arrive, once.

Skipped unless CELERY_WORKER_TESTS=1, with REDIS_URL (a scratch Redis database) and a
PostgreSQL DATABASE_URL: the worker is a separate process that must see the test
database, so the data is committed (transaction=True). The fuller scenario (worker
killed mid-scan, Redis down) is .ci/worker_check.sh.

    CELERY_WORKER_TESTS=1 REDIS_URL=redis://127.0.0.1:6379/5 \\
    DATABASE_URL=postgres://courtier:courtier@127.0.0.1:5432/courtier_me .venv/bin/pytest tests/worker -m worker
"""

from __future__ import annotations

import email
import email.policy
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection

from broker import roles
from catalogue.models import QualificationStatus
from catalogue.tasks import scan_qualifications_task
from procurement.models import Notification
from tests.factories import OfferFactory, ProviderFactory, QualificationFactory, make_user

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(os.environ.get("CELERY_WORKER_TESTS") != "1", reason="set CELERY_WORKER_TESTS=1"),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real broker)"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker must share the database"),
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path, django_db_blocker):
    """A real worker on the test database, writing e-mails as files into tmp_path/mail."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {**os.environ, "DATABASE_URL": _database_url(), "EMAIL_URL": "filemail://",
           "EMAIL_FILE_PATH": str(mail_dir), "CONN_MAX_AGE": "0"}
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "broker", "worker", "--loglevel=INFO",
         "--concurrency=2", "--without-mingle", "--without-gossip", "--hostname", f"pytest-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while "ready." not in (tmp_path / "worker.log").read_text():
        assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
        time.sleep(0.2)
    yield SimpleNamespace(mail_dir=mail_dir, log=tmp_path / "worker.log")
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


def _mails(mail_dir: Path) -> list:
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        for chunk in path.read_bytes().split(b"-" * 79 + b"\n"):
            if chunk.strip():
                messages.append(email.message_from_bytes(chunk, policy=email.policy.default))
    return messages


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_scan_through_the_queue_mails_everyone_once(worker, users):
    """The task sent to Redis runs on the worker; each person gets one e-mail; a rerun sends none."""
    outscale = ProviderFactory(name="3DS Outscale", slug="3ds-outscale")
    offer = OfferFactory(provider=outscale, name="IaaS Cloud on Demand")
    qualification = QualificationFactory(offer=offer, qualified_on=date(2023, 11, 30),
                                         valid_until=date(2026, 11, 30), decision_number="2118")
    vendor = make_user(roles.VENDOR, provider=outscale, username="vendeur-outscale")

    scan_qualifications_task.delay(today_iso="2026-12-01")

    _wait_for(lambda: len(_mails(worker.mail_dir)) >= 2 and not Notification.objects.filter(email_sent_at__isnull=True)
              .exclude(recipient__email="").exists())
    qualification.refresh_from_db()
    assert qualification.status == QualificationStatus.EXPIRED
    received = Counter(address.addr_spec for m in _mails(worker.mail_dir) for address in m["To"].addresses)
    assert received == Counter({vendor.email: 1, users["qualifier"].email: 1})

    rerun = scan_qualifications_task.delay(today_iso="2026-12-01")
    _wait_for(lambda: f"[{rerun.id}] succeeded" in worker.log.read_text())
    assert len(_mails(worker.mail_dir)) == 2
    assert Notification.objects.count() == 2
