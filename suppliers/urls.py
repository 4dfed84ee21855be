from django.urls import path

from suppliers.views import (
    SupplierItemDetailView,
    SupplierItemListCreateView,
    SupplierListCreateView,
)

urlpatterns = [
    path("suppliers", SupplierListCreateView.as_view(), name="supplier-list"),
    path("supplier-items", SupplierItemListCreateView.as_view(), name="supplier-item-list"),
    path(
        "supplier-items/<str:supplier_item_id>",
        SupplierItemDetailView.as_view(),
        name="supplier-item-detail",
    ),
]
