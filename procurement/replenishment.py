"""Reorder points computed from consumption: ``recalculate_reorder_points``.

Demand is ``consumption`` adjustments only, as a zero-filled daily series over the last
``window_days`` complete days (calendar days in ``TIME_ZONE``; today, being partial, is left
out), starting at the level's first adjustment of any reason if that is later. With d and s_d the
mean and sample standard deviation of that series, L and s_L the lead time and its spread, and
L' = L + review days: point = ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)). With the seasonal
method (``method``: ``auto`` picks it for a level with a year plus a window of history), d and s_d
come from the same calendar days one year earlier, scaled by this year's trend. The formulas are
in ``procurement.statistics``; the lead times come from ``procurement.lead_times``' figures.

On PostgreSQL the stationary points are computed by the database from the demand aggregate
(``_demand_table``, then ``_points_sql``: the formula of ``statistics.reorder_point`` in
``float8``, the same IEEE operations in the same order, so the same numbers), and written
set-based by ``stock.services.set_reorder_points``, the levels split between threads
(``_write_points``). The seasonal method stays in Python (its year-earlier
sample depends on each level's lead time): the levels with the history for it are computed by
``python_results`` and written in the same statement. On SQLite (``make run``) every level is
computed by ``python_results``, the reference the SQL is tested against.
"""

import statistics
import sys
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone

from common.db import temporary_table
from common.errors import InvalidInput
from common.rows import db_value
from procurement.models import POLineItem
from procurement.selectors import latest_committed_lines, preferred_catalog_entries
from procurement.statistics import (
    CEIL_TOLERANCE,
    DAYS_PER_YEAR,
    MIN_HISTORY_DAYS,
    MIN_LEAD_TIME_DAYS,
    Method,
    SeasonalDemand,
    demand_figures,
    effective_lead_time,
    reorder_point,
    seasonal_demand,
    seasonal_history_days,
    seasonal_sample,
)
from stock.figures import CALCULATION_INPUTS
from stock.models import LeadTimeSource, ReorderPointCalculation, SkipReason, StockLevel
from stock.services import ALL_LEVELS, IdRange, set_reorder_points

# The summary lists every level's result only for runs this small.
RESULTS_LIMIT = 100
# A part's demand aggregate (``_demand_table``), on its own connection.
DEMAND_TABLE = "recalculation_demand"
METHODS = (Method.AUTO, Method.STATIONARY, Method.SEASONAL)


@dataclass(frozen=True)
class LevelResult:
    """One stock level's computation. ``reorder_point`` is None when skipped."""

    stock_id: uuid.UUID
    item_type: str
    location_id: uuid.UUID
    previous_reorder_point: int
    reorder_point: int | None
    skipped_reason: str | None
    history_days: int
    mean_daily_demand: float
    demand_stddev: float
    lead_time_days: float
    lead_time_stddev_days: float
    lead_time_source: str
    supplier_id: uuid.UUID | None
    method: str = Method.STATIONARY
    seasonal: SeasonalDemand | None = None

    @property
    def outcome(self):
        return _outcome(self.previous_reorder_point, self.reorder_point)


def _outcome(previous, point):
    if point is None:
        return "skipped"
    if point > previous:
        return "raised"
    if point < previous:
        return "lowered"
    return "unchanged"


@dataclass
class RecalculationSummary:
    dry_run: bool
    raised: int = 0
    lowered: int = 0
    unchanged: int = 0
    skipped: int = 0
    # Every level's result when the run covers at most RESULTS_LIMIT levels, else empty.
    results: list[LevelResult] = field(default_factory=list)

    @property
    def total(self):
        return self.raised + self.lowered + self.unchanged + self.skipped

    def count(self, outcome):
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class RunInputs:
    """What a run was asked, and when: the same for every level."""

    now: datetime
    window_days: int
    service_level: float
    review_days: int
    z: float
    method: str
    location_id: uuid.UUID | None
    item_type: str | None

    @classmethod
    def of(
        cls,
        *,
        window_days=90,
        service_level=0.95,
        review_days=1,
        location_id=None,
        item_type=None,
        now=None,
        method=Method.AUTO,
    ):
        """The inputs of a run asked with ``recalculate_reorder_points``' arguments, checked;
        ``InvalidInput`` for a bad one."""
        validate_policy(
            window_days=window_days,
            service_level=service_level,
            review_days=review_days,
            method=method,
        )
        return cls(
            now=now or timezone.now(),
            window_days=window_days,
            service_level=service_level,
            review_days=review_days,
            z=statistics.NormalDist().inv_cdf(service_level),
            method=method,
            location_id=None if location_id is None else uuid.UUID(str(location_id)),
            item_type=item_type,
        )


