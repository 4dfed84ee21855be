"""The statements of ``GET /stock-levels`` and ``GET /reorder-alerts``, written out: the API's
busiest reads send them on every request, and the ORM would compile them anew each time
(``stock.selectors.StockLevelRows`` and ``ReorderAlertRows`` send them). Pure, no Django import:
the benchmark's floor (``bench/floor.py``) sends them too. Portable SQL: ``make run``'s SQLite
runs them as well.
"""

from common.sql import insert_sql, placeholders
from stock.figures import CALCULATION_FIELDS, LEVEL_COLUMNS


def _order_by(ordering, expressions, tie_breaker):
    terms = []
    for name in ordering:
        expression = expressions.get(name.removeprefix("-"))
        if expression is None:
            raise ValueError(f"Not an ordering of this list: {name!r}.")
        terms.append(f"{expression} {'DESC' if name.startswith('-') else 'ASC'}")
    return "ORDER BY " + ", ".join([*terms, f"{tie_breaker} ASC"])


def _statement(*parts):
    return " ".join(part for part in parts if part)


def _counted(select):
    """``select`` with the count of all the rows it selects (before ``LIMIT``) first."""
    return select.replace("SELECT ", "SELECT COUNT(*) OVER (), ", 1)


# A listed level's row (``stock.selectors.LEVEL_ROW_COLUMNS``): the level's columns, then its
# calculation's, the calculation's id from the level's own column.
LEVEL_SELECT = (
    "SELECT "
    + ", ".join(f'"stock_levels"."{name}"' for name in LEVEL_COLUMNS)
    + ', "stock_levels"."reorder_calculation_id", '
    + ", ".join(f'"reorder_point_calculations"."{name}"' for name in CALCULATION_FIELDS[1:])
    + ' FROM "stock_levels" LEFT OUTER JOIN "reorder_point_calculations" ON '
    '("stock_levels"."reorder_calculation_id" = "reorder_point_calculations"."calculation_id")'
)
# What ``?ordering=`` may name (``stock.filters.StockLevelFilter``).
LEVEL_ORDERINGS = {
    name: f'"stock_levels"."{name}"'
    for name in ("item_type", "location_id", "quantity_on_hand", "reorder_point")
}
DEFAULT_LEVEL_ORDERING = ("item_type", "location_id")


def _level_filters(location_id, item_type):
    """The conditions on a level's location and item type (given or ``None``), and their
    parameters."""
    conditions, params = [], []
    if location_id is not None:
        conditions.append('"stock_levels"."location_id" = %s')
        params.append(location_id)
    if item_type:
        conditions.append('"stock_levels"."item_type" = %s')
        params.append(item_type)
    return conditions, params


def level_conditions(*, location_id=None, item_type=None, below_reorder_point=None):
    """The ``WHERE`` clause (empty for none) and its parameters. ``below_reorder_point`` is
    written as the predicate of the partial index ``idx_stock_reorder``, so that it is used."""
    conditions, params = _level_filters(location_id, item_type)
    if below_reorder_point is not None:
        operator = "<=" if below_reorder_point else ">"
        conditions.append(
            f'"stock_levels"."quantity_on_hand" {operator} "stock_levels"."reorder_point"'
        )
    return ("WHERE " + " AND ".join(conditions)) if conditions else "", params


def level_count_sql(where):
    return _statement('SELECT COUNT(*) FROM "stock_levels"', where)


def level_page_sql(where, ordering=DEFAULT_LEVEL_ORDERING, *, counted=False):
    """A page of levels (``LIMIT %s OFFSET %s``), in ``ordering`` (names of
    ``LEVEL_ORDERINGS``, ``-`` for descending), then by id: pages are stable. ``counted``: each
    row starts with the count of all the levels ``where`` selects."""
    return _statement(
        _counted(LEVEL_SELECT) if counted else LEVEL_SELECT,
        where,
        _order_by(ordering, LEVEL_ORDERINGS, '"stock_levels"."stock_id"'),
        "LIMIT %s OFFSET %s",
    )


# --- Open reorder alerts, with their level's figures as they are now -------------------------

ALERT_ORDERINGS = {
    "created_at": '"reorder_alerts"."created_at"',
    "suggested_quantity": '"suggested_quantity"',
    "quantity_on_order": '"quantity_on_order"',
    "quantity_on_hand": '"stock_levels"."quantity_on_hand"',
    "reorder_point": '"stock_levels"."reorder_point"',
    "item_type": '"stock_levels"."item_type"',
    "location_id": '"stock_levels"."location_id"',
}
DEFAULT_ALERT_ORDERING = ("created_at",)
_ALERTS_WITH_LEVELS = (
    'FROM "reorder_alerts" INNER JOIN "stock_levels" '
    'ON ("reorder_alerts"."stock_id" = "stock_levels"."stock_id")'
)


def alert_conditions(*, location_id=None, item_type=None):
    """The ``WHERE`` clause of the open alerts and its parameters."""
    conditions, params = _level_filters(location_id, item_type)
    return "WHERE " + " AND ".join(['"reorder_alerts"."resolved_at" IS NULL', *conditions]), params


