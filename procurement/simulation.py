"""The replenishment policy replayed against recorded consumption (``simulate_replenishment``).

For each stock level, the last ``days`` complete days are replayed as if the recalculation had
run every night: each day the reorder point is computed from the consumption before that day
(the method and formulas of ``procurement.statistics``), and an order of the level's reorder
quantity is placed whenever on hand plus on order is at or below it; it arrives after the lead
time the supplier actually showed (its latest receipt before that day; its first one before its
first receipt; its declared lead time without receipts). Each day's recorded consumption is the
demand; what on hand cannot serve is lost.

Inputs taken as they are today, because their past values are not kept: the level's supplier
(that of its latest committed purchase), its reorder quantity, and its current reorder point as
the point on the days the recalculation would skip it (too little history). The replay starts
with the on hand the ledger recorded just before its first day, and nothing on order.

It writes nothing. Reads: four queries whatever the number of levels (the levels, their
suppliers, the suppliers' lead-time history, and the daily consumption streamed level by level
through a server-side cursor on PostgreSQL), so that memory stays flat.
"""

import bisect
import math
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from common.errors import InvalidInput
from procurement.models import POLineItem
from procurement.replenishment import level_filter, validate_policy
from procurement.selectors import latest_committed_lines
from procurement.statistics import (
    DAYS_PER_YEAR,
    MIN_LEAD_TIME_DAYS,
    MIN_RECEIPTS_FOR_LEARNED,
    MIN_SEASONAL_SAMPLE_DAYS,
    Method,
    ReplayOutcome,
    prefix_sums,
    reorder_point_on_day,
    replay_policy,
)
from stock.models import StockLevel
from suppliers.models import LeadTimeObservation

FETCH_SIZE = 20_000


@dataclass(frozen=True)
class LevelSimulation:
    stock_id: uuid.UUID
    item_type: str
    location_id: uuid.UUID
    outcome: ReplayOutcome

    def as_dict(self):
        return {
            "stock_id": str(self.stock_id),
            "item_type": self.item_type,
            "location_id": str(self.location_id),
            **_figures(self.outcome),
        }


@dataclass
class SimulationReport:
    """Per level and in total. The totals pool every level's cycles, units and days:
    ``average_on_hand`` is the units on hand across all the levels together, on average."""

    days: int
    method: str
    service_level: float
    levels: list[LevelSimulation] = field(default_factory=list)

    @property
    def totals(self):
        outcomes = [level.outcome for level in self.levels]
        pooled = ReplayOutcome(
            days=self.days,
            **{
                name: sum(getattr(outcome, name) for outcome in outcomes)
                for name in (
                    "orders",
                    "cycles",
                    "cycles_with_stockout",
                    "demanded",
                    "served",
                    "stockout_days",
                    "on_hand_total",
                )
            },
        )
        return _figures(pooled)

    def as_json(self):
        return {"levels": [level.as_dict() for level in self.levels], "totals": self.totals}


def _figures(outcome):
    def rounded(value, places):
        return None if value is None else round(value, places)

    return {
        "cycle_service_level": rounded(outcome.cycle_service_level, 4),
        "fill_rate": rounded(outcome.fill_rate, 4),
        "stockout_days": outcome.stockout_days,
        "average_on_hand": rounded(outcome.average_on_hand, 2),
        "orders": outcome.orders,
    }


