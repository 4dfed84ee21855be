"""The bodies of stock levels, reorder alerts and adjustments, built by plain functions (from
the selectors' rows, or the instances a service recorded): what ``StockLevelSerializer``,
``ReorderAlertSerializer`` and ``StockAdjustmentSerializer`` (the schema of these bodies)
return, byte for byte, without serializer fields."""

from django.db import models

from common.presenting import current_zone, datetime_text, datetime_text_sql, float_sql, text
from stock.figures import CALCULATION_FIELDS, LEVEL_COLUMNS
from stock.models import ReorderPointCalculation, StockLevel


def _calculation(values, zone):
    """A calculation's columns (``CALCULATION_FIELDS``), three of them written as text."""
    body = dict(zip(CALCULATION_FIELDS, values, strict=True))
    body["calculation_id"] = text(body["calculation_id"])
    body["computed_at"] = datetime_text(body["computed_at"], zone)
    body["supplier_id"] = text(body["supplier_id"])
    return body


def stock_levels(rows):
    """Rows of ``selectors.stock_level_rows`` as ``GET /stock-levels`` lists them."""
    zone = current_zone()
    return [
        {
            "stock_id": str(stock_id),
            "item_type": item_type,
            "location_id": str(location_id),
            "quantity_on_hand": on_hand,
            "reorder_point": point,
            "reorder_quantity": quantity,
            "last_counted_at": datetime_text(counted_at, zone),
            "below_reorder_point": on_hand <= point,
            "reorder_calculation": (
                None if calculation[0] is None else _calculation(calculation, zone)
            ),
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


def stock_level_sql(level="s", calculation="c"):
    """``stock_levels``' body built by the database, ``(sql, params)``: a ``jsonb`` expression
    over a level's row (alias ``level``) and its latest calculation's (alias ``calculation``, null
    columns when it has none), equal to the JSON of that body as ``integrations.events`` stores
    it (``tests/stock/test_presenters_sql.py`` compares them). For events too many to render in
    Python (a recalculation moves up to every level's point)."""
    pairs, params = [], []

    def add(name, model, column):
        sql, column_params = _value_sql(model, name, column)
        pairs.append(f"'{name}', {sql}")
        params.extend(column_params)

    for name in LEVEL_COLUMNS:
        add(name, StockLevel, f"{level}.{name}")
    pairs.append(f"'below_reorder_point', {level}.quantity_on_hand <= {level}.reorder_point")
    level_pairs, pairs = pairs, []
    for name in CALCULATION_FIELDS:
        add(name, ReorderPointCalculation, f"{calculation}.{name}")
    calculation_sql = (
        f"CASE WHEN {calculation}.calculation_id IS NOT NULL "
        f"THEN json_build_object({', '.join(pairs)}) END"
    )
    # Built as json, then read as jsonb once: a quarter faster than building jsonb, which
    # sorts the keys of each object it builds (the stored jsonb is the same).
    sql = (
        f"json_build_object({', '.join(level_pairs)}, 'reorder_calculation', {calculation_sql})"
        "::jsonb"
    )
    return sql, params


def _value_sql(model, name, column):
    """(SQL, params) of a column as the presenters write its field: ids as text, date-times as
    ``datetime_text``, floats as ``json.dumps`` writes them, the rest (whole numbers, text) as
    they are."""
    field = model._meta.get_field(name)
    if isinstance(field, models.UUIDField | models.ForeignKey):
        return f"{column}::text", []
    if isinstance(field, models.DateTimeField):
        return datetime_text_sql(column)
    if isinstance(field, models.FloatField):
        return float_sql(column)
    return column, []


def alerts(rows):
    """Rows of ``selectors.alert_rows`` as ``GET /reorder-alerts`` lists them."""
    zone = current_zone()
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
            "created_at": datetime_text(created_at, zone),
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
