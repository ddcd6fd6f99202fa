#!/usr/bin/env bash
# End-to-end tests in a real browser: Playwright drives Debian's Chromium (headless) against the app
# on pytest-django's live server, seeded with the demo data; axe-core checks the main pages.
# Screenshots and the axe report go to artifacts/e2e/. The last line printed is pytest's own summary.
# Runs on the default SQLite, or on whatever DATABASE_URL says.
set -euo pipefail
cd "$(dirname "$0")/.."

export E2E_CHROMIUM="${E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$E2E_CHROMIUM" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Playwright's Python package (its wheel carries the driver) and axe-core: never a browser download.
if ! .venv/bin/python -c "import playwright, axe_playwright_python" 2>/dev/null; then
  .venv/bin/pip install --quiet -r requirements-dev.txt
fi
"$E2E_CHROMIUM" --version 2>/dev/null || true

rm -rf artifacts/e2e
mkdir -p artifacts/e2e
E2E_TESTS=1 .venv/bin/pytest tests/e2e -m e2e -p no:cacheprovider -rfEx
