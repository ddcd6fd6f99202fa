"""axe-core in the page (the copy bundled by axe-playwright-python, never a CDN), and the run's report.

Playwright's `page.evaluate` runs through the DevTools protocol, which the page's Content Security
Policy does not govern: axe is injected without loosening the site's CSP.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

IMPACTS = ("critical", "serious", "moderate", "minor")
BLOCKING = ("critical", "serious")

# Page name -> summary of its axe run, in the order the pages were checked.
RESULTS: dict[str, dict] = {}


def _axe_source() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return Axe().axe_script


def run(page, name: str) -> dict:
    """Run every axe rule on the page as shown; record and return its summary."""
    page.evaluate(_axe_source())
    raw = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    violations = [
        {"id": rule["id"], "impact": rule["impact"], "help": rule["help"], "helpUrl": rule["helpUrl"],
         "nodes": [{"target": node["target"], "html": node["html"][:300], "summary": node.get("failureSummary", "")}
                   for node in rule["nodes"]]}
        for rule in raw["violations"]
    ]
    summary = {
        "url": page.url,
        "axe_version": raw["testEngine"]["version"],
        "passes": len(raw["passes"]),
        "incomplete": len(raw["incomplete"]),
        # Checks axe could not decide alone (for example contrast over a gradient): to review by a person.
        "incomplete_rules": {rule["id"]: [node["target"] for node in rule["nodes"]] for rule in raw["incomplete"]},
        "violations_by_impact": dict(Counter(rule["impact"] for rule in violations)),
        "violations": violations,
    }
    RESULTS[name] = summary
    return summary


def blocking(summary: dict) -> list[str]:
    """The serious and critical violations, one readable line per node."""
    return [f"{rule['impact']} {rule['id']} ({rule['help']}): {node['target']} {node['html']}"
            for rule in summary["violations"] if rule["impact"] in BLOCKING for node in rule["nodes"]]


def summary_lines() -> list[str]:
    lines = []
    for name, summary in RESULTS.items():
        counts = summary["violations_by_impact"]
        by_impact = ", ".join(f"{impact} {counts.get(impact, 0)}" for impact in IMPACTS)
        rules = ", ".join(f"{rule['id']}({rule['impact']})" for rule in summary["violations"]) or "none"
        review = ", ".join(summary["incomplete_rules"]) or "none"
        lines.append(f"{name:<20} violations: {by_impact} ({rules}); passes {summary['passes']}; "
                     f"to review: {review}")
    return lines


def write_report(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(RESULTS, indent=2, ensure_ascii=False), encoding="utf-8")
    return path
