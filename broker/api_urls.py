"""The REST API, version 1: the token endpoint and one router per app."""

from django.urls import include, path

from broker.api import ObtainTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("", include("catalogue.api.urls")),
    path("", include("procurement.api.urls")),
]
