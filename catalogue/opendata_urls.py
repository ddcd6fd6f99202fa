"""Open data: the published catalogue as CSV and JSON, with the search's filters."""

from django.urls import path

from catalogue.views import opendata as views

app_name = "opendata"

urlpatterns = [
    path("catalogue/export.csv", views.export_csv, name="export-csv"),
    path("catalogue/export.json", views.export_json, name="export-json"),
]