def alert_count_sql(where):
    """Counted without the levels unless the filters need them (a hash join over all levels
    otherwise, most of the count's time)."""
    source = _ALERTS_WITH_LEVELS if '"stock_levels".' in where else 'FROM "reorder_alerts"'
    return _statement("SELECT COUNT(*)", source, where)


def alert_page_sql(where, ordering=DEFAULT_ALERT_ORDERING, *, on_order="0", counted=False):
    """A page of open alerts (``LIMIT %s OFFSET %s``), rows of
    ``stock.selectors.ALERT_COLUMNS``. ``on_order``: the quantity on order of the level
    ``"stock_levels"`` (an SQL expression; ``stock.selectors.quantity_on_order_sql``).
    ``suggested_quantity`` is reorder point + reorder quantity - on hand - on order, at least 0,
    in ``bigint`` (each term may be up to 2^31 - 1: PostgreSQL's ``integer`` would overflow)."""
    shortfall = (
        'CAST("stock_levels"."reorder_point" AS bigint) '
        '+ CAST("stock_levels"."reorder_quantity" AS bigint) '
        '- CAST("stock_levels"."quantity_on_hand" AS bigint) '
        f"- CAST({on_order} AS bigint)"
    )
    select = (
        'SELECT "reorder_alerts"."alert_id", "reorder_alerts"."stock_id", '
        '"stock_levels"."item_type", "stock_levels"."location_id", '
        '"stock_levels"."quantity_on_hand", "stock_levels"."reorder_point", '
        '"stock_levels"."reorder_quantity", '
        f'CASE WHEN {shortfall} > 0 THEN {shortfall} ELSE 0 END AS "suggested_quantity", '
        f'{on_order} AS "quantity_on_order", "reorder_alerts"."created_at"'
    )
    return _statement(
        _counted(select) if counted else select,
        _ALERTS_WITH_LEVELS,
        where,
        _order_by(ordering, ALERT_ORDERINGS, '"reorder_alerts"."alert_id"'),
        "LIMIT %s OFFSET %s",
    )


# --- The writes' reads: a change locks its levels, the alert rule reads their open alerts ------

# The table's columns, in the model's order (``StockLevel``).
LEVEL_TABLE_COLUMNS = (*LEVEL_COLUMNS, "reorder_calculation_id")


def lock_levels_sql(*, ids, keys, lock=True):
    """The levels of ``ids`` ids and of ``keys`` (item type, location) pairs (their parameters in
    that order), all their columns, in id order: locked (``FOR UPDATE``) unless ``lock`` is
    false (SQLite has no row locks: its first write locks the database)."""
    conditions = [f'"stock_levels"."stock_id" IN ({placeholders(ids)})'] if ids else []
    conditions += ['("stock_levels"."item_type" = %s AND "stock_levels"."location_id" = %s)'] * keys
    columns = ", ".join(f'"stock_levels"."{name}"' for name in LEVEL_TABLE_COLUMNS)
    return _statement(
        f'SELECT {columns} FROM "stock_levels" WHERE {" OR ".join(conditions)}',
        'ORDER BY "stock_levels"."stock_id" ASC',
        "FOR UPDATE" if lock else "",
    )


def open_alerts_of_sql(count):
    """The open alerts of ``count`` levels (at most one each): ``stock_id, alert_id``."""
    return (
        'SELECT "reorder_alerts"."stock_id", "reorder_alerts"."alert_id" FROM "reorder_alerts" '
        'WHERE "reorder_alerts"."resolved_at" IS NULL '
        f'AND "reorder_alerts"."stock_id" IN ({placeholders(count)})'
    )


# --- The writes: the ledger rows of a change ---------------------------------------------------

# A ledger row's columns as ``stock.services.record_adjustments`` writes them: the model's
# (``StockAdjustment``) but ``created_at``, which the database sets (its default, ``now()``).
ADJUSTMENT_INSERT_COLUMNS = (
    "adjustment_id",
    "stock_id",
    "reason",
    "quantity_delta",
    "quantity_after",
    "counted_quantity",
    "note",
    "adjusted_by",
    "po_id",
    "receipt_id",
)


def insert_adjustments_sql(count):
    """``count`` ledger rows (the values of ``ADJUSTMENT_INSERT_COLUMNS``, row after row),
    returning each row's ``created_at``: the database's default, the transaction's time, the same
    for every row (SQLite does not promise ``RETURNING`` in the rows' order; nothing depends on
    it)."""
    return insert_sql(
        "stock_adjustments",
        ADJUSTMENT_INSERT_COLUMNS,
        count,
        'RETURNING "stock_adjustments"."created_at"',
    )


def create_levels_sql(count):
    """``count`` levels (the values of ``LEVEL_TABLE_COLUMNS``, row after row); a level whose
    (item type, location) exists already is left as it is (its unique index)."""
    return insert_sql("stock_levels", LEVEL_TABLE_COLUMNS, count, "ON CONFLICT DO NOTHING")


def resolve_alerts_sql(count):
    """Resolve ``count`` alerts (``IN`` their ids, after the time: the first parameter) that
    are still open."""
    return (
        'UPDATE "reorder_alerts" SET "resolved_at" = %s WHERE ("reorder_alerts"."alert_id" IN '
        f'({placeholders(count)}) AND "reorder_alerts"."resolved_at" IS NULL)'
    )
