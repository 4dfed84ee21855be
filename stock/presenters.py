"""The bodies of stock levels, reorder alerts and adjustments, built by plain functions (from
the selectors' rows, or the instances a service recorded): what ``StockLevelSerializer``,
``ReorderAlertSerializer`` and ``StockAdjustmentSerializer`` (the schema of these bodies)
return, byte for byte, without serializer fields."""

from common.presenting import datetime_text, text
from stock.figures import CALCULATION_FIELDS

# How each column of a calculation is written (``None``: as it comes, a number or a choice).
_FORMATS = tuple(
    {"computed_at": datetime_text, "calculation_id": text, "supplier_id": text}.get(name)
    for name in CALCULATION_FIELDS
)


def _calculation(values):
    return {
        name: value if format_ is None else format_(value)
        for name, format_, value in zip(CALCULATION_FIELDS, _FORMATS, values, strict=True)
    }


def stock_levels(rows):
    """Rows of ``selectors.stock_level_rows`` as ``GET /stock-levels`` lists them."""
    return [
        {
            "stock_id": str(stock_id),
            "item_type": item_type,
            "location_id": str(location_id),
            "quantity_on_hand": on_hand,
            "reorder_point": point,
            "reorder_quantity": quantity,
            "last_counted_at": datetime_text(counted_at),
            "below_reorder_point": on_hand <= point,
            "reorder_calculation": None if calculation[0] is None else _calculation(calculation),
        }
        for (
            stock_id,
            item_type,
            location_id,
            on_hand,
            point,
            quantity,
            counted_at,
            *calculation,
        ) in rows
    ]


def alerts(rows):
    """Rows of ``selectors.alert_rows`` as ``GET /reorder-alerts`` lists them."""
    return [
        {
            "alert_id": str(alert_id),
            "stock_id": str(stock_id),
            "item_type": item_type,
            "location_id": str(location_id),
            "quantity_on_hand": on_hand,
            "reorder_point": point,
            "reorder_quantity": quantity,
            "suggested_quantity": suggested,
            "quantity_on_order": on_order,
            "created_at": datetime_text(created_at),
        }
        for (
            alert_id,
            stock_id,
            item_type,
            location_id,
            on_hand,
            point,
            quantity,
            suggested,
            on_order,
            created_at,
        ) in rows
    ]


def adjustments(recorded):
    """Adjustments as ``POST /stock-adjustments`` returns them (model instances, their ``stock``
    as it is after them, as ``stock.services.record_adjustments`` returns them)."""
    return [
        {
            "adjustment_id": str(adjustment.adjustment_id),
            "stock_id": str(adjustment.stock_id),
            "item_type": adjustment.stock.item_type,
            "location_id": str(adjustment.stock.location_id),
            "reason": str(adjustment.reason),
            "quantity_delta": adjustment.quantity_delta,
            "quantity_after": adjustment.quantity_after,
            "counted_quantity": adjustment.counted_quantity,
            "note": text(adjustment.note),
            "adjusted_by": text(adjustment.adjusted_by),
            "created_at": datetime_text(adjustment.created_at),
            "quantity_on_hand": adjustment.stock.quantity_on_hand,
        }
        for adjustment in recorded
    ]
