"""The review queue of catalogue managers, under /revue/."""

from django.urls import path

from catalogue.views import review as views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("offres/<slug:slug>/", views.offer_review, name="offer-detail"),
    path("modifications/<int:pk>/", views.revision_review, name="revision-detail"),
]
