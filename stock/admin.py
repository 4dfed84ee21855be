from django.contrib import admin

from stock.models import ReorderAlert, StockAdjustment, StockLevel


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = [
        "item_type",
        "location_id",
        "quantity_on_hand",
        "reorder_point",
        "reorder_quantity",
        "last_counted_at",
    ]
    list_filter = ["item_type"]
    search_fields = ["item_type", "=location_id"]
    readonly_fields = ["stock_id", "quantity_on_hand", "last_counted_at"]


@admin.register(StockAdjustment)
class StockAdjustmentAdmin(admin.ModelAdmin):
    """The ledger: read-only."""

    list_display = [
        "created_at",
        "stock",
        "reason",
        "quantity_delta",
        "quantity_after",
        "adjusted_by",
    ]
    list_filter = ["reason"]
    list_select_related = ["stock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReorderAlert)
class ReorderAlertAdmin(admin.ModelAdmin):
    list_display = [
        "stock",
        "quantity_at_open",
        "reorder_point_at_open",
        "created_at",
        "resolved_at",
    ]
    list_select_related = ["stock"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
