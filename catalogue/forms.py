"""Forms of the vendor space and the review queue (DSFR).

The vendor's offer form has no field for a qualification, its status, its decision
number or any date ANSSI sets, nor for the publication state: a vendor cannot post
them, and the services refuse them anyway. The services judge every rule; a
refusal comes back on the field it names (`add_violation`).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from dsfr.forms import DsfrBaseForm

from broker.errors import RuleViolation
from catalogue.countries import COUNTRY_CHOICES
from catalogue.models import CertificationKind, ServiceModel
from catalogue.models.provider import siren_validator

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ViolationMixin:
    """Show a service's refusal (RuleViolation) on the field it names, or above the form."""

    # A service's field name -> this form's field, where they differ.
    SERVICE_FIELDS: dict[str, str] = {}

    def add_violation(self, violation: RuleViolation) -> None:
        field = self.SERVICE_FIELDS.get(violation.field or "", violation.field)
        message = " ".join([violation.message, *violation.reasons]) if violation.reasons else violation.message
        self.add_error(field if field in self.fields else None, message)

    def add_validation_error(self, error) -> None:
        """A model's ValidationError: each message on its field, or above the form."""
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        else:
            self.add_error(None, error.messages)


class OfferForm(ViolationMixin, DsfrBaseForm):
    """What a vendor says about an offer: description, price, data locations, certifications held."""

    name = forms.CharField(label=_("Nom de l'offre"), max_length=200)
    service_model = forms.ChoiceField(label=_("Modèle de service"), choices=ServiceModel.choices)
    category = forms.CharField(label=_("Catégorie"), max_length=100, required=False,
                               help_text=_("Par exemple : calcul, stockage, collaboration, conteneurs."))
    description = forms.CharField(label=_("Description"), max_length=20000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 6}),
                                  help_text=_("Obligatoire pour soumettre l'offre à la revue."))
    list_price = forms.DecimalField(label=_("Prix catalogue HT (€)"), required=False, min_value=Decimal("0"),
                                    max_digits=12, decimal_places=2)
    price_unit = forms.CharField(label=_("Unité de prix"), max_length=60, required=False,
                                 help_text=_("Par exemple : « par vCPU et par mois »."))
    locations = forms.MultipleChoiceField(
        label=_("Pays d'hébergement des données"), choices=COUNTRY_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Au moins un pays pour soumettre l'offre à la revue."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One group per certification: held or not, the certificate's reference, its end of validity.
        for kind, label in CertificationKind.choices:
            self.fields[f"certifications_{kind}"] = forms.BooleanField(
                label=_("%(certification)s : certification détenue") % {"certification": label}, required=False)
            self.fields[f"certifications_{kind}_reference"] = forms.CharField(
                label=_("Référence du certificat"), max_length=100, required=False)
            self.fields[f"certifications_{kind}_valid_until"] = forms.DateField(
                label=_("Valable jusqu'au"), required=False, widget=DATE_WIDGET,
                help_text=_("Format AAAA-MM-JJ ; vide si la date n'est pas connue."))

    @classmethod
    def initial_from(cls, values: dict) -> dict:
        """Initial data from offer_values() (the live offer, or a pending revision over it)."""
        initial = {name: values.get(name) for name in ("name", "service_model", "category", "description",
                                                       "list_price", "price_unit", "locations")}
        for item in values.get("certifications", []):
            initial[f"certifications_{item['kind']}"] = True
            initial[f"certifications_{item['kind']}_reference"] = item.get("reference", "")
            initial[f"certifications_{item['kind']}_valid_until"] = item.get("valid_until")
        return initial

    @property
    def certification_groups(self) -> list[tuple[str, list]]:
        """For the template: each certification with its three bound fields."""
        return [
            (label, [self[f"certifications_{kind}"], self[f"certifications_{kind}_reference"],
                     self[f"certifications_{kind}_valid_until"]])
            for kind, label in CertificationKind.choices
        ]

    @property
    def main_fields(self) -> list:
        return [self[name] for name in ("name", "service_model", "category", "description", "list_price",
                                        "price_unit", "locations")]

    def clean(self) -> dict:
        cleaned = super().clean()
        for kind, label in CertificationKind.choices:
            held = cleaned.get(f"certifications_{kind}")
            if not held and (cleaned.get(f"certifications_{kind}_reference")
                             or cleaned.get(f"certifications_{kind}_valid_until")):
                self.add_error(f"certifications_{kind}", _("Cochez « %(certification)s » ou videz sa référence et "
                                                           "sa date.") % {"certification": label})
        return cleaned

    def offer_values(self) -> dict:
        """The cleaned data as the offer services take it."""
        data = self.cleaned_data
        values = {name: data[name] for name in ("name", "service_model", "category", "description", "list_price",
                                                "price_unit", "locations")}
        values["certifications"] = [
            {"kind": kind, "reference": data[f"certifications_{kind}_reference"],
             "valid_until": data[f"certifications_{kind}_valid_until"]}
            for kind in CertificationKind.values if data[f"certifications_{kind}"]
        ]
        return values


PERCENT_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class ProviderProfileForm(ViolationMixin, DsfrBaseForm):
    """The provider's legal data, ownership and locations, as its vendors keep them."""

    legal_name = forms.CharField(label=_("Raison sociale"), max_length=200, required=False)
    siren = forms.CharField(label=_("SIREN"), max_length=9, required=False, validators=[siren_validator],
                            help_text=_("9 chiffres."))
    vat_number = forms.CharField(label=_("Numéro de TVA intracommunautaire"), max_length=20, required=False)
    seat_country = forms.ChoiceField(
        label=_("Pays du siège"), choices=COUNTRY_CHOICES,
        help_text=_("Siège statutaire, administration centrale et établissement principal (SecNumCloud §19.6)."),
    )
    largest_non_eu_holding = forms.DecimalField(
        label=_("Plus forte détention hors UE (%)"), required=False, max_digits=5, decimal_places=2,
        validators=PERCENT_VALIDATORS,
        help_text=_("Part du capital ou des droits de vote de la plus grande entité hors UE. Plafond : 24 %."),
    )
    total_non_eu_holding = forms.DecimalField(
        label=_("Détention totale hors UE (%)"), required=False, max_digits=5, decimal_places=2,
        validators=PERCENT_VALIDATORS,
        help_text=_("Part cumulée des entités hors UE. Plafond : 39 %."),
    )
    data_locations = forms.MultipleChoiceField(
        label=_("Pays d'hébergement des données"), choices=COUNTRY_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    support_locations = forms.MultipleChoiceField(
        label=_("Pays du support et de l'administration"), choices=COUNTRY_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    website = forms.URLField(label=_("Site web"), max_length=200, required=False, assume_scheme="https")

    def clean(self) -> dict:
        cleaned = super().clean()
        largest, total = cleaned.get("largest_non_eu_holding"), cleaned.get("total_non_eu_holding")
        if largest is not None and total is not None and largest > total:
            self.add_error("largest_non_eu_holding",
                           _("La plus forte détention ne peut dépasser la détention totale hors UE."))
        return cleaned


class ReviewDecisionForm(ViolationMixin, DsfrBaseForm):
    """A catalogue manager's decision; the comment is what the vendor reads."""

    comment = forms.CharField(
        label=_("Commentaire pour le fournisseur"), required=False, max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Obligatoire pour demander des modifications : dites ce qui doit changer."),
    )


class WithdrawForm(ViolationMixin, DsfrBaseForm):
    comment = forms.CharField(label=_("Motif du retrait (facultatif)"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 3}))
