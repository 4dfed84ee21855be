"""Suppliers in the admin, with their performance figures (learned from received purchase
orders by ``procurement.lead_times``; read-only here). A new supplier is registered through
``suppliers.services.register_supplier``."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from common.admin import adopt_saved
from common.errors import InvalidInput
from suppliers import charts as supplier_charts
from suppliers import services
from suppliers.models import Supplier, SupplierItem


class SupplierItemForm(forms.ModelForm):
    """A catalog entry's terms, validated and saved by ``suppliers.services`` (which moves the
    item type's preference race-free)."""

    class Meta:
        model = SupplierItem
        fields = ["supplier", "item_type", *services.CATALOG_EDITABLE_FIELDS]

    def clean(self):
        data = super().clean()
        terms = {name: data[name] for name in services.CATALOG_EDITABLE_FIELDS if name in data}
        try:
            services.validate_supplier_item_terms(**terms)
        except InvalidInput as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return data


def save_supplier_item(form, obj, *, change):
    """Through the services: a new entry is created, a changed one updated (only its changed
    terms), so that making it preferred un-prefers the other supplier."""
    data = form.cleaned_data
    if change:
        changed = {
            name: data[name]
            for name in form.changed_data
            if name in services.CATALOG_EDITABLE_FIELDS
        }
        saved = services.update_supplier_item(supplier_item_id=obj.pk, **changed)
    else:
        saved = services.create_supplier_item(
            supplier_id=data["supplier"].pk,
            item_type=data["item_type"],
            **{name: data[name] for name in services.CATALOG_EDITABLE_FIELDS if name in data},
        )
    adopt_saved(obj, saved)


class SupplierItemInline(admin.TabularInline):
    model = SupplierItem
    form = SupplierItemForm
    extra = 0
    fields = ["item_type", *services.CATALOG_EDITABLE_FIELDS]
    ordering = ["item_type"]
    verbose_name_plural = "catalog"

    def has_delete_permission(self, request, obj=None):
        """Catalog entries are kept for the record: un-prefer or change them instead."""
        return False


@admin.register(SupplierItem)
class SupplierItemAdmin(admin.ModelAdmin):
    form = SupplierItemForm
    list_display = ["item_type", "supplier", *services.CATALOG_EDITABLE_FIELDS]
    list_filter = ["preferred", "item_type", ("supplier", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["item_type", "supplier_sku", "supplier__name"]
    list_select_related = ["supplier"]
    readonly_fields = ["supplier_item_id", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # An entry's supplier and item type do not change: add another entry instead.
        if obj is not None:
            return [*self.readonly_fields, "supplier", "item_type"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        save_supplier_item(form, obj, change=change)


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

    inlines = [SupplierItemInline]

    def get_fieldsets(self, request, obj=None):
        return self.fieldsets[:1] if obj is None else self.fieldsets

    @admin.display(description="in-full rate", ordering="in_full_rate")
    def in_full(self, obj):
        if obj.in_full_rate is None:
            return None
        return f"{obj.in_full_rate:.0%}"

    def save_formset(self, request, form, formset, change):
        if formset.model is not SupplierItem:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for item_form in formset.forms:
            if not hasattr(item_form, "cleaned_data") or not item_form.has_changed():
                continue
            adding = item_form in formset.extra_forms
            item_form.cleaned_data["supplier"] = form.instance
            save_supplier_item(item_form, item_form.instance, change=not adding)
            if adding:
                formset.new_objects.append(item_form.instance)
            else:
                formset.changed_objects.append((item_form.instance, item_form.changed_data))
        return None

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
            adopt_saved(obj, supplier)
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
        adopt_saved(obj, supplier)
