"""Names shared by the stock app and code that must not import Django (``bench/floor.py``): pure,
no Django import."""

# A stock level as listed (``GET /stock-levels``), before its calculation.
LEVEL_COLUMNS = (
    "stock_id",
    "item_type",
    "location_id",
    "quantity_on_hand",
    "reorder_point",
    "reorder_quantity",
    "last_counted_at",
)
# A reorder-point calculation's columns, in the model's (and the table's) order.
CALCULATION_COLUMNS = (
    "calculation_id",
    "stock_id",
    "computed_at",
    "window_days",
    "history_days",
    "mean_daily_demand",
    "demand_stddev",
    "lead_time_days",
    "lead_time_stddev_days",
    "lead_time_source",
    "supplier_id",
    "review_days",
    "service_level",
    "z",
    "previous_reorder_point",
    "reorder_point",
    "skipped_reason",
    "method",
    "seasonal_sample_days",
    "seasonal_base_demand",
    "seasonal_base_stddev",
    "seasonal_window_total",
    "seasonal_window_total_last_year",
    "seasonal_trend",
)
# The fields the API shows of a calculation (``ReorderPointCalculationSerializer``): all but the
# level's id, which the level around it shows.
CALCULATION_FIELDS = tuple(name for name in CALCULATION_COLUMNS if name != "stock_id")
# What a recalculation gives ``stock.services.set_reorder_points`` for each level: the columns
# but the id and the previous point, which the service takes from the locked level.
CALCULATION_INPUTS = tuple(
    name for name in CALCULATION_COLUMNS if name not in ("calculation_id", "previous_reorder_point")
)