def simulate_replenishment(
    *,
    days=365,
    service_level=0.95,
    method=Method.AUTO,
    window_days=90,
    review_days=1,
    location_id=None,
    item_type=None,
    now=None,
):
    """Replay the last ``days`` days of every selected level (see the module's docstring)."""
    if days < 1:
        raise InvalidInput("days must be at least 1.", field="days")
    validate_policy(
        window_days=window_days, service_level=service_level, review_days=review_days, method=method
    )
    now = now or timezone.now()
    today = timezone.localdate(now)
    first_simulated = today - timedelta(days=days)
    lookback = (
        window_days
        if method == Method.STATIONARY
        else DAYS_PER_YEAR + max(window_days, MIN_SEASONAL_SAMPLE_DAYS)
    )
    series_start = first_simulated - timedelta(days=lookback)
    context = _Context(
        series_start=series_start,
        offset=lookback,
        days=days,
        method=method,
        window_days=window_days,
        review_days=review_days,
        z=statistics.NormalDist().inv_cdf(service_level),
    )
    levels = _levels(first_simulated=first_simulated, location_id=location_id, item_type=item_type)
    suppliers = _suppliers(location_id=location_id, item_type=item_type)
    history = _lead_time_history({row[0] for row in suppliers.values()})
    report = SimulationReport(days=days, method=method, service_level=service_level)
    # Both in stock_id order: the consumption is merged in level by level, never all held.
    consumption = _daily_consumption(
        start=series_start, end=today, location_id=location_id, item_type=item_type
    )
    pending = next(consumption, None)
    lead_times_by_supplier = {}
    for level in levels:
        demand = {}
        while pending is not None and pending[0] < level.stock_id:
            pending = next(consumption, None)
        if pending is not None and pending[0] == level.stock_id:
            demand, pending = pending[1], next(consumption, None)
        supplier = suppliers.get((level.item_type, level.location_id)) or suppliers.get(
            level.item_type
        )
        key = supplier[0] if supplier else None
        if key not in lead_times_by_supplier:
            lead_times_by_supplier[key] = _daily_lead_times(
                supplier=supplier, history=history.get(key, []), context=context
            )
        outcome = _simulate_level(
            level,
            demand=demand,
            lead_times=lead_times_by_supplier[key],
            context=context,
        )
        report.levels.append(
            LevelSimulation(
                stock_id=level.stock_id,
                item_type=level.item_type,
                location_id=level.location_id,
                outcome=outcome,
            )
        )
    return report


@dataclass(frozen=True)
class _Context:
    series_start: date
    offset: int  # index of the first simulated day in the series
    days: int
    method: str
    window_days: int
    review_days: int
    z: float


@dataclass(frozen=True)
class _Level:
    stock_id: uuid.UUID
    item_type: str
    location_id: uuid.UUID
    reorder_point: int
    reorder_quantity: int
    first_day: date | None
    start_on_hand: int


@dataclass(frozen=True)
class _DailyLeadTimes:
    """Per simulated day: the lead time and spread the recalculation would use, and the lead
    time an order placed that day takes."""

    planned: list
    spread: list
    actual: list


def _simulate_level(level, *, demand, lead_times, context):
    length = context.offset + context.days
    series = [0] * length
    for index, units in demand.items():
        series[index] = units
    sums, squares = prefix_sums(series)
    first = (level.first_day - context.series_start).days if level.first_day is not None else length
    points = []
    for day in range(context.days):
        index = context.offset + day
        if first >= index:
            points.append(None)
            continue
        points.append(
            reorder_point_on_day(
                sums=sums,
                squares=squares,
                day=index,
                first_day=first,
                method=context.method,
                window_days=context.window_days,
                lead_time_days=lead_times.planned[day],
                lead_time_stddev_days=lead_times.spread[day],
                review_days=context.review_days,
                z=context.z,
            ).point
        )
    return replay_policy(
        demand=series[context.offset :],
        points=points,
        lead_times=lead_times.actual,
        start_on_hand=level.start_on_hand,
        initial_point=level.reorder_point,
        reorder_quantity=level.reorder_quantity,
    )


def _daily_lead_times(*, supplier, history, context):
    """``history``: the supplier's (received day, actual, learned, spread, count), in order."""
    first_day = context.series_start + timedelta(days=context.offset)
    if supplier is None:
        default = float(settings.DEFAULT_LEAD_TIME_DAYS)
        return _DailyLeadTimes(
            planned=[max(default, MIN_LEAD_TIME_DAYS)] * context.days,
            spread=[0.0] * context.days,
            actual=[_whole_days(default)] * context.days,
        )
    declared = float(supplier[1])
    received_days = [entry[0] for entry in history]
    planned, spread, actual = [], [], []
    for day in range(context.days):
        when = first_day + timedelta(days=day)
        known = bisect.bisect_left(received_days, when)  # receipts before that day
        if known:
            _, last_actual, learned, learned_spread, count = history[known - 1]
        else:
            last_actual, learned, learned_spread, count = None, None, None, 0
        if count >= MIN_RECEIPTS_FOR_LEARNED:
            planned.append(max(float(learned), MIN_LEAD_TIME_DAYS))
            spread.append(float(learned_spread))
        else:
            planned.append(max(declared, MIN_LEAD_TIME_DAYS))
            spread.append(0.0)
        if last_actual is None:
            last_actual = history[0][1] if history else declared
        actual.append(_whole_days(last_actual))
    return _DailyLeadTimes(planned=planned, spread=spread, actual=actual)


