"""API for framework contracts: public facts for everyone, negotiated prices and amounts for signed-in users.

DESIGN: anonymous visitors see no price negotiated under a framework, so the
discounts, the discounted prices and the committed and remaining amounts are
only in the authenticated shape of each serializer.
"""

from __future__ import annotations

from functools import cached_property

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, permissions, serializers, viewsets

from catalogue.selectors import today_local
from procurement.models import FrameworkContract, FrameworkStatus, Lot, Referencing
from procurement.selectors import frameworks as selectors

NOT_FOUND = OpenApiResponse(description=_("Accord-cadre inconnu."))
MONEY = {"max_digits": 14, "decimal_places": 2, "read_only": True}


class LotPublicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lot
        fields = ["id", "number", "title", "service_model", "ceiling"]


class LotSerializer(LotPublicSerializer):
    committed = serializers.DecimalField(**MONEY, help_text=_("Montant HT des commandes soumises, validées et "
                                                              "exécutées sur ce lot."))
    remaining = serializers.DecimalField(**MONEY, allow_null=True,
                                         help_text=_("Reste sous le plafond du lot ; null sans plafond propre."))

    class Meta(LotPublicSerializer.Meta):
        fields = [*LotPublicSerializer.Meta.fields, "committed", "remaining"]


class ReferencedOfferPublicSerializer(serializers.ModelSerializer):
    offer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    offer_name = serializers.CharField(source="offer.name", read_only=True)
    provider = serializers.CharField(source="offer.provider.name", read_only=True)
    service_model = serializers.CharField(source="offer.service_model", read_only=True)
    list_price = serializers.DecimalField(source="offer.list_price", max_digits=12, decimal_places=2,
                                          read_only=True, allow_null=True)
    price_unit = serializers.CharField(source="offer.price_unit", read_only=True)

    class Meta:
        model = Referencing
        fields = ["offer", "offer_name", "provider", "service_model", "list_price", "price_unit"]


class ReferencedOfferSerializer(ReferencedOfferPublicSerializer):
    discount_percent = serializers.DecimalField(source="discount", max_digits=5, decimal_places=2, read_only=True,
                                                help_text=_("Remise applicable (celle du lot, sinon de l'accord)."))
    discounted_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True,
                                                help_text=_("Prix catalogue moins la remise, HT."))

    class Meta(ReferencedOfferPublicSerializer.Meta):
        fields = [*ReferencedOfferPublicSerializer.Meta.fields, "discount_percent", "discounted_price"]


class LotDetailPublicSerializer(LotPublicSerializer):
    offers = ReferencedOfferPublicSerializer(source="visible_referencings", many=True, read_only=True)

    class Meta(LotPublicSerializer.Meta):
        fields = [*LotPublicSerializer.Meta.fields, "offers"]


class LotDetailSerializer(LotSerializer):
    offers = ReferencedOfferSerializer(source="visible_referencings", many=True, read_only=True)

    class Meta(LotSerializer.Meta):
        fields = [*LotSerializer.Meta.fields, "offers"]


class FrameworkPublicSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField(help_text=_("Déduit des dates (et de la résiliation) ce jour."))
    lots = LotPublicSerializer(many=True, read_only=True)

    class Meta:
        model = FrameworkContract
        fields = ["reference", "slug", "title", "description", "purchasing_body", "holder", "starts_on", "ends_on",
                  "terminated_on", "status", "ceiling", "lots"]

    @extend_schema_field(serializers.ChoiceField(choices=FrameworkStatus.choices))
    def get_status(self, framework: FrameworkContract) -> str:
        return framework.status_on(self.context["today"])


class FrameworkSerializer(FrameworkPublicSerializer):
    committed = serializers.DecimalField(**MONEY, help_text=_("Montant HT des commandes soumises, validées et "
                                                              "exécutées."))
    remaining = serializers.DecimalField(**MONEY, help_text=_("Reste sous le plafond de l'accord-cadre."))
    lots = LotSerializer(many=True, read_only=True)

    class Meta(FrameworkPublicSerializer.Meta):
        fields = [*FrameworkPublicSerializer.Meta.fields, "discount_percent", "committed", "remaining"]


class FrameworkDetailPublicSerializer(FrameworkPublicSerializer):
    lots = LotDetailPublicSerializer(many=True, read_only=True)


class FrameworkDetailSerializer(FrameworkSerializer):
    lots = LotDetailSerializer(many=True, read_only=True)


SIGNED_IN_ONLY = _("Les remises, prix remisés et montants engagés ou restants ne sont donnés qu'aux utilisateurs "
                   "connectés.")


@extend_schema_view(
    list=extend_schema(summary=_("Accords-cadres"), tags=["frameworks"], description=SIGNED_IN_ONLY,
                       responses={200: FrameworkSerializer(many=True)}),
    retrieve=extend_schema(summary=_("Un accord-cadre, ses lots et les offres référencées"), tags=["frameworks"],
                           description=SIGNED_IN_ONLY, responses={200: FrameworkDetailSerializer, 404: NOT_FOUND}),
)
class FrameworkViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Framework contracts (public) with their lots, ceilings, and for signed-in users what is committed."""

    permission_classes = (permissions.AllowAny,)
    filter_backends = ()
    lookup_field = "slug"

    @cached_property
    def today(self):
        return today_local()

    def get_queryset(self):
        return selectors.framework_list(user=self.request.user)

    def get_object(self) -> FrameworkContract:
        try:
            return selectors.framework_detail(slug=self.kwargs["slug"], user=self.request.user)
        except FrameworkContract.DoesNotExist as missing:
            raise Http404 from missing

    def get_serializer_class(self):
        signed_in = self.request.user.is_authenticated
        if self.action == "retrieve":
            return FrameworkDetailSerializer if signed_in else FrameworkDetailPublicSerializer
        return FrameworkSerializer if signed_in else FrameworkPublicSerializer

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": self.today}


# (prefix, viewset, basename) triples registered by procurement/api/urls.py.
routes: list = [("frameworks", FrameworkViewSet, "framework")]
