"""The catalogue's search parameters, validated once for pages and API alike.

An unknown value or a malformed date makes the form invalid with an error on
that parameter: the API answers 400 naming it, the page shows the message.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from catalogue import doctrine, selectors
from catalogue.countries import COUNTRY_CHOICES
from catalogue.models import CertificationKind, Provider, QualificationStatus, ServiceModel
from procurement.models import FrameworkContract, Lot

QUALIFICATION_CHOICES = [*QualificationStatus.choices, ("none", _("Sans qualification"))]
ORDERING_CHOICES = [
    ("provider", _("Fournisseur (A→Z)")),
    ("-provider", _("Fournisseur (Z→A)")),
    ("name", _("Nom de l'offre (A→Z)")),
    ("-name", _("Nom de l'offre (Z→A)")),
    ("valid_until", _("Fin de qualification (la plus proche)")),
    ("-valid_until", _("Fin de qualification (la plus lointaine)")),
    ("price", _("Prix catalogue (croissant)")),
    ("-price", _("Prix catalogue (décroissant)")),
    ("newest", _("Publication (la plus récente)")),
]
# Lazy with a named number, so the label follows the language of each request, not the one at import.
EXPIRY_CHOICES = [
    (str(days), ngettext_lazy("dans les %(days)s jours", "dans les %(days)s jours", "days") % {"days": days})
    for days in selectors.EXPIRY_WINDOWS
]
SENSITIVITY_CHOICES = list(doctrine.SENSITIVITY_LABELS.items())


class OfferFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Mots-clés"), max_length=200, method="noop")
    service_model = django_filters.MultipleChoiceFilter(label=_("Modèle de service"),
                                                        choices=ServiceModel.choices, method="noop")
    qualification = django_filters.MultipleChoiceFilter(label=_("Qualification SecNumCloud"),
                                                        choices=QUALIFICATION_CHOICES, method="noop")
    certification = django_filters.MultipleChoiceFilter(label=_("Certification"),
                                                        choices=CertificationKind.choices, method="noop")
    provider = django_filters.ModelMultipleChoiceFilter(label=_("Fournisseur"), queryset=Provider.objects.all(),
                                                        to_field_name="slug", method="noop")
    # OpenAPI cannot infer these two from the model (they are applied by a method): a framework slug, a lot id.
    framework = extend_schema_field(OpenApiTypes.STR)(django_filters.ModelChoiceFilter(
        label=_("Accord-cadre"), queryset=FrameworkContract.objects.all(), to_field_name="slug", method="noop"))
    lot = extend_schema_field(OpenApiTypes.INT)(django_filters.ModelChoiceFilter(
        label=_("Lot"), queryset=Lot.objects.all(), method="noop"))
    data_location = django_filters.MultipleChoiceFilter(label=_("Lieu d'hébergement"), choices=COUNTRY_CHOICES,
                                                        method="noop")
    eligible_for = django_filters.ChoiceFilter(label=_("Éligible pour des données"), choices=SENSITIVITY_CHOICES,
                                               method="noop")
    valid_on = django_filters.DateFilter(label=_("Qualifiée le"), method="noop",
                                         help_text=_("Format AAAA-MM-JJ."))
    expires_before = django_filters.DateFilter(label=_("Qualification expirant avant le"), method="noop",
                                               help_text=_("Format AAAA-MM-JJ."))
    expires_within = django_filters.ChoiceFilter(label=_("Qualification expirant"), choices=EXPIRY_CHOICES,
                                                 method="noop")
    ordering = django_filters.ChoiceFilter(label=_("Trier par"), choices=ORDERING_CHOICES, method="noop")

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today or selectors.today_local()

    def get_form_class(self):
        """The search form's class, built once: django-filter would build it, and every form field, per request."""
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            form_class.base_fields = SharedOnCopy(form_class.base_fields)
            type(self)._form_class = form_class
        return form_class

    def noop(self, queryset, name, value):
        """Each parameter is applied by selectors.filter_offers, all together, in filter_queryset."""
        return queryset

    @property
    def search_filters(self) -> dict:
        """The validated parameters as the plain dict the selectors take (empty ones left out)."""
        data = self.form.cleaned_data
        filters: dict = {}
        for name, value in data.items():
            if value in (None, "", [], ()):
                continue
            if name == "provider":
                value = [p.slug for p in value]
            elif name == "framework":
                value = value.slug
            elif name == "lot":
                value = value.pk
            filters[name] = value
        return filters

    def filter_queryset(self, queryset):
        filters = self.search_filters
        offers = selectors.filter_offers(queryset, filters=filters, today=self.today)
        return selectors.ordered(offers, filters.get("ordering"))


class SharedOnCopy(dict):
    """Filters or form fields that every filter set or form instance shares instead of deep-copying them.

    django-filter deep-copies a filter set's thirteen filters, and Django a form's fields, for
    every request: about 2 ms of a search's time (bench/run.py). Here nothing changes them per
    request: the filters are never applied one by one (filter_queryset hands the validated values
    to the selectors), no field's choices or widget are set per request, and the provider,
    framework and lot fields clone their querysets whenever they read them.
    """

    def __deepcopy__(self, memo) -> dict:
        return dict(self)


OfferFilterSet.base_filters = SharedOnCopy(OfferFilterSet.base_filters)


def search_form_errors(filterset: OfferFilterSet) -> dict[str, list[str]]:
    """Field errors of an invalid search, keyed by parameter name."""
    form: forms.Form = filterset.form
    return {field: [str(e) for e in errors] for field, errors in form.errors.items()}