def recalculate_reorder_points(
    *,
    window_days=90,
    service_level=0.95,
    review_days=1,
    location_id=None,
    item_type=None,
    dry_run=False,
    now=None,
    progress: Callable[[int, int], None] | None = None,
    method=Method.AUTO,
    workers=None,
):
    """Recompute the reorder point of every stock level (or those of one location / item type).

    ``method``: ``stationary`` (the window's demand), ``seasonal`` (the same days one year
    earlier times the trend; a level without a year plus a window of history is skipped) or
    ``auto`` (seasonal where the history allows it, else stationary).

    On PostgreSQL, reads: one query for the lead-time suppliers, and (method ``auto`` or
    ``seasonal``) one for the levels with the history for the seasonal method, then for those
    alone their demand and year-earlier figures. Writes: ``stock.services.set_reorder_points``,
    a batch of levels a transaction, the stationary points computed from the demand aggregate
    (a calculation row per level, the levels' points and latest-calculation pointers, an event
    per point moved, the alerts of those levels synced), split between ``workers`` (default
    ``RECALCULATION_WORKERS``; see ``_write_points``). Running again is harmless.
    ``dry_run`` writes nothing and compares with the points as read. ``progress(done, total)``
    is called after each batch (once, for a dry run).
    """
    inputs = RunInputs.of(
        window_days=window_days,
        service_level=service_level,
        review_days=review_days,
        location_id=location_id,
        item_type=item_type,
        now=now,
        method=method,
    )
    summary = RecalculationSummary(dry_run=dry_run)
    if dry_run:
        results = _dry_run(inputs)
        for result in results:
            summary.count(result.outcome)
    else:
        written = _write_points(
            inputs,
            workers=settings.RECALCULATION_WORKERS if workers is None else workers,
            progress=progress,
        )
        for point in written:
            summary.count(_outcome(point.previous_reorder_point, point.reorder_point))
        results = None
        if summary.total <= RESULTS_LIMIT:
            results = _stored_results([point.calculation_id for point in written])
    if summary.total <= RESULTS_LIMIT:
        summary.results = results
    if dry_run and progress:
        progress(summary.total, summary.total)
    return summary


def _prepare(inputs):
    """What a run reads before it computes: the lead-time suppliers (``lead_time_suppliers``)
    and, on PostgreSQL, the lead-time joins the database computes the stationary points with
    (``_lead_time_joins``; None elsewhere)."""
    suppliers = lead_time_suppliers(location_id=inputs.location_id, item_type=inputs.item_type)
    if connection.vendor != "postgresql":
        return suppliers, None
    return suppliers, _lead_time_joins(suppliers)


def _write_points(inputs, *, workers, progress):
    """Compute and write the run's points (``set_reorder_points``); returns the ``PointSet``s in
    ``stock_id`` order.

    On PostgreSQL each part of the levels first aggregates its demand into a temporary table
    (``_demand_table``), computes in Python the levels of it with the history for the seasonal
    method (``_seasonal_levels``), then, once this thread has read the lead times
    (``_prepare``), computes its stationary points from it in the database and writes them. With
    ``workers`` > 1, and not inside a transaction (whose rows other connections would not see),
    the levels are split into that many ranges of ids of about the same size, each on its own
    thread and database connection: PostgreSQL runs the aggregate in one process (a parallel
    plan, tried, was slower: its nested grouping gathers 2.5 million groups on the benchmark's
    data), and each batch's writing too, so the parts use the other cores, and the lead times
    are read meanwhile. The ranges are disjoint: the parts never wait for each other's locks.
    There are at most as many parts as the connection pool has room for beside this thread's
    connection. If a part or this thread fails (or is interrupted), the other parts stop after
    the batch they are writing and the error is raised; the batches written stay, as in a
    one-part run (running again is harmless)."""
    if connection.vendor != "postgresql":
        suppliers, _ = _prepare(inputs)
        results = python_results(inputs, suppliers=suppliers)
        return set_reorder_points(
            rows=[input_row(result, inputs) for result in results],
            location_id=inputs.location_id,
            item_type=inputs.item_type,
            now=inputs.now,
            progress=progress,
        )
    prepared = Future()
    if workers < 2 or connection.in_atomic_block:
        prepared.set_result(_prepare(inputs))
        return _write_part(inputs, stock_range=ALL_LEVELS, prepared=prepared, progress=progress)
    ranges, total = _level_ranges(inputs, parts=min(workers, _pool_room()))
    run = _SplitRun(progress, parts=len(ranges), total=total)
    zone = timezone.get_current_timezone()
    with ThreadPoolExecutor(max_workers=len(ranges), thread_name_prefix="recalculation") as pool:
        try:
            futures = [
                pool.submit(
                    _on_own_connection,
                    zone,
                    _write_part,
                    inputs,
                    stock_range=stock_range,
                    prepared=prepared,
                    progress=run.progress_of(index),
                )
                for index, stock_range in enumerate(ranges)
            ]
            prepared.set_result(_prepare(inputs))
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    raise future.exception()
            parts = [future.result() for future in futures]
        except BaseException as error:
            # The other parts stop after the batch they are writing (each batch is committed
            # on its own: running again is harmless), and none waits for ``_prepare``.
            run.stop()
            if not prepared.done():
                prepared.set_exception(error)
            raise
    written = [point for part in parts for point in part]
    run.finish(len(written))
    return written


def _write_part(inputs, *, stock_range, prepared, progress):
    """``_write_points`` for the levels of ``stock_range``; ``prepared``: a future of
    ``_prepare``'s result."""
    with _demand_table(inputs, stock_range=stock_range) as demand:
        suppliers, lead_times = prepared.result()
        in_python = python_results(inputs, suppliers=suppliers, stock_ids=_seasonal_levels(inputs))
        return set_reorder_points(
            computed=_points_sql(inputs, lead_times=lead_times, demand=demand),
            rows=[input_row(result, inputs) for result in in_python],
            location_id=inputs.location_id,
            item_type=inputs.item_type,
            stock_range=stock_range,
            now=inputs.now,
            progress=progress,
        )


