"""API for orders: drafts, the approval workflow, and what each caller may do next (`abilities`).

Thin: the selector scopes what a user sees (a foreign order is a 404), the services
in procurement/services/orders.py enforce every rule (a refusal is a 400 with a
stable `code`, the wrong person a 403), and procurement/rules.py gives `abilities`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from broker import api
from catalogue.models import Offer
from catalogue.selectors import offers_visible, today_local
from procurement import rules
from procurement.forms import SENSITIVITY_CHOICES, OrderFilterSet
from procurement.models import FrameworkContract, Lot, Order, OrderEvent, RecordedSearch
from procurement.selectors import orders as selectors
from procurement.services import orders as services

BAD_REQUEST = OpenApiResponse(api.ErrorSerializer, description=_(
    "Refus d'une règle : `code` stable (framework_closed, not_referenced, not_eligible, ceiling_exceeded, "
    "self_approval, reason_required, invalid_transition, invalid_field…), message lisible, `reasons` de la "
    "doctrine le cas échéant."
))
UNAUTHENTICATED = OpenApiResponse(description=_("Authentification requise."))
FORBIDDEN = OpenApiResponse(description=_("Rôle ou rattachement ne permettant pas cette action."))
NOT_FOUND = OpenApiResponse(description=_("Commande inconnue, ou d'une autre administration."))


class OrderEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = OrderEvent
        fields = ["created_at", "actor", "status_from", "status_to", "reason"]


class NamedLotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lot
        fields = ["id", "number", "title"]


class OrderSerializer(serializers.ModelSerializer):
    """An order as its readers see it: amounts and snapshots, the doctrine's verdict, history and abilities."""

    # The related rows it reads (besides `events`); `search` shows only its id.
    relations = ("organisation", "created_by", "decided_by", "framework", "lot", "offer")

    organisation = serializers.CharField(source="organisation.name", read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    framework = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    framework_reference = serializers.CharField(source="framework.reference", read_only=True)
    lot = NamedLotSerializer(read_only=True)
    offer = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    events = OrderEventSerializer(many=True, read_only=True)
    abilities = serializers.SerializerMethodField(help_text=_("Les actions que l'appelant peut faire maintenant."))

    class Meta:
        model = Order
        fields = [
            "reference", "status", "organisation", "created_by", "framework", "framework_reference", "lot", "offer",
            "offer_name", "provider_name", "search", "quantity", "unit_price", "amount", "sensitivity", "starts_on",
            "ends_on", "justification", "qualification_status", "qualification_valid_until", "eligibility",
            "continuity_risk", "submitted_at", "decided_by", "decided_at", "created_at", "updated_at", "events",
            "abilities",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "properties": {name: {"type": "boolean"} for name in rules.ACTIONS}})
    def get_abilities(self, order: Order) -> dict[str, bool]:
        return rules.order_abilities(order=order, user=self.context["request"].user)


class OrderInputSerializer(serializers.Serializer):
    """What a client may send to draft or edit an order, and nothing else: no price, no status."""

    framework = serializers.SlugRelatedField(slug_field="slug", queryset=FrameworkContract.objects.all(),
                                             help_text=_("Identifiant d'URL de l'accord-cadre."))
    lot = serializers.PrimaryKeyRelatedField(queryset=Lot.objects.all(), help_text=_("Identifiant du lot."))
    offer = serializers.SlugRelatedField(slug_field="slug", queryset=Offer.objects.none(),
                                         help_text=_("Identifiant d'URL de l'offre."))
    quantity = serializers.IntegerField(min_value=1, max_value=int(services.MAX_AMOUNT), help_text=_(
        "Nombre d'unités (dans l'unité de prix de l'offre, souvent par mois) sur toute la durée du service. "
        "Montant = prix catalogue moins la remise, multiplié par la quantité, calculé par le serveur."))
    sensitivity = serializers.ChoiceField(choices=SENSITIVITY_CHOICES)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    justification = serializers.CharField(max_length=5000)
    search = serializers.PrimaryKeyRelatedField(queryset=RecordedSearch.objects.none(), required=False, allow_null=True,
                                                help_text=_("Recherche enregistrée de votre administration."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")  # absent when drf-spectacular builds the schema
        user = getattr(request, "user", None)
        # The provider's name is snapshotted on the draft: read it with the offer.
        self.fields["offer"].queryset = offers_visible(user=user).select_related("provider")
        self.fields["search"].queryset = selectors.searches_for_orders(user=user)

    def to_internal_value(self, data):
        # Mass assignment: a field the server sets (price, amount, status...) is refused, not ignored.
        if isinstance(data, Mapping):
            services.ensure_known_fields(data)
        return super().to_internal_value(data)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="",
                                   help_text=_("Obligatoire pour un rejet, facultatif pour une annulation."))

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            services.ensure_known_fields(data, allowed=self.fields)
        return super().to_internal_value(data)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description=_("Clé choisie par le client (1 à 100 caractères) : une nouvelle tentative avec la même clé "
                  "renvoie la première commande (200) au lieu d'en créer une seconde."),
)


