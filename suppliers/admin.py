"""Suppliers in the admin, with their performance figures (learned from received purchase
orders by ``procurement.replenishment``; read-only here). A new supplier is registered through
``suppliers.services.register_supplier``."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from suppliers import charts as supplier_charts
from suppliers import services
from suppliers.models import Supplier


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "contact_email",
        "lead_time_days",
        "expected_lead_time_days",
        "lead_time_stddev_days",
        "on_time",
        "in_full",
        "receipts_count",
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
        "on_time",
        "in_full",
        "receipts_count",
        "purchase_orders",
        "lead_time_chart",
    ]
    fieldsets = [
        (None, {"fields": ["name", "contact_email", "lead_time_days", "rating", "active"]}),
        (
            "Performance (from received purchase orders)",
            {
                "fields": [
                    "expected_lead_time_days",
                    "lead_time_stddev_days",
                    "on_time",
                    "in_full",
                    "receipts_count",
                    "purchase_orders",
                ]
            },
        ),
        ("Lead times over time", {"fields": ["lead_time_chart"], "classes": ["planning"]}),
        ("Record", {"fields": ["supplier_id", "created_at"]}),
    ]

    class Media:
        css = {"all": ["planning/charts.css"]}

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets[:1] if obj is None else self.fieldsets

    @admin.display(description="in-full rate", ordering="in_full_rate")
    def in_full(self, obj):
        if obj.in_full_rate is None:
            return None
        return f"{obj.in_full_rate:.0%}"

    @admin.display(description="on-time rate", ordering="on_time_rate")
    def on_time(self, obj):
        if obj.on_time_rate is None:
            return None
        return f"{obj.on_time_rate:.0%}"

    @admin.display(description="chart")
    def lead_time_chart(self, obj):
        return supplier_charts.lead_time_chart(obj)

    @admin.display(description="purchase orders")
    def purchase_orders(self, obj):
        url = reverse("admin:procurement_purchaseorder_changelist")
        return format_html(
            '<a href="{}?supplier__supplier_id__exact={}">Purchase orders of {}</a>',
            url,
            obj.pk,
            obj.name,
        )

    def save_model(self, request, obj, form, change):
        if change:
            edited = {
                name: form.cleaned_data[name]
                for name in form.changed_data
                if name in services.EDITABLE_FIELDS
            }
            supplier = services.update_supplier(
                supplier_id=obj.pk, actor=request.user.get_username(), **edited
            )
            vars(obj).update(vars(supplier))
            return
        data = form.cleaned_data
        supplier = services.register_supplier(
            name=data["name"],
            contact_email=data["contact_email"],
            lead_time_days=data["lead_time_days"],
            rating=data["rating"],
            active=data["active"],
            actor=request.user.get_username(),
        )
        vars(obj).update(vars(supplier))
