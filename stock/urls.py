from django.urls import path

from stock.views import ReorderAlertListView, StockAdjustmentCreateView, StockLevelListView

urlpatterns = [
    path("stock-levels", StockLevelListView.as_view(), name="stock-level-list"),
    path("stock-adjustments", StockAdjustmentCreateView.as_view(), name="stock-adjustment-create"),
    path("reorder-alerts", ReorderAlertListView.as_view(), name="reorder-alert-list"),
]
