from django.urls import path

from procurement.views import (
    PurchaseOrderDetailView,
    PurchaseOrderListCreateView,
    PurchaseOrderReceiptsView,
)

urlpatterns = [
    path("purchase-orders", PurchaseOrderListCreateView.as_view(), name="purchase-order-list"),
    path(
        "purchase-orders/<str:po_id>",
        PurchaseOrderDetailView.as_view(),
        name="purchase-order-detail",
    ),
    path(
        "purchase-orders/<str:po_id>/receipts",
        PurchaseOrderReceiptsView.as_view(),
        name="purchase-order-receipts",
    ),
]
