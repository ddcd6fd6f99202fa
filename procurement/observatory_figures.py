"""The observatory's figures as a person reads them: a chart, a table with the same numbers, a CSV.

procurement.selectors.observatory computes the numbers; this module lays each figure
out (titles, notes, column headers, cells) once, for the page and its CSV alike. Cells
keep their type (amounts, shares, months, dates) so that the table shows them in the
active language and the CSV writes them exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils import formats
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from broker.spreadsheet import csv_cell
from catalogue.countries import country_name
from catalogue.models import OfferState
from procurement import charts
from procurement.models import OrderStatus
from procurement.selectors import observatory as selectors

# --- Cells: one value, shown in the table, written in the CSV --------------------------------------------

@dataclass(frozen=True)
class Percent:
    value: Decimal | None


@dataclass(frozen=True)
class Month:
    value: date


def show(value) -> str:
    """A cell as the table and the chart show it (amounts rounded to the euro, in the active language)."""
    if value is None:
        return "—"
    if isinstance(value, Percent):
        return "—" if value.value is None else f"{formats.number_format(value.value, 1, use_l10n=True)} %"
    if isinstance(value, Month):
        return formats.date_format(value.value, "YEAR_MONTH_FORMAT")
    if isinstance(value, Decimal):
        return charts.euros(value)
    if isinstance(value, int):
        return charts.plain_number(value)
    if isinstance(value, date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def csv_value(value) -> str:
    """A cell in the CSV: exact amounts with a decimal comma (French spreadsheets), ISO dates, no unit."""
    if value is None:
        return ""
    if isinstance(value, Percent):
        return "" if value.value is None else str(value.value).replace(".", ",")
    if isinstance(value, Month):
        return value.value.strftime("%Y-%m")
    if isinstance(value, Decimal):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, date):
        return value.isoformat()
    return csv_cell(value)


def chart_month(day: date) -> str:
    return formats.date_format(day, "M Y")


def money(value) -> str:
    return charts.euros(value)


def percent(value) -> str:
    return show(Percent(Decimal(value)))


# --- Figures ---------------------------------------------------------------------------------------------

@dataclass
class Context:
    """What every figure is built from: the validated filters, the reader's scope and the day."""

    filters: selectors.ObservatoryFilters
    scope: str
    today: date
    for_csv: bool = False
    # Results several figures share (the months give the summary, the providers the countries): read once.
    shared: dict = field(default_factory=dict)

    def once(self, name: str, read: Callable[[], object]):
        if name not in self.shared:
            self.shared[name] = read()
        return self.shared[name]

    def months(self) -> list[selectors.MonthSpend]:
        return self.once("months", lambda: selectors.spend_by_month(filters=self.filters))

    def providers(self) -> list[selectors.SpendRow]:
        return self.once("providers", lambda: selectors.spend_by_provider(filters=self.filters))

    @property
    def framework(self):
        return self.filters.framework

    @property
    def limit(self) -> int | None:
        return None if self.for_csv else selectors.LIST_LIMIT


@dataclass
class Figure:
    """One figure: its CSV name (`slug`), title, table (typed `rows`, shown as `table_rows`), optional chart."""

    slug: str
    title: str
    headers: list[str]
    rows: list[list]
    chart: SafeString | None = None
    note: str = ""
    # Rows left off the page (all are in the CSV).
    left_off: int = 0
    table_rows: list[list[str]] = field(default_factory=list)
    csv_url: str = ""

    def __post_init__(self) -> None:
        self.table_rows = [[show(cell) for cell in row] for row in self.rows]


def _yes_no(flag: bool) -> str:
    return _("Oui") if flag else _("Non")


def expiring_by_month(ctx: Context) -> Figure:
    months = selectors.expiring_by_month(today=ctx.today, scope=ctx.scope, framework=ctx.framework)
    title = _("Qualifications arrivant à échéance, par mois")
    return Figure(
        "qualifications-echeances", title, [_("Mois"), _("Qualifications arrivant à échéance")],
        [[Month(row.month), row.count] for row in months],
        chart=charts.bar_chart(
            chart_id="chart-qualifications-echeances", title=title,
            description=_("Nombre de qualifications SecNumCloud en vigueur dont la validité prend fin, mois par "
                          "mois, d'aujourd'hui à dans 12 mois ; %(total)s au total.")
            % {"total": sum(m.count for m in months)},
            labels=[chart_month(row.month) for row in months], values=[row.count for row in months]),
        note=_("Décisions « qualifiée » en vigueur dont la fin de validité tombe entre aujourd'hui et dans "
               "12 mois."),
    )