@contextmanager
def _demand_table(inputs, *, stock_range):
    """The demand aggregate (``_demand_sql``) of the run's levels within ``stock_range`` in a
    temporary table (``DEMAND_TABLE``, ``common.db.temporary_table``); yields ``(sql, params)``
    selecting its rows. Dropped afterwards."""
    sql, params = _demand_sql_of(inputs, stock_range=stock_range)
    with temporary_table(DEMAND_TABLE, sql, params) as cursor:
        cursor.execute(f"ANALYZE {DEMAND_TABLE}")
        yield f"SELECT * FROM {DEMAND_TABLE}", []


def _demand_sql_of(inputs, *, stock_range=ALL_LEVELS):
    return _demand_sql(
        now=inputs.now,
        window_days=inputs.window_days,
        location_id=inputs.location_id,
        item_type=inputs.item_type,
        stock_range=stock_range,
    )


def _level_ranges(inputs, *, parts):
    """The run's levels split into ``parts`` ``IdRange``s in order, their sizes at most one
    apart (fewer ranges when there are fewer levels), and how many levels there are. One
    query."""
    where, params = level_filter(location_id=inputs.location_id, item_type=inputs.item_type)
    with connection.cursor() as cursor:
        # The first level of each part, and how many there are in all.
        cursor.execute(
            "SELECT DISTINCT ON (part.number) part.stock_id, part.total FROM ("
            "SELECT s.stock_id, ntile(%s) OVER (ORDER BY s.stock_id) AS number, "
            f"COUNT(*) OVER () AS total FROM stock_levels s WHERE {where}) AS part "
            "ORDER BY part.number, part.stock_id",
            [parts, *params],
        )
        rows = cursor.fetchall()
    bounds = [_uuid(first) for first, _ in rows[1:]]
    ranges = [
        IdRange(low, high) for low, high in zip([None, *bounds], [*bounds, None], strict=True)
    ]
    return ranges, rows[0][1] if rows else 0


def _on_own_connection(zone, function, *args, **kwargs):
    """``function(*args, **kwargs)`` on this thread's own database connection, closed
    afterwards, in the caller's time zone ``zone`` (Django's is per thread: the window's days
    are that zone's)."""
    try:
        with timezone.override(zone):
            return function(*args, **kwargs)
    finally:
        connection.close()


def _pool_room():
    """How many parts may each hold a connection of the pool beside the calling thread's."""
    pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
    size = pool.get("max_size") if isinstance(pool, dict) else None
    return max(size - 1, 1) if size else sys.maxsize


class _Stopped(Exception):
    """A part of a split run stopped because another part, or the calling thread, failed."""


class _SplitRun:
    """What the parts of a split run share: one ``progress(done, total)`` for their batches
    (``total``: the levels counted before the run; the run is reported done only by
    ``finish``, as a level created or deleted meanwhile changes the parts' own totals), and a
    stop that each part obeys after its current batch."""

    def __init__(self, report, *, parts, total):
        self._report = report
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._done = [0] * parts
        self._total = total

    def progress_of(self, index):
        def update(done, total):
            if self._stopped.is_set():
                raise _Stopped
            if self._report is None:
                return
            with self._lock:
                self._done[index] = done
                done_all = sum(self._done)
                self._report(done_all, max(self._total, done_all + 1))

        return update

    def stop(self):
        self._stopped.set()

    def finish(self, written):
        if self._report is not None and written:
            self._report(written, written)


def validate_policy(*, window_days, service_level, review_days, method):
    """``InvalidInput`` for a bad argument of the reorder-point policy (the recalculation's and
    the simulator's)."""
    if not 0 < service_level < 1:
        raise InvalidInput("service_level must be between 0 and 1.", field="service_level")
    if window_days < 1:
        raise InvalidInput("window_days must be at least 1.", field="window_days")
    if review_days < 0:
        raise InvalidInput("review_days cannot be negative.", field="review_days")
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}.", field="method")


def python_results(inputs, *, suppliers, stock_ids=None):
    """The levels' results computed in Python from their demand rows (``demand_rows``) and
    ``suppliers`` (``lead_time_suppliers``): every level of the run's scope, or those of
    ``stock_ids`` (none when it is empty). Writes nothing. Used for the seasonal method, on
    SQLite, and as the reference the SQL of ``_points_sql`` is tested against."""
    if stock_ids is not None and not stock_ids:
        return []
    levels = demand_rows(
        now=inputs.now,
        window_days=inputs.window_days,
        location_id=inputs.location_id,
        item_type=inputs.item_type,
        stock_ids=stock_ids,
    )
    lead_times = {row.stock_id: _level_lead_time(row, suppliers=suppliers) for row in levels}
    seasonal_inputs = {}
    if inputs.method != Method.STATIONARY:
        today = timezone.localdate(inputs.now)
        needed = seasonal_history_days(window_days=inputs.window_days)
        samples = {
            row.stock_id: seasonal_sample(
                lead_time_days=lead_times[row.stock_id][1], review_days=inputs.review_days
            )
            for row in levels
            if row.first_day is not None and (today - row.first_day).days >= needed
        }
        if samples:
            seasonal_inputs = _seasonal_rows(
                now=inputs.now,
                window_days=inputs.window_days,
                samples=samples,
                location_id=inputs.location_id,
                item_type=inputs.item_type,
            )
    return [
        _compute(
            row,
            lead_time=lead_times[row.stock_id],
            seasonal_input=seasonal_inputs.get(row.stock_id),
            method=inputs.method,
            review_days=inputs.review_days,
            z=inputs.z,
        )
        for row in levels
    ]


