# Shared by backup_check.sh and migrations_check.sh (sourced, not run): PostgreSQL helpers.
# Needs DATABASE_URL (postgres://user:password@host:port/name) naming a scratch database: it is dropped.
: "${DATABASE_URL:?DATABASE_URL must name a scratch PostgreSQL database (it is dropped and recreated)}"
PY=.venv/bin/python
# pg_dump and pg_restore must match the server's major version (15): Debian keeps them here.
if [ -d /usr/lib/postgresql/15/bin ]; then PATH="/usr/lib/postgresql/15/bin:$PATH"; fi
DB_NAME=$($PY -c 'import os, urllib.parse as u; print(u.urlparse(os.environ["DATABASE_URL"]).path.lstrip("/"))')
# The same server, its maintenance database: where a database is dropped and created.
ADMIN_URL=$($PY -c 'import os, urllib.parse as u; p = u.urlparse(os.environ["DATABASE_URL"]); print(u.urlunparse(p._replace(path="/postgres")))')
case "$DB_NAME" in
  ""|postgres|template0|template1) echo "refusing to drop the database '$DB_NAME'" >&2; exit 2 ;;
esac
export DJANGO_SETTINGS_MODULE=broker.settings SECURE_HTTPS=false STATIC_MANIFEST=false
export EMAIL_URL=memorymail:// PGOPTIONS="-c client_min_messages=warning"
export DEMO_PASSWORD="${DEMO_PASSWORD:-ci-demo-password-0123}"

started=$(date +%s)
say() { printf '[%s %3ss] %s\n' "$CHECK" "$(( $(date +%s) - started ))" "$*"; }

recreate_database() {
  psql -q -v ON_ERROR_STOP=1 "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB_NAME\" WITH (FORCE)" \
    -c "CREATE DATABASE \"$DB_NAME\""
}

# One line per table of the public schema: "name count", sorted by name.
count_rows() {
  psql -q -At -F ' ' -v ON_ERROR_STOP=1 "$DATABASE_URL" -c "
    SELECT table_name,
           (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name),
                                                 false, true, '')))[1]::text::bigint
    FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
    ORDER BY table_name"
}
