"""Reads of stock: levels and open reorder alerts.

The number on order for a stock level comes from purchase orders, which the stock app must not
import; the procurement app registers a provider at start-up (``register_on_order_provider``).
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.db.models import BigIntegerField, Case, F, IntegerField, Sum, Value, When
from django.db.models.functions import Cast, Greatest, TruncDate
from django.utils import timezone

from common.rows import Columns, PageRows, db_value
from stock import queries
from stock.figures import CALCULATION_FIELDS, LEVEL_COLUMNS
from stock.models import (
    AdjustmentReason,
    ReorderAlert,
    ReorderPointCalculation,
    StockAdjustment,
    StockLevel,
)

_on_order_provider = None
_on_order_sql = None


def register_on_order_provider(provider, *, sql):
    """``provider(stock_ref)`` returns an expression for the quantity on order of the
    stock level that ``stock_ref`` (a field path such as ``""`` or ``"stock__"``) points at;
    ``sql(level)`` the same as SQL, of the level ``level`` (a quoted table name), for the
    statements written out (``stock.queries``)."""
    global _on_order_provider, _on_order_sql  # set once, at app start-up
    _on_order_provider, _on_order_sql = provider, sql


def quantity_on_order_expression(stock_ref=""):
    if _on_order_provider is None:
        return Value(0, output_field=IntegerField())
    return _on_order_provider(stock_ref)


def quantity_on_order_sql(level='"stock_levels"'):
    return "0" if _on_order_sql is None else _on_order_sql(level)


def list_stock_levels():
    """Levels with the working of their latest reorder-point calculation joined in."""
    return StockLevel.objects.select_related("reorder_calculation")


# A listed level's row: ``LEVEL_COLUMNS`` then the ``CALCULATION_FIELDS`` of its calculation.
LEVEL_ROW_COLUMNS = (
    *LEVEL_COLUMNS,
    *(f"reorder_calculation__{name}" for name in CALCULATION_FIELDS),
)


def stock_level_rows(levels):
    """``levels`` (a ``list_stock_levels`` queryset, filtered and ordered) as row tuples of
    ``LEVEL_ROW_COLUMNS`` (``None`` for the calculation's without one), in one query."""
    return levels.values_list(*LEVEL_ROW_COLUMNS)


class StockLevelRows(PageRows):
    """The levels ``GET /stock-levels`` lists, as row tuples of ``LEVEL_ROW_COLUMNS`` (what
    ``stock_level_rows`` reads), with the statements of ``stock.queries``. Takes the cleaned
    values of ``stock.filters.StockLevelFilter`` (its ``ordering``: names of
    ``queries.LEVEL_ORDERINGS``, ``-`` for descending)."""

    model = StockLevel
    columns = Columns(
        [
            *(StockLevel._meta.get_field(name) for name in LEVEL_COLUMNS),
            StockLevel._meta.get_field("reorder_calculation"),
            *(ReorderPointCalculation._meta.get_field(name) for name in CALCULATION_FIELDS[1:]),
        ]
    )

    def __init__(self, *, location_id=None, item_type=None, below_reorder_point=None, ordering=()):
        if location_id is not None:
            location_id = db_value(StockLevel, "location_id", location_id)
        where, params = queries.level_conditions(
            location_id=location_id, item_type=item_type, below_reorder_point=below_reorder_point
        )
        ordering = ordering or queries.DEFAULT_LEVEL_ORDERING
        super().__init__(
            params=params,
            count_sql=queries.level_count_sql(where),
            page_sql=lambda counted: queries.level_page_sql(where, ordering, counted=counted),
        )


# An alert as listed, with its level's figures as they are now (``stock.presenters``).
ALERT_COLUMNS = (
    "alert_id",
    "stock_id",
    "stock__item_type",
    "stock__location_id",
    "stock__quantity_on_hand",
    "stock__reorder_point",
    "stock__reorder_quantity",
    "suggested_quantity",
    "quantity_on_order",
    "created_at",
)


def alert_rows(alerts):
    """``alerts`` (``list_open_alerts`` or ``alerts_with_figures``, filtered and ordered) as row
    tuples of ``ALERT_COLUMNS``, in one query."""
    return alerts.values_list(*ALERT_COLUMNS)


class ReorderAlertRows(PageRows):
    """The open alerts ``GET /reorder-alerts`` lists, as row tuples of ``ALERT_COLUMNS`` (what
    ``alert_rows`` reads of ``list_open_alerts``), with the statements of ``stock.queries``.
    Takes the cleaned values of ``stock.filters.ReorderAlertFilter``."""

    model = ReorderAlert
    columns = Columns(
        [
            ReorderAlert._meta.get_field("alert_id"),
            ReorderAlert._meta.get_field("stock"),
            *(
                StockLevel._meta.get_field(name)
                for name in (
                    "item_type",
                    "location_id",
                    "quantity_on_hand",
                    "reorder_point",
                    "reorder_quantity",
                )
            ),
            None,  # suggested_quantity
            None,  # quantity_on_order
            ReorderAlert._meta.get_field("created_at"),
        ]
    )

    def __init__(self, *, location_id=None, item_type=None, ordering=()):
        if location_id is not None:
            location_id = db_value(StockLevel, "location_id", location_id)
        where, params = queries.alert_conditions(location_id=location_id, item_type=item_type)
        ordering = ordering or queries.DEFAULT_ALERT_ORDERING
        on_order = quantity_on_order_sql()
        super().__init__(
            params=params,
            count_sql=queries.alert_count_sql(where),
            page_sql=lambda counted: queries.alert_page_sql(
                where, ordering, on_order=on_order, counted=counted
            ),
        )


def open_alerts():
    """The open alerts alone: what ``list_open_alerts`` returns, without its joins (to count)."""
    return ReorderAlert.objects.filter(resolved_at__isnull=True)


def list_open_alerts():
    """Open alerts with their stock level, ``quantity_on_order`` and ``suggested_quantity``
    annotated, in one query. ``suggested_quantity`` is computed by the database from the level's
    current figures, so that it can be ordered and filtered on, in ``bigint`` (it may exceed
    2^31 - 1). The level's own figures are also
    aliased (``item_type``, ``location_id``, ``quantity_on_hand``, ``reorder_point``) for ordering.
    """
    return with_figures(open_alerts())


def alerts_with_figures(*, alert_ids):
    """The alerts ``alert_ids``, open or resolved, annotated as ``list_open_alerts`` annotates
    them (one query): what events about alerts carry."""
    return with_figures(ReorderAlert.objects.filter(pk__in=list(alert_ids)))


def with_figures(alerts):
    """``alerts`` with their stock level and the figures of ``list_open_alerts``."""
    return (
        alerts.select_related("stock")
        .alias(
            item_type=F("stock__item_type"),
            location_id=F("stock__location_id"),
            quantity_on_hand=F("stock__quantity_on_hand"),
            reorder_point=F("stock__reorder_point"),
        )
        .annotate(quantity_on_order=quantity_on_order_expression("stock__"))
        .annotate(
            # In bigint: reorder_point + reorder_quantity may pass 2^31 - 1 (each may be that
            # large), which in PostgreSQL's integer arithmetic is an error, not a big number.
            suggested_quantity=Greatest(
                Value(0, output_field=BigIntegerField()),
                Cast("stock__reorder_point", BigIntegerField())
                + Cast("stock__reorder_quantity", BigIntegerField())
                - Cast("stock__quantity_on_hand", BigIntegerField())
                - Cast("quantity_on_order", BigIntegerField()),
                output_field=BigIntegerField(),
            )
        )
    )


@dataclass(frozen=True)
class LevelHistory:
    """A level's last days, for its chart: ``on_hand`` and ``consumed`` per day (``days``
    first to today), and ``reorder_points``, (day, point) whenever the point changed."""

    days: list
    on_hand: list
    consumed: list
    reorder_points: list


def level_history(*, level, days=180, today=None):
    """Two queries whatever the length of the history: the ledger summed per day (the on hand
    at each day's end is today's on hand minus what came after), and the recalculations in the
    period (the point before the first is its ``previous_reorder_point``; a point changed by
    hand shows from the next recalculation, and today's point ends the line)."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(datetime.combine(start, time.min))
    daily = (
        StockAdjustment.objects.filter(stock=level, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            delta=Sum("quantity_delta"),
            consumed=Sum(
                Case(
                    When(reason=AdjustmentReason.CONSUMPTION, then=-F("quantity_delta")),
                    default=Value(0),
                )
            ),
        )
        .order_by("day")
        .values_list("day", "delta", "consumed")
    )
    deltas, consumed = {}, {}
    for day, delta, units in daily:
        deltas[day], consumed[day] = delta, units
    all_days = [start + timedelta(days=offset) for offset in range(days)]
    on_hand, running = [], level.quantity_on_hand
    for day in reversed(all_days):
        on_hand.append(running)
        running -= deltas.get(day, 0)
    on_hand.reverse()
    calculations = list(
        ReorderPointCalculation.objects.filter(stock=level, computed_at__gte=since)
        .order_by("computed_at", "calculation_id")
        .values_list("computed_at", "previous_reorder_point", "reorder_point")
    )
    first = calculations[0][1] if calculations else level.reorder_point
    points = [(start, first)]
    current = first
    for computed_at, _, point in calculations:
        if point is not None and point != current:
            current = point
            points.append((timezone.localdate(computed_at), point))
    points.append((today, level.reorder_point))
    return LevelHistory(
        days=all_days,
        on_hand=on_hand,
        consumed=[consumed.get(day, 0) for day in all_days],
        reorder_points=points,
    )