def _seasonal_levels(inputs):
    """The levels of the demand table (``_demand_table``, on this connection) with the history
    for the seasonal method (a first adjustment at least a year plus a window ago), which
    ``python_results`` computes: none for the stationary method. One query."""
    if inputs.method == Method.STATIONARY:
        return []
    today = timezone.localdate(inputs.now)
    last_first_day = today - timedelta(days=seasonal_history_days(window_days=inputs.window_days))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT stock_id FROM {DEMAND_TABLE} WHERE first_day <= %s", [last_first_day]
        )
        return [_uuid(stock_id) for (stock_id,) in cursor]


def input_row(result, inputs):
    """A result as ``stock.services.set_reorder_points`` takes it (``CALCULATION_INPUTS``)."""
    seasonal = result.seasonal
    values = {
        "stock_id": result.stock_id,
        "computed_at": inputs.now,
        "window_days": inputs.window_days,
        "history_days": result.history_days,
        "mean_daily_demand": result.mean_daily_demand,
        "demand_stddev": result.demand_stddev,
        "lead_time_days": result.lead_time_days,
        "lead_time_stddev_days": result.lead_time_stddev_days,
        "lead_time_source": _plain(result.lead_time_source),
        "supplier_id": result.supplier_id,
        "review_days": inputs.review_days,
        "service_level": inputs.service_level,
        "z": inputs.z,
        "reorder_point": result.reorder_point,
        "skipped_reason": _plain(result.skipped_reason),
        "method": _plain(result.method),
        "seasonal_sample_days": seasonal and seasonal.sample_days,
        "seasonal_base_demand": seasonal and seasonal.base_mean,
        "seasonal_base_stddev": seasonal and seasonal.base_stddev,
        "seasonal_window_total": seasonal and seasonal.window_total,
        "seasonal_window_total_last_year": seasonal and seasonal.window_total_last_year,
        "seasonal_trend": seasonal and seasonal.trend,
    }
    return tuple(values[name] for name in CALCULATION_INPUTS)


def _plain(choice):
    """A choice's value as a plain ``str`` (psycopg would write an enum's name)."""
    return None if choice is None else str(choice)


def _result(values):
    """A ``LevelResult`` from a calculation's columns with its level's item type, location and
    previous point."""
    seasonal = None
    if values["seasonal_sample_days"] is not None:
        seasonal = SeasonalDemand(
            sample_days=values["seasonal_sample_days"],
            base_mean=values["seasonal_base_demand"],
            base_stddev=values["seasonal_base_stddev"],
            window_total=values["seasonal_window_total"],
            window_total_last_year=values["seasonal_window_total_last_year"],
            trend=values["seasonal_trend"],
        )
    return LevelResult(
        stock_id=_uuid(values["stock_id"]),
        item_type=values["item_type"],
        location_id=_uuid(values["location_id"]),
        previous_reorder_point=values["previous_reorder_point"],
        reorder_point=values["reorder_point"],
        skipped_reason=values["skipped_reason"],
        history_days=values["history_days"],
        mean_daily_demand=values["mean_daily_demand"],
        demand_stddev=values["demand_stddev"],
        lead_time_days=values["lead_time_days"],
        lead_time_stddev_days=values["lead_time_stddev_days"],
        lead_time_source=values["lead_time_source"],
        supplier_id=None if values["supplier_id"] is None else _uuid(values["supplier_id"]),
        method=values["method"],
        seasonal=seasonal,
    )


def _stored_results(calculation_ids):
    """The results of a small run, read back from the calculations it stored (one query)."""
    rows = (
        ReorderPointCalculation.objects.filter(pk__in=calculation_ids)
        .order_by("stock_id")
        .values(
            *CALCULATION_INPUTS,
            "previous_reorder_point",
            item_type=F("stock__item_type"),
            location_id=F("stock__location_id"),
        )
    )
    return [_result(values) for values in rows]


def _dry_run(inputs):
    """The results of a run without writing, measured against the points as read: on
    PostgreSQL the SQL's rows (``_points_sql``) for the levels that ``python_results`` does not
    compute (the seasonal ones), elsewhere ``python_results`` for every level."""
    suppliers, lead_times = _prepare(inputs)
    if lead_times is None:
        return python_results(inputs, suppliers=suppliers)
    with _demand_table(inputs, stock_range=ALL_LEVELS) as demand:
        in_python = python_results(inputs, suppliers=suppliers, stock_ids=_seasonal_levels(inputs))
        results = {result.stock_id: result for result in in_python}
        sql, params = _points_sql(inputs, lead_times=lead_times, demand=demand)
        with connection.cursor() as cursor:
            cursor.execute(f"{sql} ORDER BY d.stock_id", params)
            names = [column.name for column in cursor.description]
            for row in cursor:
                values = dict(zip(names, row, strict=True))
                stock_id = _uuid(values["stock_id"])
                if stock_id not in results:
                    values["previous_reorder_point"] = values["current_reorder_point"]
                    results[stock_id] = _result(values)
    return [results[stock_id] for stock_id in sorted(results, key=str)]


