"""URL map: public pages in French paths, the admin, the API under /api/v1/."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from broker.views import LoginView

# The API documentation pages widen the site's Content Security Policy for themselves only.
# Swagger UI: its script is served as a file by the split view; drf-spectacular's template keeps one inline
# <style> block, allowed by its hash (to recompute, from the browser's report, if drf-spectacular changes it).
swagger_csp = csp_update({"style-src": ["'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"]})
# Redoc styles itself with <style> elements made at run time (styled-components), which cannot carry a nonce
# here, and runs its search in a worker made from a blob: URL. Its logo and Google fonts stay blocked.
redoc_csp = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]})

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("connexion/", LoginView.as_view(), name="login"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("broker.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", swagger_csp(SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/redoc/", redoc_csp(SpectacularRedocView.as_view(url_name="api-schema")), name="api-redoc"),
    path("espace-fournisseur/", include("catalogue.vendor_urls")),
    path("revue/", include("catalogue.review_urls")),
    path("audit/", include("audit.urls")),
    path("", include("catalogue.opendata_urls")),
    path("", include("catalogue.urls")),
    path("", include("procurement.urls")),
]
