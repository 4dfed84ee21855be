from procurement_site.api.filters import (
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

    class Meta:
        model = Supplier
        fields = ["active", "search"]


class SupplierItemFilter(StrictFilterSet):
    supplier_id = StrictUUIDFilter(field_name="supplier_id", help_text="Only this supplier's.")
    item_type = TextFilter(help_text="Only this gear category (exact).")
    preferred = StrictBooleanFilter(help_text="Only preferred (true) or other (false) entries.")

    class Meta:
        model = SupplierItem
        fields = ["supplier_id", "item_type", "preferred"]