def _whole_days(lead_time):
    return max(1, math.ceil(lead_time - 1e-9))


def _aware(day):
    return connection.ops.adapt_datetimefield_value(
        timezone.make_aware(datetime.combine(day, time.min))
    )


def _levels(*, first_simulated, location_id, item_type):
    """One query: the selected levels, their first recorded day and the on hand the ledger
    recorded just before the first simulated day."""
    tzname = timezone.get_current_timezone_name()
    where, params = level_filter(location_id=location_id, item_type=item_type)
    first_sql, first_params = connection.ops.datetime_cast_date_sql(
        "(SELECT MIN(f.created_at) FROM stock_adjustments f WHERE f.stock_id = s.stock_id)",
        [],
        tzname,
    )
    sql = f"""
        SELECT s.stock_id, s.item_type, s.location_id, s.reorder_point, s.reorder_quantity,
               {first_sql},
               (SELECT b.quantity_after FROM stock_adjustments b
                WHERE b.stock_id = s.stock_id AND b.created_at < %s
                ORDER BY b.created_at DESC, b.adjustment_id DESC LIMIT 1)
        FROM stock_levels s
        WHERE {where}
        ORDER BY s.stock_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*first_params, _aware(first_simulated), *params])
        return [
            _Level(
                stock_id=_uuid(stock_id),
                item_type=item,
                location_id=_uuid(location),
                reorder_point=point,
                reorder_quantity=quantity,
                first_day=_date(first_day),
                start_on_hand=on_hand or 0,
            )
            for stock_id, item, location, point, quantity, first_day, on_hand in cursor.fetchall()
        ]


def _suppliers(*, location_id, item_type):
    """One query: ``{(item_type, location_id) | item_type: (supplier_id, declared lead time)}``
    from the latest committed purchase, as the recalculation chooses."""
    lines = POLineItem.objects.all()
    if location_id is not None or item_type is not None:
        levels = StockLevel.objects.all()
        if location_id is not None:
            levels = levels.filter(location_id=location_id)
        if item_type is not None:
            levels = levels.filter(item_type=item_type)
        lines = lines.filter(item_type__in=levels.values("item_type"))
    return latest_committed_lines(
        lines=lines,
        fields=["purchase_order__supplier_id", "purchase_order__supplier__lead_time_days"],
    )


def _lead_time_history(supplier_ids):
    """One query: ``{supplier_id: [(received day, actual, learned, spread, count), ...]}``."""
    history = {}
    rows = (
        LeadTimeObservation.objects.filter(supplier_id__in=supplier_ids)
        .order_by("supplier_id", "received_at", "observation_id")
        .values_list(
            "supplier_id",
            "received_at",
            "actual_lead_time_days",
            "expected_lead_time_days",
            "lead_time_stddev_days",
            "receipts_count",
        )
    )
    for supplier_id, received_at, actual, learned, spread, count in rows:
        history.setdefault(supplier_id, []).append(
            (timezone.localdate(received_at), actual, learned, spread, count)
        )
    return history


def _daily_consumption(*, start, end, location_id, item_type) -> Iterator:
    """One query, streamed: ``(stock_id, {day index from start: units})`` per level with
    consumption in [start, end)."""
    tzname = timezone.get_current_timezone_name()
    where, params = level_filter(location_id=location_id, item_type=item_type)
    day_sql, day_params = connection.ops.datetime_cast_date_sql("a.created_at", [], tzname)
    sql = f"""
        SELECT c.stock_id, c.day, -SUM(c.quantity_delta)
        FROM (
            SELECT a.stock_id, a.quantity_delta, {day_sql} AS day
            FROM stock_adjustments a
            JOIN stock_levels s ON s.stock_id = a.stock_id
            WHERE a.reason = %s AND a.created_at >= %s AND a.created_at < %s AND {where}
        ) c
        GROUP BY c.stock_id, c.day
        ORDER BY c.stock_id, c.day
    """
    query_params = [*day_params, "consumption", _aware(start), _aware(end), *params]
    current, by_day = None, {}
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, query_params)
        while rows := cursor.fetchmany(FETCH_SIZE):
            for stock_id, day, units in rows:
                stock_id = _uuid(stock_id)
                if stock_id != current:
                    if current is not None:
                        yield current, by_day
                    current, by_day = stock_id, {}
                by_day[(_date(day) - start).days] = int(units)
    if current is not None:
        yield current, by_day


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
