"""axe-core on the main pages, as their readers see them: no violation of serious or critical impact."""

from __future__ import annotations

import pytest

from tests.e2e import axe
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

# Name, path, who reads it (None: anonymous). The catalogue with keywords and facets; the order form of a
# referenced offer; the observatory as a catalogue manager.
PAGES = [
    ("home", "/", None),
    ("catalogue", "/catalogue/?q=cloud&service_model=IaaS&eligible_for=sensitive", None),
    ("offer", "/catalogue/{offer}/", None),
    ("order-form", "/commandes/nouvelle/?offer={offer}", "acheteur"),
    ("vendor-space", "/espace-fournisseur/", "fournisseur"),
    ("observatory", "/observatoire/", "dinum"),
]

# A desktop screen, and a phone's, where wide tables scroll and the header folds into a menu button.
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 375, "height": 800}}

# The demo offer checked: qualified, referenced in the framework, with a qualification history.
OFFER_NAME = "SNC Cloud Platform"


@pytest.mark.parametrize("screen", list(VIEWPORTS))
@pytest.mark.parametrize(("name", "path", "username"), PAGES, ids=[page[0] for page in PAGES])
def test_page_has_no_serious_or_critical_violation(demo, new_page, journey, name, path, username, screen):
    """axe-core finds no serious or critical violation on the page, with the DSFR's styles loaded."""
    from catalogue.models import Offer

    name = name if screen == "desktop" else f"{name}-{screen}"
    page = new_page(viewport=VIEWPORTS[screen])
    if username:
        login(page, username)
    offer = Offer.objects.get(name=OFFER_NAME)
    response = page.goto(path.format(offer=offer.slug))
    assert response.status == 200
    # axe runs under the site's own strict Content Security Policy (evaluate() is not subject to it).
    assert "script-src" in response.headers["content-security-policy"]
    assert page.locator("html").get_attribute("lang") == "fr"
    # The DSFR's stylesheet is applied (colour contrast would mean nothing without it).
    assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Marianne")
    # The DSFR's skip links come first and each leads somewhere on the page.
    targets = page.locator(".fr-skiplinks a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert targets[0] == "#content"
    assert all(page.locator(target).count() >= 1 for target in targets), targets
    journey(f"axe-{name}").shot(page, name)

    summary = axe.run(page, name)

    assert axe.blocking(summary) == []
