"""Public catalogue pages: home, faceted search, offer and provider pages."""

from django.urls import path

from catalogue.views import public as views

app_name = "catalogue"

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", views.offer_list, name="offer-list"),
    path("catalogue/<slug:slug>/", views.offer_detail, name="offer-detail"),
    path("fournisseurs/<slug:slug>/", views.provider_detail, name="provider-detail"),
]
