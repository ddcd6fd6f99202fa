"""Catalogue API: providers and offers (read-only), qualifications (read by all, changed by ANSSI staff).

Thin viewsets: what a user may see comes from catalogue.selectors, every change
goes through catalogue.services, and search parameters are validated by the
filter sets shared with the pages.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from broker import api
from broker.pagination import PageNumberPagination
from catalogue import selectors, services
from catalogue.api.filters import QualificationFilterSet
from catalogue.api.permissions import IsQualifierOrReadOnly
from catalogue.api.serializers import (
    OfferSerializer,
    ProviderSerializer,
    QualificationEventSerializer,
    QualificationRenewSerializer,
    QualificationSerializer,
    QualificationUpdateSerializer,
)
from catalogue.filters import OfferFilterSet
from catalogue.models import Offer, Qualification
from catalogue.pagination import SearchPaginator

BAD_REQUEST = OpenApiResponse(api.ErrorSerializer, description=_(
    "Requête refusée : `code` stable, message lisible, et pour chaque paramètre ou champ en cause "
    "la liste de ses erreurs."
))
FORBIDDEN = OpenApiResponse(description=_("Réservé aux agents de l'ANSSI."))
NOT_FOUND = OpenApiResponse(description=_("Inconnu, ou invisible pour l'utilisateur."))


class OfferPagination(PageNumberPagination):
    """Paginate the ordered ids, then load the page's cards: a deep page skips bare ids, not whole cards.
    The number of results is cached until the catalogue changes (catalogue/pagination.py)."""

    django_paginator_class = SearchPaginator

    def paginate_queryset(self, queryset, request, view=None):
        ids = super().paginate_queryset(selectors.page_ids(queryset), request, view)
        return None if ids is None else selectors.page_cards(ids)


class CatalogueViewSet(viewsets.GenericViewSet):
    """What the catalogue's viewsets share: authentication, coded filter errors, and the day of the request."""

    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)

    @cached_property
    def today(self) -> date:
        return selectors.today_local()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": self.today}


@extend_schema_view(
    list=extend_schema(summary=_("Fournisseurs"), tags=["providers"]),
    retrieve=extend_schema(summary=_("Un fournisseur"), tags=["providers"], responses={200: ProviderSerializer,
                                                                                        404: NOT_FOUND}),
)
class ProviderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """Providers with a published offer (all of them for catalogue managers and ANSSI staff, and a vendor's own)."""

    serializer_class = ProviderSerializer
    lookup_field = "slug"
    filter_backends = ()

    def get_queryset(self):
        return selectors.providers_visible(user=self.request.user).order_by("name", "pk")


@extend_schema_view(
    list=extend_schema(summary=_("Recherche d'offres"), tags=["offers"], responses={200: OfferSerializer(many=True),
                                                                                   400: BAD_REQUEST}),
    retrieve=extend_schema(summary=_("Une offre"), tags=["offers"], responses={200: OfferSerializer,
                                                                               404: NOT_FOUND}),
)
class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """Offers the user may see, with their current qualification and their eligibility for each sensitivity.

    Published offers for everyone; a vendor also sees all of their provider's, catalogue
    managers and ANSSI staff see every offer. The filter set applies every search parameter,
    the ordering and the prefetches the eligibility needs.
    """

    serializer_class = OfferSerializer
    filterset_class = OfferFilterSet
    pagination_class = OfferPagination
    lookup_field = "slug"

    def get_queryset(self):
        return selectors.offers_visible(user=self.request.user)

    def get_object(self) -> Offer:
        try:
            offer = selectors.offer_detail(slug=self.kwargs["slug"], user=self.request.user)
        except Offer.DoesNotExist as missing:
            raise Http404 from missing
        self.check_object_permissions(self.request, offer)
        return offer

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        filterset = getattr(self, "filterset", None)
        if filterset is not None:
            # Eligibility is judged for a service starting on the searched date, as the filter does.
            context["start"] = filterset.form.cleaned_data.get("valid_on") or self.today
        return context


@extend_schema_view(
    list=extend_schema(summary=_("Qualifications SecNumCloud"), tags=["qualifications"],
                       responses={200: QualificationSerializer(many=True), 400: BAD_REQUEST}),
    retrieve=extend_schema(summary=_("Une décision de qualification"), tags=["qualifications"],
                           responses={200: QualificationSerializer, 404: NOT_FOUND}),
)
class QualificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CatalogueViewSet):
    """SecNumCloud decisions of the offers the user may see; only ANSSI staff change them, always with a reason."""

    permission_classes = (IsQualifierOrReadOnly,)
    filterset_class = QualificationFilterSet

    def get_queryset(self):
        # Qualifications are public for published offers: the same scope as the offers themselves.
        visible = selectors.offers_visible(user=self.request.user)
        return (
            Qualification.objects.filter(offer__in=visible)
            .select_related("offer__provider")
            .order_by("offer__provider__name", "offer__name", "-is_current", "-created_at", "pk")
        )

    def get_serializer_class(self):
        return {
            "partial_update": QualificationUpdateSerializer,
            "create": QualificationRenewSerializer,
            "history": QualificationEventSerializer,
        }.get(self.action, QualificationSerializer)

    def _read(self, qualification: Qualification, *, status_code: int = status.HTTP_200_OK) -> Response:
        data = QualificationSerializer(qualification, context=self.get_serializer_context()).data
        return Response(data, status=status_code)

    @extend_schema(
        summary=_("Modifier une décision (agents de l'ANSSI)"), tags=["qualifications"],
        request=QualificationUpdateSerializer,
        responses={200: QualificationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def partial_update(self, request, *args, **kwargs) -> Response:
        """Change the decision in force: status (per the transition table), milestone, dates, number, conditions."""
        qualification = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = services.qualification_update(qualification=qualification, user=request.user,
                                                values=serializer.values, reason=serializer.validated_data["reason"])
        return self._read(updated)

    @extend_schema(
        summary=_("Enregistrer une nouvelle décision (agents de l'ANSSI)"), tags=["qualifications"],
        request=QualificationRenewSerializer,
        responses={201: QualificationSerializer, 400: BAD_REQUEST, 403: FORBIDDEN},
    )
    def create(self, request, *args, **kwargs) -> Response:
        """A renewal or a first decision: it becomes the one in force, the previous one stays in the history."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        qualification = services.qualification_renew(offer=serializer.validated_data["offer"], user=request.user,
                                                      values=serializer.values,
                                                      reason=serializer.validated_data["reason"])
        return self._read(qualification, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Historique d'une décision"), tags=["qualifications"],
        responses={200: QualificationEventSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=())
    def history(self, request, *args, **kwargs) -> Response:
        """Every change to this decision, newest first: when, by whom, why, and what changed."""
        qualification = self.get_object()
        events = qualification.events.select_related("actor").order_by("-created_at", "-id")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