def _first_rows(rows, limit: int | None) -> tuple[list, int]:
    """The first `limit` rows of a queryset (all when None) and how many were left off; counted only when some were."""
    shown = list(rows if limit is None else rows[:limit + 1])
    if limit is None or len(shown) <= limit:
        return shown, 0
    return shown[:limit], rows.count() - limit


def expiring_offers(ctx: Context) -> Figure:
    qualifications = selectors.expiring_qualifications(today=ctx.today, scope=ctx.scope, framework=ctx.framework)
    shown, left_off = _first_rows(qualifications, ctx.limit)
    return Figure(
        "qualifications-echeances-offres", _("Offres dont la qualification arrive à échéance"),
        [_("Fin de validité"), _("Fournisseur"), _("Offre"), _("Numéro de décision")],
        [[q.valid_until, q.offer.provider.name, q.offer.name, q.decision_number] for q in shown],
        left_off=left_off,
    )


def qualified_over_time(ctx: Context) -> Figure:
    points = selectors.qualified_offers_over_time(today=ctx.today, scope=ctx.scope, framework=ctx.framework)
    title = _("Offres qualifiées SecNumCloud dans le temps")
    return Figure(
        "offres-qualifiees", title, [_("Date"), _("Offres qualifiées")],
        [[point.day, point.count] for point in points],
        chart=charts.line_chart(
            chart_id="chart-offres-qualifiees", title=title,
            description=_("Nombre d'offres couvertes par une décision de qualification le dernier jour de chacun "
                          "des 24 derniers mois : %(first)s au début, %(last)s aujourd'hui.")
            % {"first": points[0].count, "last": points[-1].count},
            labels=[chart_month(point.day) for point in points], values=[point.count for point in points]),
        note=_("Une offre compte un jour donné si une de ses décisions (ni en cours, ni retirée) le couvre, de la "
               "date de qualification à la fin de validité. Approximation : les suspensions et fins anticipées ne "
               "sont pas antidatées. Aujourd'hui tient lieu de fin du mois en cours."),
    )


def offers_by_state(ctx: Context) -> Figure:
    rows = selectors.offers_by_state_and_model(scope=ctx.scope, framework=ctx.framework)
    title = _("Offres par état de publication et modèle de service")
    labels = [f"{row.service_model} · {OfferState(row.state).label}" for row in rows]
    note = (_("Toutes les offres, quel que soit leur état.") if ctx.scope == selectors.FULL
            else _("Offres publiées au catalogue."))
    return Figure(
        "offres-par-etat", title, [_("Modèle de service"), _("État"), _("Offres")],
        [[row.service_model, str(OfferState(row.state).label), row.count] for row in rows],
        chart=charts.hbar_chart(chart_id="chart-offres-par-etat", title=title,
                                description=_("Nombre d'offres pour chaque modèle de service et état."),
                                labels=labels, values=[row.count for row in rows]),
        note=note,
    )


SPEND_NOTE = gettext_lazy(
    "Montants HT des commandes validées ou exécutées, selon leur date de soumission dans la période choisie. "
    "Part SecNumCloud : part du montant des commandes dont l'offre était qualifiée SecNumCloud au moment de la "
    "soumission (qualification figée sur la commande)."
)


def spend_summary(ctx: Context) -> Figure:
    summary = selectors.spend_summary_of(months=ctx.months())
    title = _("Part des montants commandés sur des offres qualifiées SecNumCloud et des fournisseurs à siège UE")
    shares = [summary.secnumcloud_share or Decimal(0), summary.eu_share or Decimal(0)]
    return Figure(
        "depenses-synthese", title, [_("Indicateur"), _("Valeur")],
        [
            [_("Commandes validées ou exécutées"), summary.orders],
            [_("Montant commandé HT"), summary.amount],
            [_("dont offres qualifiées SecNumCloud"), summary.secnumcloud_amount],
            [_("Part SecNumCloud"), Percent(summary.secnumcloud_share)],
            [_("dont fournisseurs à siège dans l'UE"), summary.eu_amount],
            [_("Part des fournisseurs à siège dans l'UE"), Percent(summary.eu_share)],
            [_("Commandes soumises, en attente de validation"), summary.submitted_orders],
            [_("Montant soumis HT (non compté ci-dessus)"), summary.submitted_amount],
        ],
        chart=charts.hbar_chart(
            chart_id="chart-depenses-synthese", title=title,
            description=_("Part SecNumCloud : %(snc)s ; part des fournisseurs à siège dans l'UE : %(eu)s, sur "
                          "%(amount)s commandés.") % {"snc": show(Percent(summary.secnumcloud_share)),
                                                      "eu": show(Percent(summary.eu_share)),
                                                      "amount": money(summary.amount)},
            labels=[_("Part SecNumCloud"), _("Part siège UE")], values=shares,
            value_format=percent, max_value=100),
        note=str(SPEND_NOTE) + " " + _("Siège UE : pays du siège du fournisseur dans l'Union européenne."),
    )


