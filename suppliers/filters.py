import django_filters

from procurement_site.api.filters import StrictBooleanFilter
from suppliers.models import Supplier


class SupplierFilter(django_filters.FilterSet):
    active = StrictBooleanFilter(help_text="Only active (true) or inactive (false).")
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Part of the supplier's name."
    )

    class Meta:
        model = Supplier
        fields = ["active", "search"]
