"""Procurement pages: each area module declares its own routes."""

from procurement.views import frameworks, notifications, observatory, orders, searches

app_name = "procurement"

urlpatterns = [
    *frameworks.urlpatterns,
    *orders.urlpatterns,
    *searches.urlpatterns,
    *notifications.urlpatterns,
    *observatory.urlpatterns,
]