def _workflow_schema(summary: str, *, request=None):
    return extend_schema(summary=summary, tags=["orders"], request=request,
                         responses={200: OrderSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN,
                                    404: NOT_FOUND})


@extend_schema_view(
    list=extend_schema(summary=_("Commandes visibles"), tags=["orders"],
                       responses={200: OrderSerializer(many=True), 400: BAD_REQUEST, 401: UNAUTHENTICATED}),
    retrieve=extend_schema(summary=_("Une commande"), tags=["orders"],
                           responses={200: OrderSerializer, 401: UNAUTHENTICATED, 404: NOT_FOUND}),
)
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    """Orders the caller may see: their administration's (buyers, approvers), their offers' once submitted
    (vendors), all (catalogue managers)."""

    permission_classes = (permissions.IsAuthenticated,)
    filterset_class = OrderFilterSet
    serializer_class = OrderSerializer
    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z0-9-]+"

    @cached_property
    def today(self):
        return today_local()

    def get_queryset(self):
        return selectors.order_list(user=self.request.user)

    def get_object(self) -> Order:
        # Reading shows the whole order; the other actions hand it to a service, which reads it again under lock.
        find = selectors.order_detail if self.action == "retrieve" else selectors.order_to_act_on
        try:
            return find(reference=self.kwargs["reference"], user=self.request.user)
        except Order.DoesNotExist as missing:
            raise Http404 from missing

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return OrderInputSerializer
        if self.action in ("reject", "cancel"):
            return ReasonSerializer
        return OrderSerializer

    def _read(self, order: Order, *, status_code: int = status.HTTP_200_OK) -> Response:
        """The answer to a write: the order as the service returns it, plus its history and what it lacks."""
        order = selectors.order_with_history(order=order, relations=OrderSerializer.relations)
        return Response(OrderSerializer(order, context=self.get_serializer_context()).data, status=status_code)

    @extend_schema(summary=_("Rédiger une commande (brouillon)"), tags=["orders"], parameters=[IDEMPOTENCY_KEY],
                   request=OrderInputSerializer,
                   responses={201: OrderSerializer,
                              200: OpenApiResponse(OrderSerializer, description=_("Nouvelle tentative : la "
                                                                                  "commande déjà créée.")),
                              400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN})
    def create(self, request, *args, **kwargs) -> Response:
        """Draft an order; the server computes the unit price and the amount from the referencing."""
        if not rules.may_create_order(request.user):
            raise PermissionDenied(_("Seuls les acheteurs et valideurs d'une administration peuvent commander."))
        key = request.headers.get("Idempotency-Key")
        if key is not None:
            replayed = services.order_replayed(user=request.user, idempotency_key=key)
            if replayed is not None:
                return self._read(replayed)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order, created = services.order_create(user=request.user, data=serializer.validated_data,
                                               idempotency_key=key, today=self.today, replay_checked=True)
        return self._read(order, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(summary=_("Modifier un brouillon (son auteur)"), tags=["orders"], request=OrderInputSerializer,
                   responses={200: OrderSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN,
                              404: NOT_FOUND})
    def partial_update(self, request, *args, **kwargs) -> Response:
        """Change a draft's fields; the price is recomputed. Not the status: use the actions."""
        order = self.get_object()
        if not rules.role_allows(rules.UPDATE, order=order, user=request.user):
            raise PermissionDenied(str(rules.REFUSALS[rules.UPDATE]))
        serializer = self.get_serializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        return self._read(services.order_update(order=order, user=request.user, data=serializer.validated_data))

    @_workflow_schema(_("Soumettre à validation"), request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs) -> Response:
        """Check the framework's dates, the referencing, the doctrine and the ceilings, then submit."""
        order = services.order_submit(order=self.get_object(), user=request.user, today=self.today)
        return self._read(order)

    @_workflow_schema(_("Valider (valideur de l'administration, jamais l'auteur)"), request=None)
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs) -> Response:
        """Approve, after checking the framework and the doctrine again today."""
        order = services.order_approve(order=self.get_object(), user=request.user, today=self.today)
        return self._read(order)

    @_workflow_schema(_("Rejeter (motif obligatoire)"), request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs) -> Response:
        order = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._read(services.order_reject(order=order, user=request.user,
                                                reason=serializer.validated_data["reason"]))

    @_workflow_schema(_("Annuler (auteur ou valideur)"), request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs) -> Response:
        order = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._read(services.order_cancel(order=order, user=request.user,
                                                reason=serializer.validated_data["reason"]))

    @_workflow_schema(_("Déclarer exécutée (fournisseur de l'offre)"), request=None)
    @action(detail=True, methods=["post"])
    def fulfil(self, request, *args, **kwargs) -> Response:
        return self._read(services.order_fulfil(order=self.get_object(), user=request.user))


# (prefix, viewset, basename) triples registered by procurement/api/urls.py.
routes: list = [("orders", OrderViewSet, "order")]
