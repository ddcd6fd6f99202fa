#!/usr/bin/env bash
# A real Celery worker on the real Redis and PostgreSQL: the daily scan goes through the queue and its
# e-mails arrive exactly once, after a rerun, after the worker is killed mid-scan, and after Redis was down.
#
# Needs: .venv, PostgreSQL and Redis running, DATABASE_URL and REDIS_URL exported by the caller.
# The database named in DATABASE_URL is dropped and recreated; the Redis database in REDIS_URL is flushed,
# and Redis itself is shut down and restarted once (the "Redis down" case): give it a Redis of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${DATABASE_URL:?DATABASE_URL must name the PostgreSQL database to use (it is recreated)}"
: "${REDIS_URL:?REDIS_URL must name the Redis database to use (it is flushed)}"

PY=.venv/bin/python
CELERY=.venv/bin/celery
WORK=$(mktemp -d -t courtier-worker-check.XXXXXX)
export EMAIL_URL=filemail:// EMAIL_FILE_PATH="$WORK/mail"
export DEMO_PASSWORD="${DEMO_PASSWORD:-worker-check-demo-password}"
export SECURE_HTTPS=false STATIC_MANIFEST=false SITE_URL="${SITE_URL:-https://courtier.example.gouv.fr}"
mkdir -p "$EMAIL_FILE_PATH"

REDIS_HOST=$($PY -c 'import os, urllib.parse as u; print(u.urlparse(os.environ["REDIS_URL"]).hostname or "127.0.0.1")')
REDIS_PORT=$($PY -c 'import os, urllib.parse as u; print(u.urlparse(os.environ["REDIS_URL"]).port or 6379)')

started=$(date +%s)
failures=0
worker_pid=""
holder_pid=""
redis_stopped=0

