from django.db.models import F

from procurement_site.api.filters import (
    StrictBooleanFilter,
    StrictFilterSet,
    StrictUUIDFilter,
    TextFilter,
)
from stock.models import ReorderAlert, StockLevel


class StockLevelFilter(StrictFilterSet):
    location_id = StrictUUIDFilter(help_text="Only this location.")
    item_type = TextFilter(help_text="Only this gear category (exact).")
    below_reorder_point = StrictBooleanFilter(
        method="filter_below_reorder_point",
        help_text="Only levels at or below (true) or above (false) their reorder point.",
    )

    class Meta:
        model = StockLevel
        fields = ["location_id", "item_type", "below_reorder_point"]

    def filter_below_reorder_point(self, queryset, name, value):
        # Written as the predicate of the partial index idx_stock_reorder so PostgreSQL can use it.
        if value:
            return queryset.filter(quantity_on_hand__lte=F("reorder_point"))
        return queryset.filter(quantity_on_hand__gt=F("reorder_point"))


class ReorderAlertFilter(StrictFilterSet):
    location_id = StrictUUIDFilter(field_name="stock__location_id", help_text="Only this location.")
    item_type = TextFilter(
        field_name="stock__item_type", help_text="Only this gear category (exact)."
    )

    class Meta:
        model = ReorderAlert
        fields = ["location_id", "item_type"]
