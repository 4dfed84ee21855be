from django.contrib import admin

from procurement.models import POLineItem, POStatusChange, PurchaseOrder


class POLineItemInline(admin.TabularInline):
    model = POLineItem
    extra = 0
    readonly_fields = ["line_total"]


class POStatusChangeInline(admin.TabularInline):
    model = POStatusChange
    extra = 0
    can_delete = False
    readonly_fields = ["from_status", "to_status", "changed_by", "changed_at", "reason"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = [
        "po_id",
        "supplier",
        "status",
        "total_amount",
        "currency",
        "created_at",
        "expected_delivery_date",
    ]
    list_filter = ["status", "created_at"]
    list_select_related = ["supplier"]
    readonly_fields = [
        "po_id",
        "status",
        "total_amount",
        "approved_by",
        "submitted_at",
        "approved_at",
        "created_at",
        "created_by",
        "expected_delivery_date",
        "received_at",
        "version",
    ]
    inlines = [POLineItemInline, POStatusChangeInline]
