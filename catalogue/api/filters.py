"""Filters of the qualifications endpoint (offers use catalogue.filters.OfferFilterSet, shared with the pages)."""

import django_filters
from django.utils.translation import gettext_lazy as _

from catalogue.models import Qualification, QualificationStatus


class QualificationFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(label=_("Statut"), choices=QualificationStatus.choices)
    offer = django_filters.CharFilter(label=_("Offre (identifiant d'URL)"), field_name="offer__slug")
    provider = django_filters.CharFilter(label=_("Fournisseur (identifiant d'URL)"), field_name="offer__provider__slug")
    is_current = django_filters.BooleanFilter(label=_("Décision en vigueur"))
    expires_before = django_filters.DateFilter(label=_("Fin de validité avant le"), field_name="valid_until",
                                               lookup_expr="lt", help_text=_("Format AAAA-MM-JJ."))

    class Meta:
        model = Qualification
        fields = ["status", "offer", "provider", "is_current", "expires_before"]
