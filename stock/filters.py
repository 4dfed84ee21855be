from django.db.models import F

from procurement_site.api.filters import (
    OrderingFilter,
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
    ordering = OrderingFilter(
        fields=["item_type", "location_id", "quantity_on_hand", "reorder_point"],
        default=["item_type", "location_id"],
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


class OrderedReorderAlertFilter(ReorderAlertFilter):
    """The list's filters and its order (``ReorderAlertFilter`` alone filters the count, on a
    query without the figures it may be ordered by)."""

    ordering = OrderingFilter(
        fields=[
            "created_at",
            "suggested_quantity",
            "quantity_on_order",
            "quantity_on_hand",
            "reorder_point",
            "item_type",
            "location_id",
        ],
        default=["created_at"],
    )
