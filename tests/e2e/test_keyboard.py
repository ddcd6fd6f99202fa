"""Keyboard only: from the home page, search, open an offer, fill the order form and submit it.

After signing in, the journey uses nothing but page.keyboard (Tab, Enter, typing): every control on the way
must be reachable in order, and the focused one must show the DSFR's focus ring.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e

OFFER = "Scalingo PaaS"
MAX_TABS = 150

# What the focused element is, and whether it shows a focus indicator (outline or box-shadow) in the viewport.
FOCUS_PROBE = """() => {
  const el = document.activeElement;
  const box = el.getBoundingClientRect();
  const ring = (style) => (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
    || (style.boxShadow && style.boxShadow !== 'none');
  // The DSFR draws the ring on the element, on its ::before (links that enlarge to a whole card or
  // tile), or on the ticked box drawn by the label of a checkbox or radio.
  const candidates = [getComputedStyle(el), getComputedStyle(el, '::before'), getComputedStyle(el, '::after')];
  if (el.labels && el.labels.length) candidates.push(getComputedStyle(el.labels[0], '::before'));
  const shown = candidates.find(ring);
  return {
    tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name') || '',
    text: (el.innerText || el.value || '').trim().slice(0, 80), href: el.getAttribute('href') || '',
    ring: shown ? `${shown.outlineStyle} ${shown.outlineWidth} ${shown.outlineColor} ${shown.boxShadow}` : 'none',
    visible: Boolean(shown) && box.width > 0 && box.height > 0,
    inViewport: box.bottom > 0 && box.top < window.innerHeight,
  };
}"""


def focused(page) -> dict:
    return page.evaluate(FOCUS_PROBE)


def assert_focus_visible(page) -> dict:
    state = focused(page)
    assert state["visible"] and state["inViewport"], f"focus not visible: {state}"
    return state


def date_keystrokes(new_page, day) -> str:
    """The digits to type for `day` in a date field, in the browser's own field order (its UI language's)."""
    probe = new_page()
    probe.set_content('<input type="date" id="probe">')
    probe.focus("#probe")
    probe.keyboard.type("01022003")
    value = probe.input_value("#probe")
    probe.close()
    return day.strftime({"2003-01-02": "%m%d%Y", "2003-02-01": "%d%m%Y"}.get(value, "%Y%m%d"))


def tab_until(page, matches, *, what: str) -> dict:
    """Press Tab until the focused element matches; fail if it is never reached."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        state = focused(page)
        if matches(state):
            return state
    raise AssertionError(f"{what} never received the keyboard focus")


def test_keyboard_only_search_and_order(demo, new_page, journey):
    """Skip link first, visible focus, and a search-to-submitted-order journey with the keyboard alone."""
    from catalogue.selectors import today_local
    from procurement.models import Order, OrderStatus

    shots = journey("keyboard")
    page = new_page()
    login(page, "acheteur")
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "fr"

    # The first Tab stop is the skip link to the content, and it shows.
    page.keyboard.press("Tab")
    first = assert_focus_visible(page)
    assert (first["tag"], first["href"], first["text"]) == ("a", "#content", "Contenu")
    shots.shot(page, "skip-link")
    page.keyboard.press("Enter")
    assert page.url.endswith("#content")

    # The skip link moved the focus to the content: the next stop is the search field. Type and submit.
    page.keyboard.press("Tab")
    assert assert_focus_visible(page)["id"] == "home-search-input"
    page.keyboard.type("Scalingo")
    shots.shot(page, "search-typed")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/catalogue/\?q=Scalingo"))

    # The result's title link, then the offer's "Commander".
    tab_until(page, lambda s: s["tag"] == "a" and s["text"] == OFFER, what="the result link")
    assert_focus_visible(page)
    shots.shot(page, "result-focused")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(OFFER)
    tab_until(page, lambda s: s["id"] == "order-link", what="the order link")
    assert_focus_visible(page)
    shots.shot(page, "order-link-focused")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle commande")

    # The form, field by field. The lot is preselected (one choice), the sensitivity defaults to non-sensitive.
    tab_until(page, lambda s: s["name"] == "quantity", what="the quantity field")
    assert_focus_visible(page)
    page.keyboard.type("24")
    ends_on = today_local() + timedelta(days=365)
    keystrokes = date_keystrokes(new_page, ends_on)
    tab_until(page, lambda s: s["name"] == "ends_on", what="the end date")
    page.keyboard.type(keystrokes)
    assert page.locator("[name=ends_on]").input_value() == ends_on.isoformat()
    tab_until(page, lambda s: s["name"] == "justification", what="the justification")
    page.keyboard.type("Hébergement de l'application de démarches (2 conteneurs pendant 12 mois).")
    assert_focus_visible(page)
    shots.shot(page, "form-filled")
    tab_until(page, lambda s: s["tag"] == "button" and s["text"] == "Enregistrer le brouillon", what="save")
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_have_text("Brouillon")
    shots.shot(page, "draft")

    # Submit for validation.
    tab_until(page, lambda s: s["tag"] == "button" and s["text"] == "Soumettre à validation", what="submit")
    assert_focus_visible(page)
    shots.shot(page, "submit-focused")
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_have_text("Soumise")
    shots.shot(page, "submitted")

    order = Order.objects.get(offer__name=OFFER, created_by__username="acheteur")
    assert order.status == OrderStatus.SUBMITTED
    assert (order.quantity, order.sensitivity, order.ends_on) == (24, "non_sensitive", ends_on)
