"""Procurement API: each area module declares its routes."""

from rest_framework.routers import DefaultRouter

from procurement.api import frameworks, notifications, orders, searches

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
for module in (frameworks, orders, searches, notifications):
    for prefix, viewset, basename in module.routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = router.urls