def spend_by_month(ctx: Context) -> Figure:
    months = ctx.months()
    title = _("Montants commandés par mois")
    labels = [chart_month(row.month) for row in months]
    return Figure(
        "depenses-par-mois", title,
        [_("Mois"), _("Commandes"), _("Montant HT"), _("dont SecNumCloud"), _("Part SecNumCloud"),
         _("dont siège UE")],
        [[Month(row.month), row.orders, row.amount, row.secnumcloud_amount,
          Percent(selectors.share(row.secnumcloud_amount, row.amount)), row.eu_amount] for row in months],
        chart=charts.stacked_hbar_chart(
            chart_id="chart-depenses-par-mois", title=title,
            description=_("Montant commandé chaque mois de la période, en distinguant les offres qualifiées "
                          "SecNumCloud (plein) des autres (hachuré)."),
            labels=labels,
            series=[charts.Series(_("Qualifiées SecNumCloud"), [row.secnumcloud_amount for row in months]),
                    charts.Series(_("Non qualifiées"), [row.other_amount for row in months])],
            value_format=money),
        note=str(SPEND_NOTE),
    )


def _spend_rows_chart(slug: str, title: str, description: str, rows: list[selectors.SpendRow]) -> SafeString:
    return charts.hbar_chart(chart_id=f"chart-{slug}", title=title, description=description,
                             labels=[row.label for row in rows], values=[row.amount for row in rows],
                             value_format=money)


def spend_by_provider(ctx: Context) -> Figure:
    rows = ctx.providers()
    title = _("Montants commandés par fournisseur")
    return Figure(
        "depenses-par-fournisseur", title,
        [_("Fournisseur"), _("Pays du siège"), _("Commandes"), _("Montant HT"), _("dont SecNumCloud"),
         _("Part SecNumCloud")],
        [[row.label, country_name(row.key), row.orders, row.amount, row.secnumcloud_amount,
          Percent(row.secnumcloud_share)] for row in rows],
        chart=_spend_rows_chart("depenses-par-fournisseur", title,
                                _("Montant commandé auprès de chaque fournisseur, du plus élevé au plus faible."),
                                rows),
        note=str(SPEND_NOTE),
    )


def spend_by_country(ctx: Context) -> Figure:
    rows = selectors.countries_of(providers=ctx.providers())
    total = sum((row.amount for row in rows), Decimal(0))
    title = _("Montants commandés par pays du siège du fournisseur")
    return Figure(
        "depenses-par-pays", title,
        [_("Pays du siège"), _("Union européenne"), _("Commandes"), _("Montant HT"), _("Part du total")],
        [[row.label, _yes_no(row.detail == "eu"), row.orders, row.amount, Percent(selectors.share(row.amount, total))]
         for row in rows],
        chart=_spend_rows_chart("depenses-par-pays", title,
                                _("Montant commandé auprès des fournisseurs de chaque pays de siège."), rows),
        note=str(SPEND_NOTE),
    )


def spend_by_lot(ctx: Context) -> Figure:
    rows = selectors.spend_by_lot(filters=ctx.filters)
    title = _("Montants commandés par accord-cadre et lot")
    return Figure(
        "depenses-par-lot", title,
        [_("Accord-cadre"), _("Lot"), _("Commandes"), _("Montant HT"), _("dont SecNumCloud"), _("Part SecNumCloud")],
        [[row.key[0], row.detail, row.orders, row.amount, row.secnumcloud_amount,
          Percent(row.secnumcloud_share)] for row in rows],
        chart=_spend_rows_chart("depenses-par-lot", title,
                                _("Montant commandé sous chaque lot des accords-cadres."), rows),
        note=str(SPEND_NOTE),
    )


