from procurement_site.api.filters import (
    OrderingFilter,
    StrictBooleanFilter,
    StrictFilterSet,
    StrictUUIDFilter,
    TextFilter,
)
from stock.models import ReorderAlert, StockLevel
from stock.queries import (
    ALERT_ORDERINGS,
    DEFAULT_ALERT_ORDERING,
    DEFAULT_LEVEL_ORDERING,
    LEVEL_ORDERINGS,
)


class StockLevelFilter(StrictFilterSet):
    """What ``GET /stock-levels`` takes; ``stock.selectors.StockLevelRows`` writes the SQL of the
    values it cleans (``stock.queries``)."""

    location_id = StrictUUIDFilter(help_text="Only this location.")
    item_type = TextFilter(help_text="Only this gear category (exact).")
    below_reorder_point = StrictBooleanFilter(
        help_text="Only levels at or below (true) or above (false) their reorder point.",
    )
    ordering = OrderingFilter(fields=list(LEVEL_ORDERINGS), default=DEFAULT_LEVEL_ORDERING)

    class Meta:
        model = StockLevel
        fields = ["location_id", "item_type", "below_reorder_point"]


class ReorderAlertFilter(StrictFilterSet):
    """What ``GET /reorder-alerts`` takes; ``stock.selectors.ReorderAlertRows`` writes the SQL of
    the values it cleans (``stock.queries``)."""

    location_id = StrictUUIDFilter(help_text="Only this location.")
    item_type = TextFilter(help_text="Only this gear category (exact).")
    ordering = OrderingFilter(fields=list(ALERT_ORDERINGS), default=DEFAULT_ALERT_ORDERING)

    class Meta:
        model = ReorderAlert
        fields = ["location_id", "item_type"]