@dataclass(frozen=True)
class _DemandRow:
    stock_id: uuid.UUID
    item_type: str
    location_id: uuid.UUID
    reorder_point: int
    history_days: int
    total: int
    total_sq: int
    # The level's first recorded day (any reason), None without adjustments.
    first_day: date | None = None


def _window(now, window_days):
    """(today, the window's first day, its start and end as aware datetimes)."""
    today = timezone.localdate(now)
    window_start_day = today - timedelta(days=window_days)
    start = timezone.make_aware(datetime.combine(window_start_day, time.min))
    end = timezone.make_aware(datetime.combine(today, time.min))
    return today, window_start_day, start, end


def _demand_sql(
    *, now, window_days, location_id, item_type, stock_ids=None, stock_range=ALL_LEVELS
):
    """The demand aggregate, ``(sql, params)``: every selected level (``s``) with its reorder
    point, first adjustment day and the sum and sum of squares of its daily consumption totals
    over the window. Portable SQL (PostgreSQL and SQLite); the day of a timestamp comes from the
    backend's own TruncDate SQL. ``stock_ids`` narrows it to those levels, ``stock_range`` (an
    ``IdRange``) to the levels of that range (PostgreSQL both)."""
    tzname = timezone.get_current_timezone_name()
    _, _, start, end = _window(now, window_days)
    ops = connection.ops
    where, level_params = level_filter(location_id=location_id, item_type=item_type)
    if stock_ids is not None:
        where += " AND s.stock_id = ANY(%s::uuid[])"
        level_params = [*level_params, list(stock_ids)]
    range_sql, range_params = stock_range.condition("s")
    where += range_sql
    level_params = [*level_params, *range_params]
    # The range on the adjustments too: the planner does not carry it over the join, and a
    # part would hash every adjustment against its levels.
    adjustment_range_sql, adjustment_range_params = stock_range.condition("a")
    day_sql, day_params = ops.datetime_cast_date_sql("a.created_at", [], tzname)
    first_sql, first_params = ops.datetime_cast_date_sql(
        "(SELECT MIN(f.created_at) FROM stock_adjustments f WHERE f.stock_id = s.stock_id "
        "AND f.created_at < %s)",
        [ops.adapt_datetimefield_value(end)],
        tzname,
    )
    sql = f"""
        SELECT s.stock_id, s.item_type, s.location_id, s.reorder_point, {first_sql} AS first_day,
               d.total, d.total_sq
        FROM stock_levels s
        LEFT JOIN (
            SELECT daily.stock_id, SUM(daily.units) AS total,
                   SUM(daily.units * daily.units) AS total_sq
            FROM (
                SELECT c.stock_id, -SUM(c.quantity_delta) AS units
                FROM (
                    SELECT a.stock_id, a.quantity_delta, {day_sql} AS day
                    FROM stock_adjustments a
                    JOIN stock_levels s ON s.stock_id = a.stock_id
                    WHERE a.reason = %s AND a.created_at >= %s AND a.created_at < %s
                      {adjustment_range_sql} AND {where}
                ) c
                GROUP BY c.stock_id, c.day
            ) daily
            GROUP BY daily.stock_id
        ) d ON d.stock_id = s.stock_id
        WHERE {where}
    """
    params = [
        *first_params,
        *day_params,
        "consumption",
        ops.adapt_datetimefield_value(start),
        ops.adapt_datetimefield_value(end),
        *adjustment_range_params,
        *level_params,
        *level_params,
    ]
    return sql, params


def demand_rows(*, now, window_days, location_id, item_type, stock_ids=None):
    """The demand aggregate's rows (``_demand_sql``, one query), in ``stock_id`` order, with
    each level's days of history."""
    today, window_start_day, _, _ = _window(now, window_days)
    sql, params = _demand_sql(
        now=now,
        window_days=window_days,
        location_id=location_id,
        item_type=item_type,
        stock_ids=stock_ids,
    )
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} ORDER BY s.stock_id", params)
        for stock_id, item, location, point, first_day, total, total_sq in cursor:
            if first_day is None:
                history = 0
            else:
                first_day = first_day if isinstance(first_day, date) else _parse_date(first_day)
                history = (today - max(first_day, window_start_day)).days
            rows.append(
                _DemandRow(
                    stock_id=_uuid(stock_id),
                    item_type=item,
                    location_id=_uuid(location),
                    reorder_point=point,
                    history_days=max(history, 0),
                    total=int(total or 0),
                    total_sq=int(total_sq or 0),
                    first_day=first_day,
                )
            )
    return rows


class _Suppliers(NamedTuple):
    """The lead-time rows ``(supplier_id, declared, learned, spread, receipts_count)`` a level
    may take its lead time from, by kind: ``catalog`` by item type, ``location`` by
    (item type, location), ``item_type`` by item type."""

    catalog: dict
    location: dict
    item_type: dict


