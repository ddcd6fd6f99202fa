"""The API's default filter backend, in a module of its own.

REST_FRAMEWORK["DEFAULT_FILTER_BACKENDS"] is imported while rest_framework.generics is
still being imported; broker.api imports DRF's token views, which import generics again,
so the backend cannot live there without a circular import.
"""

from django_filters import utils as filter_utils
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError


class FilterBackend(DjangoFilterBackend):
    """django-filter, with invalid parameters answered `{"code": "invalid_filter", "<parameter>": [...]}`."""

    def filter_queryset(self, request, queryset, view):
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors = filter_utils.translate_validation(filterset.errors).detail
            raise ValidationError({"code": "invalid_filter", **errors})
        # Kept for the view, which may read the validated parameters (for example a date the results are for).
        view.filterset = filterset
        return filterset.qs
