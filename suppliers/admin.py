from django.contrib import admin

from suppliers.models import Supplier


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "contact_email",
        "lead_time_days",
        "expected_lead_time_days",
        "lead_time_stddev_days",
        "on_time_rate",
        "rating",
        "active",
    ]
    list_filter = ["active"]
    search_fields = ["name", "contact_email"]
    readonly_fields = [
        "supplier_id",
        "created_at",
        "expected_lead_time_days",
        "lead_time_stddev_days",
        "on_time_rate",
        "receipts_count",
    ]