def lead_time_suppliers(*, location_id, item_type):
    """One query: the supplier of the latest committed PO line (by ``approved_at``) per
    (item_type, location_id) and per item_type, with the supplier's lead-time figures; and one
    more for the item types with a preferred catalog supplier: its entry's ``lead_time_days`` as
    the declared figure (then never the learned one), else the supplier's figures."""
    lines = POLineItem.objects.all()
    if location_id is not None or item_type is not None:
        levels = StockLevel.objects.all()
        if location_id is not None:
            levels = levels.filter(location_id=location_id)
        if item_type is not None:
            levels = levels.filter(item_type=item_type)
        lines = lines.filter(item_type__in=levels.values("item_type"))
    found = latest_committed_lines(
        lines=lines,
        fields=[
            "purchase_order__supplier_id",
            "purchase_order__supplier__lead_time_days",
            "purchase_order__supplier__expected_lead_time_days",
            "purchase_order__supplier__lead_time_stddev_days",
            "purchase_order__supplier__receipts_count",
        ],
    )
    suppliers = _Suppliers(catalog={}, location={}, item_type={})
    for key, row in found.items():
        if isinstance(key, tuple):
            suppliers.location[key] = row
        else:
            suppliers.item_type[key] = row
    entries = preferred_catalog_entries(item_types=[item_type] if item_type is not None else None)
    for entry in entries:
        supplier = entry.supplier
        own = entry.lead_time_days is not None
        suppliers.catalog[entry.item_type] = (
            entry.supplier_id,
            entry.lead_time_days if own else supplier.lead_time_days,
            None if own else supplier.expected_lead_time_days,
            None if own else supplier.lead_time_stddev_days,
            0 if own else supplier.receipts_count,
        )
    return suppliers


def _planned(supplier):
    """(supplier_id, lead time, spread) a supplier's lead-time row plans with."""
    supplier_id, declared, learned, learned_spread, receipts_count = supplier
    lead_time, spread = effective_lead_time(
        declared=declared, learned=learned, spread=learned_spread, receipts_count=receipts_count
    )
    return supplier_id, max(lead_time, MIN_LEAD_TIME_DAYS), spread


def _default_lead_time():
    return max(float(settings.DEFAULT_LEAD_TIME_DAYS), MIN_LEAD_TIME_DAYS)


def _level_lead_time(row, *, suppliers):
    """(supplier_id, lead time, spread, source) of a level: the preferred catalog supplier of its
    item type first, else its latest committed supplier's (same location, else same item)."""
    for source, supplier in (
        (LeadTimeSource.CATALOG, suppliers.catalog.get(row.item_type)),
        (LeadTimeSource.LOCATION, suppliers.location.get((row.item_type, row.location_id))),
        (LeadTimeSource.ITEM_TYPE, suppliers.item_type.get(row.item_type)),
    ):
        if supplier is not None:
            return (*_planned(supplier), source)
    return None, _default_lead_time(), 0.0, LeadTimeSource.DEFAULT


def _compute(row, *, lead_time, seasonal_input, method, review_days, z):
    """One level's result. ``seasonal_input``: (sample days, their total, their sum of squares,
    the window's total one year earlier) when the level has the history for the seasonal
    method, else None."""
    supplier_id, lead_time, spread, source = lead_time
    mean = stddev = 0.0
    skipped, point, seasonal = None, None, None
    used = Method.STATIONARY
    if method != Method.STATIONARY and seasonal_input is not None:
        sample_days, sample_total, sample_total_sq, window_total_last_year = seasonal_input
        seasonal = seasonal_demand(
            sample_days=sample_days,
            sample_total=sample_total,
            sample_total_sq=sample_total_sq,
            window_total=row.total,
            window_total_last_year=window_total_last_year,
        )
        if seasonal is not None:
            used, mean, stddev = Method.SEASONAL, seasonal.mean_daily_demand, seasonal.demand_stddev
        elif method == Method.SEASONAL:
            used, skipped = Method.SEASONAL, SkipReason.NO_SEASONAL_TREND
    elif method == Method.SEASONAL:
        used, skipped = Method.SEASONAL, SkipReason.NO_SEASONAL_HISTORY
    if used == Method.STATIONARY:
        skipped, mean, stddev = demand_figures(
            history_days=row.history_days, total=row.total, total_sq=row.total_sq
        )
    if skipped is None:
        point = reorder_point(
            mean_daily_demand=mean,
            demand_stddev=stddev,
            lead_time_days=lead_time,
            lead_time_stddev_days=spread,
            review_days=review_days,
            z=z,
        )
    return LevelResult(
        stock_id=row.stock_id,
        item_type=row.item_type,
        location_id=row.location_id,
        previous_reorder_point=row.reorder_point,
        reorder_point=point,
        skipped_reason=None if skipped is None else SkipReason(skipped),
        history_days=row.history_days,
        mean_daily_demand=mean,
        demand_stddev=stddev,
        lead_time_days=lead_time,
        lead_time_stddev_days=spread,
        lead_time_source=source,
        supplier_id=supplier_id,
        method=used,
        seasonal=seasonal,
    )


# The lead-time rows of ``_Suppliers`` in SQL: kind -> (its key columns, their types).
_LEAD_TIME_KEYS = {
    "catalog": (("item_type",), ("text",)),
    "location": (("item_type", "location_id"), ("text", "uuid")),
    "item_type": (("item_type",), ("text",)),
}


