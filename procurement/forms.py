"""Forms of the procurement pages (DSFR), and the order filters shared by the orders page and the API."""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from broker.errors import RuleViolation
from catalogue import doctrine
from procurement.models import Order, OrderStatus, RecordedSearch, Referencing
from procurement.selectors.frameworks import discounted_price, referencings_for_offer
from procurement.selectors.orders import searches_for_orders
from procurement.services.frameworks import euros
from procurement.services.orders import MAX_AMOUNT

SENSITIVITY_CHOICES = [(key, label) for key, label in doctrine.SENSITIVITY_LABELS.items()]


class OrderFilterSet(django_filters.FilterSet):
    """Filters of an order list: status (several), framework (slug) and continuity risk."""

    # distinct=False: status is a column of the order itself, no join can repeat a row, and a DISTINCT over
    # every column of an administration's orders costs a full sort (measured by bench/run.py).
    status = django_filters.MultipleChoiceFilter(label=_("Statut"), choices=OrderStatus.choices, distinct=False)
    framework = django_filters.CharFilter(label=_("Accord-cadre (identifiant)"), field_name="framework__slug")
    continuity_risk = django_filters.BooleanFilter(label=_("Risque de continuité"))

    class Meta:
        model = Order
        fields = ["status", "framework", "continuity_risk"]
        form = DsfrBaseForm


class ReferencingChoiceField(forms.ModelChoiceField):
    """One choice per framework lot the offer is referenced in, with its price under that framework."""

    def label_from_instance(self, referencing: Referencing) -> str:
        framework, offer = referencing.lot.framework, referencing.offer
        label = f"{framework.reference} — {referencing.lot}"
        if offer.list_price is None:
            return label
        price = discounted_price(list_price=offer.list_price, discount_percent=referencing.effective_discount)
        return str(_("%(label)s : %(price)s HT %(unit)s (remise de %(discount)s %%)")) % {
            "label": label, "price": euros(price), "unit": offer.price_unit,
            "discount": f"{referencing.effective_discount:g}"}


class OrderForm(DsfrBaseForm):
    """Draft or edit an order for one offer. Prices are computed by the server, never entered."""

    referencing = ReferencingChoiceField(
        label=_("Accord-cadre et lot"), queryset=Referencing.objects.none(), empty_label=None,
        help_text=_("Les lots des accords-cadres en vigueur où l'offre est référencée, avec le prix remisé."),
    )
    quantity = forms.IntegerField(
        label=_("Quantité"), min_value=1, max_value=int(MAX_AMOUNT),
        help_text=_("Nombre d'unités commandées sur toute la durée du service, dans l'unité de prix de l'offre : "
                    "pour un prix « par mois », 3 unités pendant 12 mois font 36. Le montant est calculé par le "
                    "serveur : prix catalogue moins la remise de l'accord-cadre, multiplié par la quantité."),
    )
    sensitivity = forms.ChoiceField(
        label=_("Sensibilité des données"), choices=SENSITIVITY_CHOICES,
        help_text=_("La doctrine « cloud au centre » est vérifiée pour cette sensibilité à la soumission."),
    )
    starts_on = forms.DateField(label=_("Début du service"), widget=forms.DateInput(attrs={"type": "date"},
                                                                                    format="%Y-%m-%d"))
    ends_on = forms.DateField(label=_("Fin du service"), widget=forms.DateInput(attrs={"type": "date"},
                                                                                format="%Y-%m-%d"))
    justification = forms.CharField(label=_("Justification du besoin"), max_length=5000,
                                    widget=forms.Textarea(attrs={"rows": 4}))
    search = forms.ModelChoiceField(
        label=_("Recherche enregistrée (facultatif)"), required=False, queryset=RecordedSearch.objects.none(),
        help_text=_("La recherche du catalogue versée au dossier d'achat."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=100)

    # Where the service's refusals land: its field names, mapped to this form's.
    SERVICE_FIELDS = {"framework": "referencing", "lot": "referencing", "offer": "referencing"}

    def __init__(self, *args, offer, user, today: date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.fields["referencing"].queryset = referencings_for_offer(offer=offer, today=today)
        self.fields["search"].queryset = searches_for_orders(user=user)

    def clean(self) -> dict:
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on < starts_on:
            self.add_error("ends_on", _("La fin du service ne peut précéder son début."))
        return cleaned

    def order_data(self) -> dict:
        """The fields the order services accept, from the cleaned form."""
        referencing = self.cleaned_data["referencing"]
        return {
            "framework": referencing.lot.framework, "lot": referencing.lot, "offer": self.offer,
            "quantity": self.cleaned_data["quantity"], "sensitivity": self.cleaned_data["sensitivity"],
            "starts_on": self.cleaned_data["starts_on"], "ends_on": self.cleaned_data["ends_on"],
            "justification": self.cleaned_data["justification"], "search": self.cleaned_data["search"],
        }

    def add_violation(self, violation: RuleViolation) -> None:
        """Show a service refusal on the field it concerns (or on the form), with the doctrine's reasons."""
        field = self.SERVICE_FIELDS.get(violation.field, violation.field)
        message = " ".join([violation.message, *violation.reasons])
        self.add_error(field if field in self.fields else None, message)


class ReasonForm(DsfrBaseForm):
    """The reason given with a rejection (required by the service) or a cancellation (optional)."""

    reason = forms.CharField(label=_("Motif"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
