"""Catalogue API routes: providers, offers, qualifications (and their history)."""

from rest_framework.routers import DefaultRouter

from catalogue.api import opendata, vendor
from catalogue.api.views import OfferViewSet, ProviderViewSet, QualificationViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("providers", ProviderViewSet, basename="provider")
router.register("offers", OfferViewSet, basename="offer")
router.register("qualifications", QualificationViewSet, basename="qualification")
for prefix, viewset, basename in vendor.routes:  # vendor offers and the review queue
    router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls + vendor.urlpatterns + opendata.urlpatterns