def _lead_time_joins(suppliers):
    """The ``LEFT JOIN``s of ``_points_sql`` to the lead-time rows of ``suppliers``, ``(sql,
    params, kinds)``: one JSON array of rows per kind.

    The lead-time rows travel as JSON rather than as arrays: there is one per (item type,
    location) bought, 93,000 on the benchmark's data, and the driver quotes arrays element by
    element in Python (0.8 s there) where ``orjson`` writes them in a few milliseconds (ids
    included, as text); its floats are the shortest digits that give the float back, which
    ``float8`` reads back exactly. ``json_to_recordset`` reads each row's columns in one pass
    (``->>`` per column scanned each row's text again)."""
    planned = {}  # supplier row -> _planned(row): the rows of a kind share a few suppliers
    joins, join_params, kinds = [], [], []
    for kind, (keys, types) in _LEAD_TIME_KEYS.items():
        names = (*keys, "supplier_id", "lead", "spread")
        rows = []
        for key, row in getattr(suppliers, kind).items():
            if row not in planned:
                planned[row] = _planned(row)
            supplier_id, lead, spread = planned[row]
            values = (*(key if isinstance(key, tuple) else (key,)), supplier_id, lead, spread)
            rows.append(dict(zip(names, values, strict=True)))
        columns = ", ".join(
            f"{name} {type_}"
            for name, type_ in zip(names, (*types, "uuid", "float8", "float8"), strict=True)
        )
        on = " AND ".join(f"lt_{kind}.{key} = d.{key}" for key in keys)
        joins.append(f"LEFT JOIN json_to_recordset(%s::json) AS lt_{kind} ({columns}) ON {on}")
        join_params.append(orjson.dumps(rows).decode())
        kinds.append(kind)
    return " ".join(joins), join_params, kinds


def _points_sql(inputs, *, lead_times, demand):
    """The stationary points of the levels of ``demand`` computed by the database, ``(sql,
    params)``: the demand aggregate's rows (``demand``: ``(sql, params)`` selecting them, the
    columns of ``_demand_sql``) joined to the levels' lead times (``lead_times``:
    ``_lead_time_joins`` of the run's suppliers) and put through the formulas of
    ``statistics.demand_figures`` and ``statistics.reorder_point`` in ``float8``, operation for
    operation (``power`` is C's ``pow``, as Python's ``**``), so that every figure is the float
    Python computes. Columns: ``CALCULATION_INPUTS``, and the level's item type, location and
    current point (``current_reorder_point``). With the ``seasonal`` method, every level is
    skipped (``no_seasonal_history``): those with the history for it are computed in Python
    (``python_results``), whose rows replace these."""
    today, window_start_day, _, _ = _window(inputs.now, inputs.window_days)
    demand_sql, demand_params = demand
    joins, join_params, kinds = lead_times

    def pick(column, default):
        whens = " ".join(
            f"WHEN lt_{kind}.item_type IS NOT NULL THEN {column(kind)}" for kind in kinds
        )
        return f"CASE {whens} ELSE {default} END"

    seasonal = inputs.method == Method.SEASONAL
    # The aggregate is materialized: inlined, its first-day subquery would be evaluated once
    # per reference to ``first_day`` (PostgreSQL copies a subquery's expression into each).
    sql = f"""
        WITH d AS MATERIALIZED ({demand_sql})
        SELECT d.stock_id, d.item_type, d.location_id, d.reorder_point AS current_reorder_point,
               %s::timestamptz AS computed_at, %s::integer AS window_days, h.history_days,
               COALESCE(m.mean, 0.0::float8) AS mean_daily_demand,
               COALESCE(v.stddev, 0.0::float8) AS demand_stddev,
               lt.lead AS lead_time_days, lt.spread AS lead_time_stddev_days,
               lt.source AS lead_time_source, lt.supplier_id,
               %s::integer AS review_days, %s::float8 AS service_level, %s::float8 AS z,
               CASE WHEN k.skipped IS NULL THEN GREATEST(0::float8, ceil(
                   m.mean * (lt.lead + %s::float8)
                   + %s::float8 * sqrt((lt.lead + %s::float8) * power(v.stddev, 2::float8)
                                       + power(m.mean, 2::float8) * power(lt.spread, 2::float8))
                   - %s::float8))::integer
               END AS reorder_point,
               k.skipped AS skipped_reason, %s::text AS method,
               NULL::integer AS seasonal_sample_days, NULL::float8 AS seasonal_base_demand,
               NULL::float8 AS seasonal_base_stddev, NULL::integer AS seasonal_window_total,
               NULL::integer AS seasonal_window_total_last_year, NULL::float8 AS seasonal_trend
        FROM d
        {joins}
        CROSS JOIN LATERAL (
            SELECT {pick(lambda kind: f"lt_{kind}.supplier_id", "NULL::uuid")} AS supplier_id,
                   {pick(lambda kind: f"lt_{kind}.lead", "%s::float8")} AS lead,
                   {pick(lambda kind: f"lt_{kind}.spread", "0.0::float8")} AS spread,
                   {pick(lambda kind: f"'{kind}'", "'default'")}::text AS source
        ) lt
        CROSS JOIN LATERAL (
            SELECT GREATEST(CASE WHEN d.first_day IS NULL THEN 0
                                 ELSE %s::date - GREATEST(d.first_day, %s::date) END, 0)
                       AS history_days,
                   COALESCE(d.total, 0) AS total, COALESCE(d.total_sq, 0) AS total_sq
        ) h
        CROSS JOIN LATERAL (
            SELECT CASE WHEN %s THEN %s::text
                        WHEN h.history_days < %s THEN %s::text
                        WHEN h.total <= 0 THEN %s::text END AS skipped
        ) k
        CROSS JOIN LATERAL (
            SELECT CASE WHEN k.skipped IS NULL
                        THEN h.total::float8 / h.history_days::float8 END AS mean
        ) m
        CROSS JOIN LATERAL (
            SELECT CASE WHEN k.skipped IS NULL THEN
                       CASE WHEN h.history_days < 2 THEN 0.0::float8
                            ELSE sqrt(GREATEST(
                                (h.total_sq::float8 - h.history_days::float8 * m.mean * m.mean)
                                / (h.history_days - 1)::float8,
                                0.0::float8))
                       END
                   END AS stddev
        ) v
    """
    review = float(inputs.review_days)
    params = [
        *demand_params,
        inputs.now,
        inputs.window_days,
        inputs.review_days,
        inputs.service_level,
        inputs.z,
        review,
        inputs.z,
        review,
        CEIL_TOLERANCE,
        Method.SEASONAL if seasonal else Method.STATIONARY,
        *join_params,
        _default_lead_time(),
        today,
        window_start_day,
        seasonal,
        SkipReason.NO_SEASONAL_HISTORY.value,
        MIN_HISTORY_DAYS,
        SkipReason.SHORT_HISTORY.value,
        SkipReason.NO_DEMAND.value,
    ]
    return sql, params


