"""The REST API, version 1: one router for both apps."""

from django.urls import include, path

urlpatterns = [
    path("", include("catalogue.api.urls")),
    path("", include("procurement.api.urls")),
]
