"""API for recorded searches: record one, list them, read one with its frozen offers, download its CSV."""

from __future__ import annotations

import csv
import io

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from broker import api
from catalogue.selectors import today_local
from procurement.models import RecordedSearch, RecordedSearchItem
from procurement.selectors import searches as selectors
from procurement.services import searches as services
from procurement.views.searches import search_csv_response


class CSVRenderer(BaseRenderer):
    """Lets a client ask for `text/csv`; the CSV itself is written by search_csv_response.

    Only errors (401, 403, 404) reach this renderer: they become a two-column CSV.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes | str):
            return data
        stream = io.StringIO()
        writer = csv.writer(stream, delimiter=";")
        for key, value in (data or {}).items():
            writer.writerow([key, value])
        return stream.getvalue()


class MayReadSearches(permissions.BasePermission):
    """Buyers and approvers of an administration, and catalogue managers; recording is for the former only."""

    def has_permission(self, request, view) -> bool:
        if view.action == "create":
            return selectors.may_record_searches(request.user)
        return selectors.may_read_searches(request.user)


class SearchRecordSerializer(serializers.Serializer):
    query_string = serializers.CharField(
        allow_blank=True, max_length=4000, trim_whitespace=True,
        help_text=_("Les paramètres de la recherche du catalogue, tels qu'après « ? » dans /catalogue/?… ou "
                    "/api/v1/offers/?… (q, service_model, qualification, certification, provider, framework, lot, "
                    "data_location, eligible_for, valid_on, expires_before, expires_within, ordering). "
                    "Vide : tout le catalogue visible."),
    )
    title = serializers.CharField(allow_blank=True, required=False, default="", max_length=200,
                                  help_text=_("Intitulé libre pour le dossier d'achat."))


class FilterInWordsSerializer(serializers.Serializer):
    label = serializers.CharField()
    values = serializers.CharField()


class RecordedSearchItemSerializer(serializers.ModelSerializer):
    offer = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True,
                                         help_text=_("Identifiant de l'offre si elle existe encore ; null sinon."))

    class Meta:
        model = RecordedSearchItem
        fields = ["position", "offer", "offer_name", "provider_name", "service_model", "qualification_status",
                  "decision_number", "qualified_on", "valid_until"]
        read_only_fields = fields


class RecordedSearchSerializer(serializers.ModelSerializer):
    owner = serializers.SerializerMethodField()
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    filters_in_words = serializers.SerializerMethodField()
    csv_url = serializers.SerializerMethodField()

    class Meta:
        model = RecordedSearch
        fields = ["id", "title", "created_at", "organisation", "owner", "filters", "filters_in_words",
                  "query_string", "result_count", "csv_url"]
        read_only_fields = fields

    def get_owner(self, search: RecordedSearch) -> str:
        return selectors.owner_label(search)

    @extend_schema_field(FilterInWordsSerializer(many=True))
    def get_filters_in_words(self, search: RecordedSearch) -> list[dict]:
        return [{"label": label, "values": values}
                for label, values in search.filters_description]

    def get_csv_url(self, search: RecordedSearch) -> str:
        request = self.context.get("request")
        path = reverse("search-csv", args=[search.pk])
        return request.build_absolute_uri(path) if request else path


class RecordedSearchDetailSerializer(RecordedSearchSerializer):
    items = RecordedSearchItemSerializer(many=True, read_only=True)

    class Meta(RecordedSearchSerializer.Meta):
        fields = [*RecordedSearchSerializer.Meta.fields, "items"]
        read_only_fields = fields


UNAUTHENTICATED = OpenApiResponse(description=_("Authentification requise."))
FORBIDDEN = OpenApiResponse(description=_("Réservé aux acheteurs et valideurs d'une administration "
                                          "(et, en lecture, aux gestionnaires du catalogue)."))
NOT_FOUND = OpenApiResponse(description=_("Recherche inconnue, ou d'une autre administration."))
SEARCH_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description=_("Numéro de la recherche."))


@extend_schema_view(
    list=extend_schema(summary=_("Recherches enregistrées de mon administration"), tags=["searches"],
                       description=_("Les acheteurs et valideurs voient celles de leur administration ; "
                                     "les gestionnaires du catalogue les voient toutes."),
                       responses={200: RecordedSearchSerializer(many=True), 401: UNAUTHENTICATED,
                                  403: FORBIDDEN}),
    retrieve=extend_schema(summary=_("Une recherche enregistrée et sa liste figée d'offres"), tags=["searches"],
                           parameters=[SEARCH_ID],
                           responses={200: RecordedSearchDetailSerializer, 401: UNAUTHENTICATED, 403: FORBIDDEN,
                                      404: NOT_FOUND}),
)
class RecordedSearchViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    """Recorded searches never change: no update, no delete."""

    permission_classes = [permissions.IsAuthenticated, MayReadSearches]
    lookup_value_regex = r"\d+"
    serializer_class = RecordedSearchSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.searches_visible(user=self.request.user)

    def get_serializer_class(self):
        if self.action == "retrieve":
            return RecordedSearchDetailSerializer
        if self.action == "create":
            return SearchRecordSerializer
        return RecordedSearchSerializer

    def get_object(self, *, with_items: bool = False) -> RecordedSearch:
        try:
            search = selectors.search_detail(user=self.request.user, pk=self.kwargs["pk"], with_items=with_items)
        except RecordedSearch.DoesNotExist as missing:
            raise Http404 from missing
        self.check_object_permissions(self.request, search)
        return search

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        search = self.get_object(with_items=True)
        return Response(RecordedSearchDetailSerializer(search, context=self.get_serializer_context()).data)

    @extend_schema(
        summary=_("Enregistrer une recherche du catalogue"), tags=["searches"],
        description=_("Fige la liste des offres que la recherche donne maintenant à l'appelant, avec leur "
                      "qualification SecNumCloud à ce moment. Réservé aux acheteurs et valideurs d'une "
                      "administration. Refus (400) : `invalid_filter` (paramètre nommé dans `field`, `detail` et "
                      "`reasons`), `too_many_results` (plus de 1000 offres : affiner la recherche), "
                      "`invalid_title`."),
        request=SearchRecordSerializer,
        responses={201: RecordedSearchDetailSerializer,
                   400: OpenApiResponse(api.ErrorSerializer, description=_("Recherche refusée.")),
                   401: UNAUTHENTICATED, 403: FORBIDDEN},
        examples=[OpenApiExample("Offres IaaS qualifiées", request_only=True,
                                 value={"query_string": "service_model=IaaS&qualification=qualified",
                                        "title": "Hébergement du SI RH"})],
    )
    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = SearchRecordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recorded = services.search_record(user=request.user, query_string=serializer.validated_data["query_string"],
                                          title=serializer.validated_data["title"], today=today_local())
        search = selectors.search_detail(user=request.user, pk=recorded.pk, with_items=True)
        data = RecordedSearchDetailSerializer(search, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Télécharger une recherche enregistrée en CSV"), tags=["searches"],
        description=_("UTF-8 avec BOM, séparateur « ; » (ouvrable par Excel en français) : un en-tête "
                      "(date et heure à Paris, administration, accord-cadre, filtres, paramètres), puis une "
                      "ligne par offre (rang, fournisseur, offre, modèle, qualification, décision, dates)."),
        parameters=[SEARCH_ID, OpenApiParameter("format", exclude=True)],
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=_("Le fichier CSV.")),
                   401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="csv", url_name="csv", renderer_classes=[JSONRenderer, CSVRenderer])
    def export_csv(self, request: Request, pk=None):
        return search_csv_response(search=self.get_object())


routes = [("searches", RecordedSearchViewSet, "search")]