def level_filter(*, location_id, item_type):
    """(SQL condition on the levels aliased ``s``, its parameters); shared with the simulator."""
    level_sql, level_params = ["1 = 1"], []
    if location_id is not None:
        level_sql.append("s.location_id = %s")
        level_params.append(db_value(StockLevel, "location_id", uuid.UUID(str(location_id))))
    if item_type is not None:
        level_sql.append("s.item_type = %s")
        level_params.append(item_type)
    return " AND ".join(level_sql), level_params


def _seasonal_rows(*, now, window_days, samples, location_id, item_type):
    """One query: for the levels of ``samples`` ({stock_id: (first day, days)} relative to
    today a year earlier), the consumption of each day the samples span and the total of the
    window one year earlier. Returns ``{stock_id: (sample days, sample total, sample sum of
    squares, window total a year earlier)}``. Portable SQL, like ``demand_rows``."""
    tzname = timezone.get_current_timezone_name()
    year_ago = timezone.localdate(now) - timedelta(days=DAYS_PER_YEAR)
    window_start = year_ago - timedelta(days=window_days)
    sample_start = year_ago + timedelta(days=min(offset for offset, _ in samples.values()))
    sample_end = year_ago + timedelta(days=max(sum(sample) for sample in samples.values()))
    bounds = [
        timezone.make_aware(datetime.combine(day, time.min))
        for day in (window_start, year_ago, sample_start, sample_end)
    ]
    ops = connection.ops
    where, level_params = level_filter(location_id=location_id, item_type=item_type)
    day_sql, day_params = ops.datetime_cast_date_sql("a.created_at", [], tzname)
    window_start_at, year_ago_at, sample_start_at, sample_end_at = (
        ops.adapt_datetimefield_value(bound) for bound in bounds
    )
    sql = f"""
        SELECT a.stock_id, NULL AS day, -SUM(a.quantity_delta)
        FROM stock_adjustments a
        JOIN stock_levels s ON s.stock_id = a.stock_id
        WHERE a.reason = %s AND a.created_at >= %s AND a.created_at < %s AND {where}
        GROUP BY a.stock_id
        UNION ALL
        SELECT c.stock_id, c.day, -SUM(c.quantity_delta)
        FROM (
            SELECT a.stock_id, a.quantity_delta, {day_sql} AS day
            FROM stock_adjustments a
            JOIN stock_levels s ON s.stock_id = a.stock_id
            WHERE a.reason = %s AND a.created_at >= %s AND a.created_at < %s AND {where}
        ) c
        GROUP BY c.stock_id, c.day
    """
    params = [
        "consumption",
        window_start_at,
        year_ago_at,
        *level_params,
        *day_params,
        "consumption",
        sample_start_at,
        sample_end_at,
        *level_params,
    ]
    figures = {stock_id: [length, 0, 0, 0] for stock_id, (_, length) in samples.items()}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for stock_id, day, units in cursor:
            stock_id = _uuid(stock_id)
            entry = figures.get(stock_id)
            if entry is None:
                continue
            units = int(units)
            if day is None:
                entry[3] = units
                continue
            day = day if isinstance(day, date) else _parse_date(day)
            offset, length = samples[stock_id]
            if offset <= (day - year_ago).days < offset + length:
                entry[1] += units
                entry[2] += units * units
    return {stock_id: tuple(entry) for stock_id, entry in figures.items()}


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _parse_date(value):
    return date.fromisoformat(str(value)[:10])
