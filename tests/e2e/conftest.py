"""End-to-end fixtures: Debian's Chromium driven by Playwright against the app on pytest-django's live server.

The tests run only when E2E_TESTS=1 (the default suite stays fast) and Chromium is installed
(.ci/e2e.sh installs it). Each test gets the demo data seeded by the real `seed_demo` command, a
headless browser context per person, and a screenshot helper writing to artifacts/e2e/<journey>/.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import call_command

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
E2E_DIR = Path(__file__).resolve().parent
# Default wait for one locator or navigation: generous for a 2-core machine shared by other work.
TIMEOUT_MS = 20_000


def _skip_reason() -> str | None:
    if os.environ.get("E2E_TESTS") != "1":
        return "end-to-end browser tests run only with E2E_TESTS=1 (see .ci/e2e.sh)"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM}: apt-get install chromium"
    return None


if _skip_reason() is None:
    # Playwright's sync API runs an event loop in this thread, which makes Django refuse ORM calls from it
    # (SynchronousOnlyOperation). The tests are synchronous code in a plain thread: allow them, in e2e runs only.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # Bind the live server to the IPv4 loopback: Chromium may resolve "localhost" to ::1 first.
    os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")


def pytest_collection_modifyitems(config, items) -> None:
    """Skip every test of tests/e2e unless enabled and Chromium is there."""
    reason = _skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).parents:
            item.add_marker(skip)


# --- The browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


# Says in the console which element or source broke the Content Security Policy (the browser's own message
# names only the directive). Injected by Playwright, outside the page's CSP.
CSP_REPORTER = """document.addEventListener('securitypolicyviolation', (event) => console.error(
  `CSP violation: ${event.violatedDirective} by ${(event.target && event.target.outerHTML || '').slice(0, 200)}`
  + ` at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber} sample=${event.sample}`), true);"""


def _console_error(message) -> bool:
    """An error in the browser's console, except the admin's missing favicon (the admin declares none)."""
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def new_page(browser, live_server):
    """new_page() opens a page in a fresh context (its own cookies: one person), on the live server."""
    contexts = []
    errors: list[str] = []

    def open_page(**options):
        settings = {"base_url": live_server.url, "locale": "fr-FR", "viewport": {"width": 1280, "height": 900}}
        context = browser.new_context(**{**settings, **options})
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.add_init_script(CSP_REPORTER)
        # Script errors and console errors (a CSP violation is one) fail the test.
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: _console_error(message) and errors.append(f"{page.url}: {message.text}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, "errors in the browser:\n" + "\n".join(errors)


# --- Data --------------------------------------------------------------------------


DEMO_PASSWORD = "demo-password-for-e2e"


@pytest.fixture
def demo(transactional_db, live_server, settings):
    """The demo catalogue, framework, organisations, users and orders, seeded by the real command."""
    from catalogue.selectors import today_local

    settings.DEMO_PASSWORD = DEMO_PASSWORD
    out = io.StringIO()
    call_command("seed_demo", "--today", today_local().isoformat(), stdout=out)
    return out.getvalue()


def login(page, username: str, *, next_path: str = "/") -> None:
    """Sign in through the real login page, as a person would, and land on `next_path`."""
    page.goto(f"/connexion/?next={next_path}")
    page.get_by_label("Identifiant", exact=True).fill(username)
    page.get_by_label("Mot de passe", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()
    assert "/connexion/" not in page.url, f"login failed for {username}: {page.url}"


# --- Artifacts ---------------------------------------------------------------------


@dataclass
class Journey:
    """Screenshots of one journey's key pages, numbered in order: artifacts/e2e/<journey>/NN-name.png."""

    name: str
    started: float = field(default_factory=time.monotonic)
    count: int = 0

    def __post_init__(self) -> None:
        self.folder = ARTIFACTS / self.name
        if self.folder.exists():
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True)

    def shot(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        # caret="initial": Playwright adds no style attribute to hide the caret (the page's CSP would refuse it
        # when the DSFR's script re-applies it, and report a violation that is the test's own).
        page.screenshot(path=str(path), full_page=True, caret="initial")
        return path


# Per journey: its duration, for the summary printed at the end of the run.
DURATIONS: dict[str, tuple[float, str, int]] = {}


@pytest.fixture
def journey(request):
    """journey(name) starts the screenshots and the clock of a named journey."""
    started: list[Journey] = []

    def start(name: str) -> Journey:
        started.append(Journey(name))
        return started[-1]

    yield start
    for item in started:
        outcome = getattr(request.node, "rep_call", None)
        status = outcome.outcome if outcome is not None else "?"
        DURATIONS[item.name] = (time.monotonic() - item.started, status, item.count)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def summary_lines() -> list[str]:
    from tests.e2e import axe

    lines = []
    if DURATIONS:
        lines.append("end-to-end journeys (duration without the demo seeding)")
        lines += [f"  {name:<26} {status:<8} {seconds:6.1f}s  {shots} screenshot(s) in artifacts/e2e/{name}/"
                  for name, (seconds, status, shots) in DURATIONS.items()]
    if axe.RESULTS:
        lines.append("accessibility (axe-core): violations by impact, rules passed, checks to review by hand")
        lines += [f"  {line}" for line in axe.summary_lines()]
        report = axe.write_report(ARTIFACTS / "axe-report.json")
        lines.append(f"  full report: {report.relative_to(ARTIFACTS.parents[1])}")
    return lines


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the journeys' durations and the axe summary, and keep them in artifacts/e2e/summary.txt."""
    lines = summary_lines()
    if not lines:
        return
    terminalreporter.section("end-to-end summary")
    for line in lines:
        terminalreporter.write_line(line)
    (ARTIFACTS / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
