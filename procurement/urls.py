from django.urls import path

from procurement.views import (
    PurchaseOrderDetailView,
    PurchaseOrderDocumentView,
    PurchaseOrderListCreateView,
    PurchaseOrderReceiptsView,
    PurchaseOrdersFromAlertsView,
)

urlpatterns = [
    path("purchase-orders", PurchaseOrderListCreateView.as_view(), name="purchase-order-list"),
    path(
        "purchase-orders/from-alerts",
        PurchaseOrdersFromAlertsView.as_view(),
        name="purchase-orders-from-alerts",
    ),
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
    path(
        "purchase-orders/<str:po_id>/document",
        PurchaseOrderDocumentView.as_view(),
        name="purchase-order-document",
    ),
]
