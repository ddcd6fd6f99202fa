"""Vendor and review API: vendors write their offers and profile; catalogue managers review.

- `vendor/offers/`: the vendor's offers in every state; `POST` a draft, `PATCH` an
  offer (a draft in place; a published offer as a revision awaiting review),
  actions `submit/` and `withdraw/`.
- `vendor/provider/`: the vendor's provider profile, `GET` and `PATCH`.
- `reviews/offers/` (submitted offers) with `publish/` and `request-changes/`;
  `reviews/revisions/` (pending revisions) with `approve/` and `request-changes/`.

Thin viewsets: catalogue.vendor_selectors scopes what a user sees (another
provider's offer is a 404), catalogue.services judge every write.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from broker import api, roles
from catalogue import services, vendor_selectors
from catalogue.api.vendor_serializers import (
    DecisionInputSerializer,
    OfferRevisionSerializer,
    ProviderProfileInputSerializer,
    ProviderProfileSerializer,
    ReviewOfferSerializer,
    VendorOfferDetailSerializer,
    VendorOfferInputSerializer,
    VendorOfferSerializer,
)
from catalogue.models import Offer, OfferRevision
from catalogue.selectors import today_local
from catalogue.services.providers import provider_update_profile

BAD_REQUEST = OpenApiResponse(api.ErrorSerializer, description=_(
    "Refusé : `code` stable (par exemple `field_not_allowed`, `invalid_transition`, `comment_required`, "
    "`incomplete`), message lisible, et le champ en cause."
))
UNAUTHENTICATED = OpenApiResponse(description=_("Authentification requise."))
NOT_VENDOR = OpenApiResponse(description=_("Réservé aux fournisseurs."))
NOT_MANAGER = OpenApiResponse(description=_("Réservé aux gestionnaires du catalogue."))
NOT_FOUND = OpenApiResponse(description=_("Inconnue, ou d'un autre fournisseur."))


class IsVendor(permissions.BasePermission):
    message = _("Réservé aux fournisseurs.")

    def has_permission(self, request, view) -> bool:
        return roles.is_vendor(request.user)


class IsCatalogueManager(permissions.BasePermission):
    message = _("Réservé aux gestionnaires du catalogue.")

    def has_permission(self, request, view) -> bool:
        return roles.is_catalogue_manager(request.user)


class CurationViewSet(viewsets.GenericViewSet):
    """What the vendor and review viewsets share: authentication, the day of the request, no filters."""

    filter_backends = ()

    @cached_property
    def today(self) -> date:
        return today_local()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": self.today}

    def _input(self, serializer_class, data, *, partial: bool = False) -> dict:
        serializer = serializer_class(data=data, partial=partial, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _read(self, serializer_class, instance, *, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(serializer_class(instance, context=self.get_serializer_context()).data, status=status_code)


class ReviewViewSet(CurationViewSet):
    """A review queue's item and its decisions: each runs a service taking `<target_name>=`, user= and comment=."""

    permission_classes = (permissions.IsAuthenticated, IsCatalogueManager)
    target_name = ""  # and `_decided(target)`: the item as the answer shows it after the decision

    def _decide(self, request: Request, service) -> Response:
        target = self.get_object()
        comment = self._input(DecisionInputSerializer, request.data)["comment"]
        _services_refusal(lambda: service(**{self.target_name: target}, user=request.user, comment=comment))
        return self._decided(target)


def _services_refusal(call):
    """Run a service call; a PermissionDenied from Django becomes DRF's 403."""
    try:
        return call()
    except DjangoPermissionDenied as denied:
        raise PermissionDenied(str(denied)) from denied


