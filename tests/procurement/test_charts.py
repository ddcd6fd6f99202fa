"""Server-side SVG charts: accessible names, every value written as text, escaping, nothing the CSP forbids."""

import re
from decimal import Decimal
from xml.etree import ElementTree

from procurement import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(str(svg))


def texts(svg: str) -> list[str]:
    return [element.text for element in parse(svg).iter(f"{SVG}text")]


def test_bar_chart_has_title_desc_and_every_value():
    """role=img named by its <title> and <desc>; each bar's value and label are written as text."""
    svg = charts.bar_chart(chart_id="c1", title="Échéances", description="Par mois", labels=["janv.", "févr."],
                           values=[3, 0])
    root = parse(svg)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").get("id") == "c1-title" and root.find(f"{SVG}title").text == "Échéances"
    assert root.find(f"{SVG}desc").get("id") == "c1-desc" and root.find(f"{SVG}desc").text == "Par mois"
    assert texts(svg) == ["3", "janv.", "0", "févr."]
    # One bar drawn (the zero is written, not drawn), in the DSFR's blue.
    assert [rect.get("fill") for rect in root.iter(f"{SVG}rect")][1:] == [charts.BLUE]


def test_hbar_chart_scales_to_the_largest_value_or_the_given_maximum():
    """Bar lengths are proportional: the largest fills the plot, a share is drawn against 100."""
    svg = charts.hbar_chart(chart_id="c2", title="t", description="d", labels=["A", "B"],
                            values=[Decimal("200"), Decimal("100")], value_format=charts.euros)
    widths = [float(rect.get("width")) for rect in parse(svg).iter(f"{SVG}rect")][1:]
    assert widths[0] == 2 * widths[1]
    assert "200 €" in texts(svg) and "100 €" in texts(svg)
    shares = charts.hbar_chart(chart_id="c3", title="t", description="d", labels=["part"], values=[50],
                               max_value=100)
    width = [float(rect.get("width")) for rect in parse(shares).iter(f"{SVG}rect")][1]
    assert width == (charts.WIDTH - 230 - 150) / 2


def test_stacked_chart_tells_series_apart_without_colour():
    """A legend names each series; the second is a pattern fill, not only another colour; totals are written."""
    svg = charts.stacked_hbar_chart(
        chart_id="c4", title="t", description="d", labels=["janv."],
        series=[charts.Series("Qualifiées", [Decimal("30")]), charts.Series("Autres", [Decimal("10")])],
        value_format=charts.euros)
    fills = {rect.get("fill") for rect in parse(svg).iter(f"{SVG}rect")}
    assert charts.BLUE in fills and "url(#c4-hatch)" in fills
    assert parse(svg).find(f".//{SVG}pattern[@id='c4-hatch']") is not None
    assert {"Qualifiées", "Autres", "40 €"} <= set(texts(svg))


def test_line_chart_marks_every_point():
    """A polyline through one marked point per label, each with its value."""
    svg = charts.line_chart(chart_id="c5", title="t", description="d", labels=["a", "b", "c"], values=[1, 2, 4])
    root = parse(svg)
    assert len(root.findall(f"{SVG}circle")) == 3
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 3
    assert {"1", "2", "4", "a", "b", "c"} <= set(texts(svg))


def test_charts_escape_text_and_use_no_style_attribute():
    """Labels and titles from the database are escaped; no style attribute or script (CSP)."""
    hostile = '<script>alert(1)</script>"&'
    svg = str(charts.hbar_chart(chart_id="c6", title=hostile, description=hostile, labels=[hostile], values=[1]))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "style=" not in svg
    parse(svg)  # still well-formed


def test_empty_chart_is_well_formed():
    """No data still gives a valid, named SVG."""
    svg = charts.bar_chart(chart_id="c7", title="Vide", description="Aucune donnée", labels=[], values=[])
    assert parse(svg).find(f"{SVG}title").text == "Vide"
    assert re.search(r'viewBox="0 0 720 \d+"', str(svg))
