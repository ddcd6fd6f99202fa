#!/usr/bin/env bash
# Backup and restore, as README.md "Sauvegarde et restauration" describes it, on the demo data:
# migrate, seed_demo, count the rows of every table, pg_dump -Fc, drop the database, create it again,
# pg_restore, count again and compare; the schema must be fully migrated and the audit guard in place.
#
# Needs: .venv, PostgreSQL 15 with pg_dump/pg_restore, DATABASE_URL naming a SCRATCH database (it is dropped).
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=backup-check
source .ci/pg_common.sh
WORK=$(mktemp -d -t courtier-backup-check.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

say "recreate $DB_NAME, migrate, seed the demo data"
recreate_database
$PY manage.py migrate --no-input -v 0
$PY manage.py seed_demo --today 2026-11-22 >"$WORK/seed.log" 2>&1 || { tail -30 "$WORK/seed.log"; exit 1; }
count_rows >"$WORK/before.txt"
tables=$(wc -l <"$WORK/before.txt")
rows=$(awk '{ total += $2 } END { print total }' "$WORK/before.txt")
say "$tables tables, $rows rows"

say "pg_dump -Fc"
pg_dump -Fc --no-owner -f "$WORK/courtier.dump" "$DATABASE_URL"
say "dump: $(du -h "$WORK/courtier.dump" | cut -f1)"

say "drop the database, create it empty, pg_restore"
recreate_database
pg_restore --no-owner --exit-on-error -d "$DATABASE_URL" "$WORK/courtier.dump"
count_rows >"$WORK/after.txt"

failures=0
if diff -u "$WORK/before.txt" "$WORK/after.txt"; then
  echo "PASS same row counts in all $tables tables ($rows rows) after dump, drop and restore"
else
  echo "FAIL row counts differ after restore (diff above)"; failures=$((failures + 1))
fi
if $PY manage.py migrate --check -v 0; then
  echo "PASS the restored schema is fully migrated"
else
  echo "FAIL the restored database lacks migrations"; failures=$((failures + 1))
fi
if psql -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "DELETE FROM audit_auditevent" >/dev/null 2>&1; then
  echo "FAIL the audit trail's append-only trigger was not restored"; failures=$((failures + 1))
else
  echo "PASS the audit trail's append-only trigger is restored (DELETE refused)"
fi
say "done"
if [ "$failures" -ne 0 ]; then echo "FAIL backup-check: $failures failure(s)"; exit 1; fi
echo "PASS backup-check"
