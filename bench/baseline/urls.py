from rest_framework.routers import SimpleRouter

from bench.baseline import views

router = SimpleRouter(trailing_slash=False)
router.register("stock-levels", views.StockLevelViewSet)
router.register("stock-adjustments", views.StockAdjustmentViewSet)
router.register("reorder-alerts", views.ReorderAlertViewSet)
router.register("purchase-orders", views.PurchaseOrderViewSet)

urlpatterns = router.urls
