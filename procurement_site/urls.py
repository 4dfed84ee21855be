from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from procurement.admin_overview import replenishment_overview_admin_view

urlpatterns = [
    path("", include("suppliers.urls")),
    path("", include("stock.urls")),
    path("", include("procurement.urls")),
    path("", include("integrations.urls")),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script is served at `api/docs?script` (no inline script: CSP).
    path(
        "api/docs",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="swagger-ui",
    ),
    path(
        "admin/replenishment/",
        replenishment_overview_admin_view,
        name="admin-replenishment-overview",
    ),
    path("admin/", admin.site.urls),
]

handler400 = "procurement_site.api.errors.json_400"
handler403 = "procurement_site.api.errors.json_403"
handler404 = "procurement_site.api.errors.json_404"
handler500 = "procurement_site.api.errors.json_500"
