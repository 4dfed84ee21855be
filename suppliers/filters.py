from procurement_site.api.filters import StrictBooleanFilter, StrictFilterSet, TextFilter
from suppliers.models import Supplier


class SupplierFilter(StrictFilterSet):
    active = StrictBooleanFilter(help_text="Only active (true) or inactive (false).")
    search = TextFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the supplier's name."
    )

    class Meta:
        model = Supplier
        fields = ["active", "search"]
