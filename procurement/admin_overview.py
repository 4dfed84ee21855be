"""The admin's "Replenishment overview" page (``/admin/replenishment/``): read-only, for staff
who may view stock levels and purchase orders."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from procurement.overview import overview_charts, replenishment_overview

VIEW_PERMISSIONS = ("stock.view_stocklevel", "procurement.view_purchaseorder")


def replenishment_overview_view(request):
    if not request.user.has_perms(VIEW_PERMISSIONS):
        raise PermissionDenied
    overview = replenishment_overview()
    context = {
        **admin.site.each_context(request),
        "title": "Replenishment overview",
        "overview": overview,
        "charts": overview_charts(overview),
    }
    return TemplateResponse(request, "admin/procurement/replenishment_overview.html", context)


replenishment_overview_admin_view = admin.site.admin_view(replenishment_overview_view)
