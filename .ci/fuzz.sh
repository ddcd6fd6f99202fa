#!/usr/bin/env bash
# API fuzzing: schemathesis against /api/schema/ as each demo role, on a throwaway SQLite
# database seeded with the demo data. Fails on any 5xx or any response that does not match
# the OpenAPI schema. Self-contained: ignores DATABASE_URL and REDIS_URL from the caller.
#
# FUZZ_MAX_EXAMPLES (default 10) bounds the generated cases per operation in the fuzzing phase.
# Every role runs the examples and fuzzing phases; the coverage phase (deterministic boundary and
# negative cases, ~3,000 per role, most of the run time) runs for FUZZ_COVERAGE_ROLES only
# (default: acheteur, whose orders and searches take the most input), to stay within minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

max_examples="${FUZZ_MAX_EXAMPLES:-10}"
read -r -a roles <<<"${FUZZ_ROLES:-acheteur valideur fournisseur anssi dinum}"
coverage_roles=" ${FUZZ_COVERAGE_ROLES:-acheteur} "
work="$(mktemp -d)"
server_pid=""

cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

unset DATABASE_URL REDIS_URL
export DATABASE_URL="sqlite:///$work/fuzz.sqlite3"
export SECURE_HTTPS=false STATIC_MANIFEST=false DEBUG=false ALLOWED_HOSTS=127.0.0.1
export SECRET_KEY="fuzz-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
# The throttles are proved by tests/security; here they would only turn the fuzz into 429s.
export API_THROTTLE_USER=100000/minute API_THROTTLE_ANON=100000/minute TOKEN_THROTTLE_RATE=100000/minute
export EMAIL_URL=memorymail:// EMAIL_FILE_PATH="$work/mail"
export DEMO_PASSWORD="fuzz-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
# Keep the fuzzer's own example database out of the work tree.
export HYPOTHESIS_STORAGE_DIRECTORY="$work/hypothesis"

.venv/bin/python manage.py migrate --noinput --verbosity 0
.venv/bin/python manage.py seed_demo --today 2026-11-22 >/dev/null

port="$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
.venv/bin/gunicorn broker.wsgi:application --bind "127.0.0.1:$port" --workers 2 --threads 2 \
  --timeout 60 --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 60); do
  curl -fsS -o /dev/null "$base/api/schema/" 2>/dev/null && break
  sleep 0.5
done
curl -fsS -o "$work/schema.yml" "$base/api/schema/"

# Each token once, before the fuzzer sends the token endpoint wrong passwords.
declare -A tokens
for role in "${roles[@]}"; do
  tokens[$role]="$(curl -fsS -X POST "$base/api/v1/auth/token/" \
    -H 'Content-Type: application/json' \
    -d "{\"username\": \"$role\", \"password\": \"$DEMO_PASSWORD\"}" \
    | .venv/bin/python -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
done

status=0
summary=()
for role in "${roles[@]}"; do
  phases=examples,fuzzing
  [[ "$coverage_roles" == *" $role "* ]] && phases=examples,coverage,fuzzing
  printf '\n-- schemathesis as %s (%s; max %s examples per operation)\n' "$role" "$phases" "$max_examples"
  report="$work/report-$role"
  if .venv/bin/schemathesis run "$base/api/schema/" \
      --url "$base" \
      -H "Authorization: Token ${tokens[$role]}" \
      --checks not_a_server_error,response_schema_conformance \
      --max-examples "$max_examples" \
      --phases "$phases" \
      --generation-database none \
      --seed 7 \
      --request-timeout 30 \
      --workers 2 \
      --no-color \
      >"$report.log" 2>&1; then
    result=passed
  else
    result=FAILED
    status=1
  fi
  # A passing role prints its phases and case counts; a failing one its whole report. The
  # report's closing "=== … in Ns ===" banner is left out so the CI log ends with the test
  # runner's own summary rather than a banner that reads like an empty pytest run.
  if [ "$result" = passed ]; then
    sed -n '/^Test Phases:/,$p' "$report.log" | grep -Ev '^=+ .* =+$'
  else
    cat "$report.log"
  fi
  cases="$(grep -Eo '[0-9]+ generated' "$report.log" | tail -n 1 | grep -Eo '[0-9]+' || echo 0)"
  if [ -n "${FUZZ_KEEP:-}" ]; then cp "$report.log" "$FUZZ_KEEP/"; fi
  summary+=("$role: $cases cases, $result")
done

printf '\n== schemathesis summary\n'
printf '  %s\n' "${summary[@]}"
if grep -q "Traceback" "$work/server.log"; then
  printf '\n-- server errors\n'
  grep -A 40 "Traceback" "$work/server.log" | head -n 200
  status=1
fi
exit "$status"
