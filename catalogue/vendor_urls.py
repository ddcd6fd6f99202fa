"""The vendor space, under /espace-fournisseur/."""

from django.urls import path

from catalogue.views import vendor as views

app_name = "vendor"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("nouvelle-offre/", views.offer_create, name="offer-create"),
    path("offres/<slug:slug>/", views.offer_detail, name="offer-detail"),
    path("offres/<slug:slug>/modifier/", views.offer_edit, name="offer-edit"),
    path("offres/<slug:slug>/soumettre/", views.offer_submit, name="offer-submit"),
    path("offres/<slug:slug>/retirer/", views.offer_withdraw, name="offer-withdraw"),
    path("profil/", views.profile, name="profile"),
]
