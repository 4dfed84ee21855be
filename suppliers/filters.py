from procurement_site.api.filters import (
    OrderingFilter,
    StrictBooleanFilter,
    StrictFilterSet,
    StrictUUIDFilter,
    TextFilter,
)
from suppliers.models import Supplier, SupplierItem


class SupplierFilter(StrictFilterSet):
    active = StrictBooleanFilter(help_text="Only active (true) or inactive (false).")
    search = TextFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the supplier's name."
    )
    ordering = OrderingFilter(
        fields=["name", "lead_time_days", "rating", "created_at", "on_time_rate"],
        default=["name", "supplier_id"],
    )

    class Meta:
        model = Supplier
        fields = ["active", "search"]


class SupplierItemFilter(StrictFilterSet):
    supplier_id = StrictUUIDFilter(field_name="supplier_id", help_text="Only this supplier's.")
    item_type = TextFilter(help_text="Only this gear category (exact).")
    preferred = StrictBooleanFilter(help_text="Only preferred (true) or other (false) entries.")
    ordering = OrderingFilter(
        fields=["item_type", "unit_price", "created_at"], default=["item_type", "supplier_id"]
    )

    class Meta:
        model = SupplierItem
        fields = ["supplier_id", "item_type", "preferred"]