def spend_by_organisation(ctx: Context) -> Figure:
    rows = selectors.spend_by_organisation(filters=ctx.filters, scope=ctx.scope)
    title = _("Montants commandés par administration")
    return Figure(
        "depenses-par-administration", title,
        [_("Administration"), _("Commandes"), _("Montant HT"), _("dont SecNumCloud"), _("Part SecNumCloud")],
        [[row.label, row.orders, row.amount, row.secnumcloud_amount, Percent(row.secnumcloud_share)]
         for row in rows],
        chart=_spend_rows_chart("depenses-par-administration", title,
                                _("Montant commandé par chaque administration."), rows),
        note=str(SPEND_NOTE) + " " + _("Réservé aux gestionnaires du catalogue et à l'ANSSI."),
    )


RISK_NOTE = gettext_lazy(
    "Commandes soumises, validées ou exécutées dont le service se poursuit au-delà de la fin de qualification de "
    "l'offre, et dont le service n'est pas terminé, quelle que soit la période choisie."
)


def risks_by_month(ctx: Context) -> Figure:
    groups = selectors.continuity_risk_by_month(today=ctx.today, framework=ctx.framework)
    title = _("Commandes à risque de continuité, par mois de fin du service et fournisseur")
    return Figure(
        "risques-continuite", title, [_("Mois de fin du service"), _("Fournisseur"), _("Commandes"), _("Montant HT")],
        [[Month(group.month), group.provider, group.orders, group.amount] for group in groups],
        chart=charts.hbar_chart(
            chart_id="chart-risques-continuite", title=title,
            description=_("Montant des commandes à risque de continuité pour chaque mois de fin du service et "
                          "fournisseur ; %(count)s commande(s) au total.")
            % {"count": sum(group.orders for group in groups)},
            labels=[f"{chart_month(group.month)} · {group.provider}" for group in groups],
            values=[group.amount for group in groups], value_format=money),
        note=str(RISK_NOTE),
    )


def risk_orders(ctx: Context) -> Figure:
    orders = selectors.continuity_risk_orders(today=ctx.today, scope=ctx.scope, framework=ctx.framework,
                                              limit=None)
    shown, left_off = _first_rows(orders, ctx.limit)
    return Figure(
        "risques-continuite-commandes", _("Commandes à risque de continuité"),
        [_("Référence"), _("Administration"), _("Offre"), _("Fournisseur"), _("Statut"), _("Montant HT"),
         _("Fin du service"), _("Fin de qualification")],
        [[order.reference, order.organisation.name, order.offer.name, order.offer.provider.name,
          str(OrderStatus(order.status).label), order.amount, order.ends_on, order.qualification_valid_until]
         for order in shown],
        note=str(RISK_NOTE) + " " + _("Réservé aux gestionnaires du catalogue et à l'ANSSI."),
        left_off=left_off,
    )


@dataclass(frozen=True)
class FigureSpec:
    build: Callable[[Context], Figure]
    full_only: bool = False


# Every figure of the page, in its order, by the slug of its CSV.
FIGURES: dict[str, FigureSpec] = {
    "qualifications-echeances": FigureSpec(expiring_by_month),
    "qualifications-echeances-offres": FigureSpec(expiring_offers),
    "offres-qualifiees": FigureSpec(qualified_over_time),
    "offres-par-etat": FigureSpec(offers_by_state),
    "depenses-synthese": FigureSpec(spend_summary),
    "depenses-par-mois": FigureSpec(spend_by_month),
    "depenses-par-fournisseur": FigureSpec(spend_by_provider),
    "depenses-par-pays": FigureSpec(spend_by_country),
    "depenses-par-lot": FigureSpec(spend_by_lot),
    "depenses-par-administration": FigureSpec(spend_by_organisation, full_only=True),
    "risques-continuite": FigureSpec(risks_by_month),
    "risques-continuite-commandes": FigureSpec(risk_orders, full_only=True),
}
SECTIONS = {
    "qualifications": ("qualifications-echeances", "qualifications-echeances-offres", "offres-qualifiees",
                       "offres-par-etat"),
    "spend": ("depenses-synthese", "depenses-par-mois", "depenses-par-fournisseur", "depenses-par-pays",
              "depenses-par-lot", "depenses-par-administration"),
    "risks": ("risques-continuite", "risques-continuite-commandes"),
}


def visible_figures(scope: str) -> list[str]:
    return [slug for slug, spec in FIGURES.items() if scope == selectors.FULL or not spec.full_only]
