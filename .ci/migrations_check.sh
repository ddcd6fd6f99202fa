#!/usr/bin/env bash
# Migrations apply forward and backward on PostgreSQL: migrate to the latest, load the demo data, unapply
# Courtier's apps to zero one by one (dependents first: audit, procurement, catalogue), then migrate forward
# again and load the demo data again.
#
# Needs: .venv, PostgreSQL, DATABASE_URL naming a SCRATCH database (it is dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=migrations-check
source .ci/pg_common.sh
failures=0
run() {  # run "description" command...: PASS/FAIL line, the command's output only on failure
  local what=$1; shift
  local out
  if out=$("$@" 2>&1); then echo "PASS $what"; else echo "$out" | tail -20; echo "FAIL $what"; failures=$((failures + 1)); fi
}

say "recreate $DB_NAME"
recreate_database
run "migrate forward to the latest" $PY manage.py migrate --no-input
run "seed_demo on the migrated schema" $PY manage.py seed_demo --today 2026-11-22
for app in audit procurement catalogue; do
  run "migrate $app zero (backward)" $PY manage.py migrate "$app" zero --no-input
done
left=$(psql -At "$DATABASE_URL" -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'
  AND (table_name LIKE 'catalogue\_%' OR table_name LIKE 'procurement\_%' OR table_name LIKE 'audit\_%')")
if [ "$left" = "0" ]; then echo "PASS no table of catalogue, procurement or audit is left"; else
  echo "FAIL $left tables of catalogue, procurement or audit are left after migrating to zero"; failures=$((failures + 1)); fi
run "migrate forward again" $PY manage.py migrate --no-input
run "the schema is fully migrated" $PY manage.py migrate --check
run "seed_demo again on the re-created schema" $PY manage.py seed_demo --today 2026-11-22
say "done"
if [ "$failures" -ne 0 ]; then echo "FAIL migrations-check: $failures failure(s)"; exit 1; fi
echo "PASS migrations-check"