say() { printf '[worker-check %3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
check() { "$PY" -m tests.worker.outbox_check "$@" || failures=$((failures + 1)); }

stop_worker() {
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM -- "-$worker_pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$worker_pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$worker_pid" 2>/dev/null || true
  fi
  worker_pid=""
}

start_redis() {
  redis-server --bind "$REDIS_HOST" --port "$REDIS_PORT" --daemonize yes --save "" --appendonly no >/dev/null
  for _ in $(seq 1 40); do redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.25; done
  redis_stopped=0
}

cleanup() {
  local status=$?
  stop_worker
  if [ -n "$holder_pid" ]; then touch "$WORK/release"; kill "$holder_pid" 2>/dev/null || true; fi
  if [ "$redis_stopped" = 1 ]; then start_redis; fi
  if [ "$status" != 0 ] || [ "$failures" != 0 ]; then
    echo "Worker logs and mails kept in $WORK"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

# The worker runs in its own process group (setsid) so that SIGKILL reaches the pool processes too.
start_worker() {
  local log="$WORK/worker-$1.log"
  stop_worker
  setsid "$CELERY" -A broker worker --loglevel=INFO --concurrency=2 --without-mingle --without-gossip \
    --hostname "check-$1@%h" >"$log" 2>&1 &
  worker_pid=$!
  for _ in $(seq 1 120); do
    grep -q "ready\." "$log" 2>/dev/null && { say "worker $1 ready (pid $worker_pid)"; return 0; }
    kill -0 "$worker_pid" 2>/dev/null || break
    sleep 0.25
  done
  fail "worker $1 did not start (see $log)"
  tail -20 "$log"
  exit 1
}

# Send a task through Redis and wait (bounded) until the worker reports it finished.
run_task() {
  local task=$1 kwargs=$2 id
  id=$("$CELERY" -A broker call "$task" --kwargs "$kwargs")
  for _ in $(seq 1 240); do
    if cat "$WORK"/worker-*.log | grep -q "\[$id\] succeeded"; then return 0; fi
    sleep 0.25
  done
  fail "task $task $kwargs ($id) did not finish within 60s"
  return 1
}

say "fresh database, migrations, demo data"
"$PY" - <<'PYTHON'
import os
import urllib.parse

import psycopg

url = urllib.parse.urlparse(os.environ["DATABASE_URL"])
name = url.path.lstrip("/")
admin = url._replace(path="/postgres").geturl()
with psycopg.connect(admin, autocommit=True) as connection:
    connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.execute(f'CREATE DATABASE "{name}"')
PYTHON
redis-cli -u "$REDIS_URL" flushdb >/dev/null
"$PY" manage.py migrate --noinput -v 0
# The demo orders are those of 2026-11-22, before 3DS Outscale's qualification lapses (2026-11-30).
"$PY" manage.py seed_demo --today 2026-11-22 >"$WORK/seed.log"

start_worker 1

say "1. the scan of 2026-12-01 through the queue"
run_task catalogue.tasks.scan_qualifications_task '{"today_iso": "2026-12-01"}'
check wait-sent --timeout 60 --at-least 4
check expect-once --provider "3DS Outscale" --offer "IaaS Cloud on Demand" --subject "expirée" \
  --label "3DS Outscale expiry" --at-least 4
after_first=$("$PY" -m tests.worker.outbox_check count)

say "2. the same scan again: nothing new"
run_task catalogue.tasks.scan_qualifications_task '{"today_iso": "2026-12-01"}'
sleep 2
check expect-count --count "$after_first" --label "rerun of 2026-12-01"

say "3. the worker killed (SIGKILL) in the middle of the scan of 2026-12-02, then restarted"
# A decision ending three days after the scan day, added now so that no earlier scan warned about it.
"$PY" -m tests.worker.outbox_check add-offer --provider "Contrôle Arrêt" --offer "Cloud arrêt" --valid-until 2026-12-05
"$PY" -m tests.worker.outbox_check hold-lock --release-file "$WORK/release" >"$WORK/holder.log" 2>&1 &
holder_pid=$!
for _ in $(seq 1 80); do grep -q locked "$WORK/holder.log" && break; sleep 0.25; done
"$CELERY" -A broker call catalogue.tasks.scan_qualifications_task --kwargs '{"today_iso": "2026-12-02"}' >/dev/null
if "$PY" -m tests.worker.outbox_check wait-blocked --timeout 30; then
  kill -KILL -- "-$worker_pid"
  wait "$worker_pid" 2>/dev/null || true
  worker_pid=""
  pass "worker killed with SIGKILL while the scan held an open transaction"
else
  failures=$((failures + 1))
  stop_worker
fi
touch "$WORK/release"
wait "$holder_pid" 2>/dev/null || true
holder_pid=""
sleep 1
check expect-no-alert --provider "Contrôle Arrêt" --offer "Cloud arrêt" --label "killed scan"
check expect-count --count "$after_first" --label "no mail from the killed scan"
start_worker 2
run_task catalogue.tasks.scan_qualifications_task '{"today_iso": "2026-12-02"}'
check wait-sent --timeout 60
check expect-once --provider "Contrôle Arrêt" --offer "Cloud arrêt" --subject "fin de validité" \
  --label "scan of 2026-12-02 after the restart"
after_restart=$("$PY" -m tests.worker.outbox_check count)
run_task catalogue.tasks.scan_qualifications_task '{"today_iso": "2026-12-02"}'
sleep 2
check expect-count --count "$after_restart" --label "rerun of 2026-12-02"

say "4. Redis down during the scan of 2026-12-03"
"$PY" -m tests.worker.outbox_check add-offer --provider "Contrôle Redis" --offer "Cloud panne" --valid-until 2026-12-06
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
redis_stopped=1
for _ in $(seq 1 40); do redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping >/dev/null 2>&1 || break; sleep 0.25; done
if "$PY" manage.py scan_qualifications --today 2026-12-03 >"$WORK/scan-redis-down.log" 2>&1; then
  pass "the scan completed with Redis down"
else
  fail "the scan failed with Redis down (see $WORK/scan-redis-down.log)"
fi
sed 's/^/    /' "$WORK/scan-redis-down.log"
check expect-recorded --provider "Contrôle Redis" --offer "Cloud panne" --label "Redis down"
check expect-count --count "$after_restart" --label "no mail while Redis is down"
start_redis
say "Redis restarted; the periodic resend runs"
run_task procurement.tasks.send_pending_emails_task '{"older_than_seconds": 0}'
check wait-sent --timeout 60
check expect-once --provider "Contrôle Redis" --offer "Cloud panne" --subject "fin de validité" \
  --label "mail sent once Redis is back"
after_resend=$("$PY" -m tests.worker.outbox_check count)
run_task procurement.tasks.send_pending_emails_task '{"older_than_seconds": 0}'
sleep 1
check expect-count --count "$after_resend" --label "second resend sends nothing"

stop_worker
if [ "$failures" = 0 ]; then
  say "all worker checks passed"
else
  say "$failures worker check(s) failed"
  exit 1
fi