@extend_schema_view(
    list=extend_schema(summary=_("Mes offres (fournisseur)"), tags=["vendor"],
                       responses={200: VendorOfferSerializer(many=True), 401: UNAUTHENTICATED, 403: NOT_VENDOR}),
    retrieve=extend_schema(summary=_("Une de mes offres, avec l'historique des décisions"), tags=["vendor"],
                           responses={200: VendorOfferDetailSerializer, 401: UNAUTHENTICATED, 403: NOT_VENDOR,
                                      404: NOT_FOUND}),
)
class VendorOfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, CurationViewSet):
    """The offers of the vendor's provider, in every state; another provider's offer is not found."""

    permission_classes = (permissions.IsAuthenticated, IsVendor)
    lookup_field = "slug"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the OpenAPI generator has no vendor
            return Offer.objects.none()
        return vendor_selectors.vendor_offers(user=self.request.user)

    def get_serializer_class(self):
        return VendorOfferDetailSerializer if self.action == "retrieve" else VendorOfferSerializer

    def _reread(self, offer: Offer) -> Offer:
        return self.get_queryset().get(pk=offer.pk)

    @extend_schema(summary=_("Créer un brouillon d'offre"), tags=["vendor"], request=VendorOfferInputSerializer,
                   responses={201: VendorOfferDetailSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_VENDOR})
    def create(self, request: Request) -> Response:
        values = self._input(VendorOfferInputSerializer, request.data)
        offer = _services_refusal(lambda: services.offer_create(user=request.user, values=values))
        return self._read(VendorOfferDetailSerializer, self._reread(offer), status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("Modifier une offre"), tags=["vendor"], request=VendorOfferInputSerializer,
        description=_("Un brouillon (ou une offre renvoyée pour modifications) change sur place. Une offre "
                      "publiée ne change pas : la modification devient `pending_revision`, publiée quand un "
                      "gestionnaire du catalogue l'approuve. Un champ hors de cette liste (statut ou dates de "
                      "qualification, numéro de décision, état de publication) est refusé : 400 "
                      "`field_not_allowed`."),
        responses={200: VendorOfferDetailSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: NOT_VENDOR,
                   404: NOT_FOUND},
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        offer = self.get_object()
        values = self._input(VendorOfferInputSerializer, request.data, partial=True)
        _services_refusal(lambda: services.offer_edit(offer=offer, user=request.user, values=values))
        return self._read(VendorOfferDetailSerializer, self._reread(offer))

    @extend_schema(summary=_("Soumettre l'offre à la revue du catalogue"), tags=["vendor"], request=None,
                   responses={200: VendorOfferDetailSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_VENDOR, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, slug: str) -> Response:
        offer = self.get_object()
        _services_refusal(lambda: services.offer_submit(offer=offer, user=request.user))
        return self._read(VendorOfferDetailSerializer, self._reread(offer))

    @extend_schema(summary=_("Retirer une offre publiée du catalogue"), tags=["vendor"],
                   request=DecisionInputSerializer,
                   responses={200: VendorOfferDetailSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_VENDOR, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, slug: str) -> Response:
        offer = self.get_object()
        comment = self._input(DecisionInputSerializer, request.data)["comment"]
        _services_refusal(lambda: services.offer_withdraw(offer=offer, user=request.user, comment=comment))
        return self._read(VendorOfferDetailSerializer, self._reread(offer))


class VendorProviderView(APIView):
    """The vendor's provider profile. A change touching SecNumCloud §19.6 is recorded and told to ANSSI
    and to the buyers with committed orders on the provider's offers."""

    permission_classes = (permissions.IsAuthenticated, IsVendor)

    def _read(self, provider) -> Response:
        return Response(ProviderProfileSerializer(provider, context={"request": self.request}).data)

    @extend_schema(operation_id="v1_vendor_provider_retrieve", summary=_("Le profil de mon fournisseur"),
                   tags=["vendor"], responses={200: ProviderProfileSerializer, 401: UNAUTHENTICATED,
                                               403: NOT_VENDOR})
    def get(self, request: Request) -> Response:
        return self._read(vendor_selectors.vendor_provider(user=request.user))

    @extend_schema(operation_id="v1_vendor_provider_partial_update", summary=_("Modifier le profil de mon fournisseur"),
                   tags=["vendor"], request=ProviderProfileInputSerializer,
                   responses={200: ProviderProfileSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_VENDOR})
    def patch(self, request: Request) -> Response:
        provider = vendor_selectors.vendor_provider(user=request.user)
        serializer = ProviderProfileInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        _services_refusal(lambda: provider_update_profile(provider=provider, user=request.user,
                                                          values=dict(serializer.validated_data)))
        provider.refresh_from_db()
        return self._read(provider)


@extend_schema_view(
    list=extend_schema(summary=_("Offres soumises, à revoir"), tags=["reviews"],
                       responses={200: ReviewOfferSerializer(many=True), 401: UNAUTHENTICATED, 403: NOT_MANAGER}),
    retrieve=extend_schema(summary=_("Une offre soumise, ce qu'elle change et ses décisions"), tags=["reviews"],
                           responses={200: ReviewOfferSerializer, 401: UNAUTHENTICATED, 403: NOT_MANAGER,
                                      404: NOT_FOUND}),
)
class ReviewOfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ReviewViewSet):
    """Submitted offers awaiting a catalogue manager's decision (catalogue managers only)."""

    target_name = "offer"
    serializer_class = ReviewOfferSerializer
    lookup_field = "slug"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Offer.objects.none()
        return vendor_selectors.review_offers(user=self.request.user)

    def _decided(self, offer: Offer) -> Response:
        return self._read(ReviewOfferSerializer, vendor_selectors.review_offer(user=self.request.user,
                                                                               slug=offer.slug))

    @extend_schema(summary=_("Publier l'offre"), tags=["reviews"], request=DecisionInputSerializer,
                   responses={200: ReviewOfferSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_MANAGER, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        return self._decide(request, services.offer_publish)

    @extend_schema(summary=_("Demander des modifications au fournisseur"), tags=["reviews"],
                   request=DecisionInputSerializer,
                   responses={200: ReviewOfferSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_MANAGER, 404: NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, slug: str) -> Response:
        return self._decide(request, services.offer_request_changes)


@extend_schema_view(
    list=extend_schema(summary=_("Modifications d'offres publiées, à revoir"), tags=["reviews"],
                       responses={200: OfferRevisionSerializer(many=True), 401: UNAUTHENTICATED,
                                  403: NOT_MANAGER}),
    retrieve=extend_schema(summary=_("Une modification en attente et ce qu'elle change"), tags=["reviews"],
                           responses={200: OfferRevisionSerializer, 401: UNAUTHENTICATED, 403: NOT_MANAGER,
                                      404: NOT_FOUND}),
)
class ReviewRevisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ReviewViewSet):
    """Revisions of published offers awaiting a decision (catalogue managers only)."""

    target_name = "revision"
    serializer_class = OfferRevisionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return OfferRevision.objects.none()
        return vendor_selectors.review_revisions(user=self.request.user)

    def _decided(self, revision: OfferRevision) -> Response:
        return self._read(OfferRevisionSerializer, vendor_selectors.review_revision(user=self.request.user,
                                                                                    pk=revision.pk))

    @extend_schema(summary=_("Approuver la modification (elle est publiée)"), tags=["reviews"],
                   request=DecisionInputSerializer,
                   responses={200: OfferRevisionSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_MANAGER, 404: NOT_FOUND})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.revision_approve)

    @extend_schema(summary=_("Renvoyer la modification au fournisseur"), tags=["reviews"],
                   request=DecisionInputSerializer,
                   responses={200: OfferRevisionSerializer, 400: BAD_REQUEST, 401: UNAUTHENTICATED,
                              403: NOT_MANAGER, 404: NOT_FOUND})
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request: Request, pk: str) -> Response:
        return self._decide(request, services.revision_request_changes)


routes = [
    ("vendor/offers", VendorOfferViewSet, "vendor-offer"),
    ("reviews/offers", ReviewOfferViewSet, "review-offer"),
    ("reviews/revisions", ReviewRevisionViewSet, "review-revision"),
]

urlpatterns = [
    path("vendor/provider/", VendorProviderView.as_view(), name="vendor-provider"),
]
