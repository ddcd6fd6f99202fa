"""Open-data API: `GET /api/v1/open-data/offers.csv` and `GET /api/v1/open-data/offers.json`.

Every published offer, with the search's parameters (`q`, `service_model`,
`qualification`, ...) validated by OfferFilterSet: a bad one answers 400
`invalid_filter` naming it. Public, unpaginated and streamed (see catalogue/opendata.py).
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request

from broker import api
from catalogue import opendata
from catalogue.countries import COUNTRY_CHOICES
from catalogue.filters import OfferFilterSet
from catalogue.models import CertificationKind, Milestone, QualificationStatus, ServiceModel
from catalogue.selectors import today_local


class OpenDataCertificationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CertificationKind.choices)
    valid_until = serializers.DateField(allow_null=True)


class OpenDataOfferSerializer(serializers.Serializer):
    """One offer of the export (documentation of catalogue.opendata.offer_row; the CSV has the same columns)."""

    offer = serializers.CharField(help_text=_("Nom de l'offre."))
    slug = serializers.SlugField()
    url = serializers.URLField(help_text=_("La page publique de l'offre."))
    provider = serializers.CharField()
    provider_slug = serializers.SlugField()
    provider_seat_country = serializers.ChoiceField(choices=COUNTRY_CHOICES)
    service_model = serializers.ChoiceField(choices=ServiceModel.choices)
    category = serializers.CharField()
    data_locations = serializers.ListField(child=serializers.ChoiceField(choices=COUNTRY_CHOICES),
                                           help_text=_("CSV : codes séparés par « ; »."))
    list_price = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True, coerce_to_string=True)
    price_unit = serializers.CharField()
    qualification_status = serializers.ChoiceField(choices=QualificationStatus.choices, allow_null=True)
    qualification_milestone = serializers.ChoiceField(choices=Milestone.choices, allow_null=True)
    referential_version = serializers.CharField(allow_null=True)
    decision_number = serializers.CharField(allow_null=True, help_text=_("Numéro de la décision ANSSI."))
    qualified_on = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    certifications = OpenDataCertificationSerializer(
        many=True, help_text=_("CSV : « type:fin de validité » séparés par « ; ».")
    )
    published_at = serializers.DateTimeField(allow_null=True)


class OpenDataViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The export, in the format of its URL. Errors answer JSON, whatever the client accepts."""

    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)
    renderer_classes = (JSONRenderer,)
    filterset_class = OfferFilterSet
    pagination_class = None
    serializer_class = OpenDataOfferSerializer
    extension = "json"

    def get_queryset(self):
        return opendata.published_offers()

    def perform_content_negotiation(self, request, force=False):
        # The format is in the path: an Accept header (text/csv...) must not turn the request into a 406.
        return super().perform_content_negotiation(request, force=True)

    def list(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        today = today_local()
        offers = self.filter_queryset(self.get_queryset())  # 400 `invalid_filter` on a bad parameter
        rows = opendata.rows(offers)
        if self.extension == "csv":
            response = StreamingHttpResponse(opendata.csv_lines(rows), content_type="text/csv; charset=utf-8")
        else:
            response = StreamingHttpResponse(opendata.json_chunks(rows), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{opendata.filename(self.extension, today=today)}"'
        response["Access-Control-Allow-Origin"] = "*"
        return response


BAD_FILTER = OpenApiResponse(api.ErrorSerializer, description=_(
    "Paramètre invalide : `code` = `invalid_filter` et, pour chaque paramètre en cause, ses erreurs."))


class OpenDataCsvViewSet(OpenDataViewSet):
    extension = "csv"

    @extend_schema(
        operation_id="v1_open_data_offers_csv", tags=["open-data"], auth=[],
        summary=_("Données ouvertes : les offres publiées (CSV)"),
        description=_("Toutes les offres publiées avec leur fournisseur, leur qualification SecNumCloud (statut, "
                      "dates, numéro de décision) et leurs certifications ; mêmes filtres que la recherche. "
                      "UTF-8 avec BOM, une ligne par offre, non paginé, diffusé au fil de l'eau."),
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description=_(
            "En-tête : %(columns)s.") % {"columns": ",".join(opendata.COLUMNS)}), 400: BAD_FILTER},
    )
    def list(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        return super().list(request, *args, **kwargs)


class OpenDataJsonViewSet(OpenDataViewSet):
    extension = "json"

    @extend_schema(
        operation_id="v1_open_data_offers_json", tags=["open-data"], auth=[],
        summary=_("Données ouvertes : les offres publiées (JSON)"),
        description=_("Les mêmes données que le CSV : un tableau JSON d'offres, non paginé, diffusé au fil de "
                      "l'eau."),
        responses={200: OpenDataOfferSerializer(many=True), 400: BAD_FILTER},
    )
    def list(self, request: Request, *args, **kwargs) -> StreamingHttpResponse:
        return super().list(request, *args, **kwargs)


urlpatterns = [
    path("open-data/offers.csv", OpenDataCsvViewSet.as_view({"get": "list"}), name="open-data-offers-csv"),
    path("open-data/offers.json", OpenDataJsonViewSet.as_view({"get": "list"}), name="open-data-offers-json"),
]
