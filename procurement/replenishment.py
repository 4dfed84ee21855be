"""Replenishment: supplier lead times learned from receipts, delivery estimates, and reorder points
computed from consumption.

Lead times. A received PO's actual lead time is ``received_at - approved_at`` in fractional days.
A supplier's expected lead time is an exponentially weighted average of its actual lead times in
``received_at`` order (alpha 0.3, seeded with the declared ``lead_time_days``); its spread is the
sample standard deviation of the last 10 (0 until there are 3); its on-time rate is the share of POs
received in the last 365 days on or before their ``expected_delivery_date``. Delivery estimates use
the learned lead time once 3 receipts exist, the declared one before.

Reorder points. Demand is ``consumption`` adjustments only, as a zero-filled daily series over the
last ``window_days`` complete days (calendar days in ``TIME_ZONE``; today, being partial, is left
out), starting at the level's first adjustment of any reason if that is later. With d and s_d the
mean and sample standard deviation of that series, L and s_L the lead time and its spread, and
L' = L + review days: point = ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)).
"""

import math
import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common.errors import InvalidInput, NotFound
from procurement.models import POLineItem, POStatus, PurchaseOrder
from procurement.selectors import latest_committed_lines, preferred_catalog_entries
from stock.models import LeadTimeSource, ReorderPointCalculation, SkipReason, StockLevel
from stock.services import sync_alerts, sync_alerts_of
from suppliers.models import Supplier
from suppliers.services import update_supplier_performance

EWMA_ALPHA = 0.3
SPREAD_SAMPLE = 10
MIN_RECEIPTS_FOR_LEARNED = 3
ON_TIME_WINDOW_DAYS = 365
MIN_HISTORY_DAYS = 14
MIN_LEAD_TIME_DAYS = 1.0
BATCH_SIZE = 5000
# The summary lists every level's result only for runs this small.
RESULTS_LIMIT = 100
# POs whose supplier is taken as the one that will deliver the next order.
# Absorbs floating-point noise so that e.g. 24.000000000000004 is a point of 24, not 25.
_CEIL_TOLERANCE = 1e-9


# --- Lead times ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SupplierPerformance:
    expected_lead_time_days: float
    lead_time_stddev_days: float
    on_time_rate: float | None
    receipts_count: int


def supplier_performance(*, declared_lead_time_days, receipts, now):
    """Compute a supplier's performance from its receipts (pure).

    ``receipts``: ``(approved_at, received_at, expected_delivery_date)`` in ``received_at`` order.
    A receipt without an expected delivery date counts for the lead time, not for the on-time rate.
    """
    lead_times = [
        max(0.0, (received_at - approved_at).total_seconds() / 86400)
        for approved_at, received_at, _ in receipts
    ]
    expected = float(declared_lead_time_days)
    for actual in lead_times:
        expected = EWMA_ALPHA * actual + (1 - EWMA_ALPHA) * expected
    recent = lead_times[-SPREAD_SAMPLE:]
    spread = statistics.stdev(recent) if len(recent) >= MIN_RECEIPTS_FOR_LEARNED else 0.0
    since = now - timedelta(days=ON_TIME_WINDOW_DAYS)
    judged = [
        timezone.localdate(received_at) <= due
        for _, received_at, due in receipts
        if received_at >= since and due is not None
    ]
    return SupplierPerformance(
        expected_lead_time_days=expected,
        lead_time_stddev_days=spread,
        on_time_rate=sum(judged) / len(judged) if judged else None,
        receipts_count=len(lead_times),
    )


def refresh_supplier_performance(*, supplier_id, now=None):
    """Recompute and store a supplier's performance from its received POs; returns it.

    Call it in the transaction that receives a PO, after the PO is saved as received. The supplier
    row is locked first, so two receipts for one supplier are counted one after the other and
    neither overwrites the other's figures. Three statements: lock, one read of the received POs,
    one update.
    """
    now = now or timezone.now()
    with transaction.atomic():
        supplier = (
            Supplier.objects.select_for_update()
            .only("supplier_id", "lead_time_days")
            .filter(pk=supplier_id)
            .first()
        )
        if supplier is None:
            raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")
        receipts = list(
            PurchaseOrder.objects.filter(
                supplier_id=supplier_id,
                status=POStatus.RECEIVED,
                received_at__isnull=False,
                approved_at__isnull=False,
            )
            .order_by("received_at", "po_id")
            .values_list("approved_at", "received_at", "expected_delivery_date")
        )
        performance = supplier_performance(
            declared_lead_time_days=supplier.lead_time_days, receipts=receipts, now=now
        )
        update_supplier_performance(
            supplier_id=supplier_id,
            expected_lead_time_days=performance.expected_lead_time_days,
            lead_time_stddev_days=performance.lead_time_stddev_days,
            on_time_rate=performance.on_time_rate,
            receipts_count=performance.receipts_count,
        )
    return performance


def _lead_time(*, declared, learned, spread, receipts_count):
    """(lead time, spread) in days: the learned figures once enough receipts exist."""
    if receipts_count >= MIN_RECEIPTS_FOR_LEARNED and learned is not None:
        return float(learned), float(spread or 0)
    return float(declared), 0.0


def expected_lead_time_days(supplier):
    """The lead time, in fractional days, to expect from ``supplier`` for a delivery estimate."""
    lead_time, _ = _lead_time(
        declared=supplier.lead_time_days,
        learned=supplier.expected_lead_time_days,
        spread=supplier.lead_time_stddev_days,
        receipts_count=supplier.receipts_count,
    )
    return lead_time


def expected_delivery_date(*, supplier, at):
    """The day of ``at`` (in ``TIME_ZONE``) plus the supplier's expected lead time rounded up to
    whole days: a delivery promised within 7.2 days is expected on day 8, within 7 days on day 7.
    """
    days = math.ceil(expected_lead_time_days(supplier))
    return timezone.localdate(at) + timedelta(days=days)


# --- Reorder points -----------------------------------------------------------------------------


def demand_statistics(*, history_days, total, total_sq):
    """(mean, sample standard deviation) of a zero-filled daily series of ``history_days`` days
    whose non-zero days sum to ``total`` and their squares to ``total_sq``. The zero days add
    nothing to either sum, so var = (total_sq - n*mean^2) / (n - 1)."""
    n = history_days
    mean = total / n
    if n < 2:
        return mean, 0.0
    variance = (total_sq - n * mean * mean) / (n - 1)
    return mean, math.sqrt(max(variance, 0.0))


def reorder_point(
    *, mean_daily_demand, demand_stddev, lead_time_days, lead_time_stddev_days, review_days, z
):
    """ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)) with L' = L + review days; never below 0."""
    d, covered = mean_daily_demand, lead_time_days + review_days
    safety = z * math.sqrt(covered * demand_stddev**2 + d**2 * lead_time_stddev_days**2)
    return max(0, math.ceil(d * covered + safety - _CEIL_TOLERANCE))


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

    @property
    def outcome(self):
        if self.reorder_point is None:
            return "skipped"
        if self.reorder_point > self.previous_reorder_point:
            return "raised"
        if self.reorder_point < self.previous_reorder_point:
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

    def count(self, result):
        setattr(self, result.outcome, getattr(self, result.outcome) + 1)


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
):
    """Recompute the reorder point of every stock level (or those of one location / item type).

    Reads: one aggregate query for the demand statistics of all levels, one for the lead-time
    suppliers. Writes, per batch of ``BATCH_SIZE`` levels in one transaction: lock the levels (pk
    order), insert a ``ReorderPointCalculation`` per level, update the points and the levels'
    latest-calculation pointer in one statement, sync alerts of the changed levels. A failure
    leaves earlier batches applied, each whole; running again is harmless. ``dry_run`` writes
    nothing and compares with the points as read. ``progress(done, total)`` is called per batch.
    """
    _validate(window_days=window_days, service_level=service_level, review_days=review_days)
    now = now or timezone.now()
    z = statistics.NormalDist().inv_cdf(service_level)
    levels = _demand_rows(
        now=now, window_days=window_days, location_id=location_id, item_type=item_type
    )
    suppliers = _lead_time_suppliers(location_id=location_id, item_type=item_type)
    results = [_compute(row, suppliers=suppliers, review_days=review_days, z=z) for row in levels]
    summary = RecalculationSummary(dry_run=dry_run)
    total = len(results)
    if dry_run:
        for result in results:
            summary.count(result)
        if progress:
            progress(total, total)
    else:
        inputs = {"window_days": window_days, "review_days": review_days}
        inputs |= {"service_level": service_level, "z": z, "computed_at": now}
        final = []
        for start in range(0, total, BATCH_SIZE):
            applied = _apply_batch(results[start : start + BATCH_SIZE], inputs=inputs, now=now)
            for result in applied:
                summary.count(result)
            final.extend(applied)
            if progress:
                progress(min(start + BATCH_SIZE, total), total)
        results = final
    if summary.total <= RESULTS_LIMIT:
        summary.results = results
    return summary


def _validate(*, window_days, service_level, review_days):
    if not 0 < service_level < 1:
        raise InvalidInput("service_level must be between 0 and 1.", field="service_level")
    if window_days < 1:
        raise InvalidInput("window_days must be at least 1.", field="window_days")
    if review_days < 0:
        raise InvalidInput("review_days cannot be negative.", field="review_days")


@dataclass(frozen=True)
class _DemandRow:
    stock_id: uuid.UUID
    item_type: str
    location_id: uuid.UUID
    reorder_point: int
    history_days: int
    total: int
    total_sq: int


def _demand_rows(*, now, window_days, location_id, item_type):
    """One query: every selected level with its reorder point, first adjustment day and the sum
    and sum of squares of its daily consumption totals over the window. Portable SQL (PostgreSQL
    and SQLite); the day of a timestamp comes from the backend's own TruncDate SQL."""
    tzname = timezone.get_current_timezone_name()
    today = timezone.localdate(now)
    window_start_day = today - timedelta(days=window_days)
    start = timezone.make_aware(datetime.combine(window_start_day, time.min))
    end = timezone.make_aware(datetime.combine(today, time.min))
    ops = connection.ops
    level_sql, level_params = ["1 = 1"], []
    if location_id is not None:
        level_sql.append("s.location_id = %s")
        level_params.append(
            StockLevel._meta.get_field("location_id").get_db_prep_value(
                uuid.UUID(str(location_id)), connection
            )
        )
    if item_type is not None:
        level_sql.append("s.item_type = %s")
        level_params.append(item_type)
    where = " AND ".join(level_sql)
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
                      AND {where}
                ) c
                GROUP BY c.stock_id, c.day
            ) daily
            GROUP BY daily.stock_id
        ) d ON d.stock_id = s.stock_id
        WHERE {where}
        ORDER BY s.stock_id
    """
    params = [
        *first_params,
        *day_params,
        "consumption",
        ops.adapt_datetimefield_value(start),
        ops.adapt_datetimefield_value(end),
        *level_params,
        *level_params,
    ]
    rows = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
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
                )
            )
    return rows


def _lead_time_suppliers(*, location_id, item_type):
    """One query: the supplier of the latest committed PO line (by ``approved_at``) per
    (item_type, location_id) and per item_type, with the supplier's lead-time figures.

    Returns ``{(item_type, location_id): row, item_type: row}``; ``row`` = (supplier_id, declared,
    learned, spread, receipts_count). And ``{("catalog", item_type): row}`` for the item types
    with a preferred catalog supplier (one more query): its entry's ``lead_time_days`` as the
    declared figure (then never the learned one), else the supplier's figures."""
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
    entries = preferred_catalog_entries(item_types=[item_type] if item_type is not None else None)
    for entry in entries:
        supplier = entry.supplier
        own = entry.lead_time_days is not None
        found[("catalog", entry.item_type)] = (
            entry.supplier_id,
            entry.lead_time_days if own else supplier.lead_time_days,
            None if own else supplier.expected_lead_time_days,
            None if own else supplier.lead_time_stddev_days,
            0 if own else supplier.receipts_count,
        )
    return found


def _compute(row, *, suppliers, review_days, z):
    supplier, source = suppliers.get(("catalog", row.item_type)), LeadTimeSource.CATALOG
    if supplier is None:
        supplier, source = suppliers.get((row.item_type, row.location_id)), LeadTimeSource.LOCATION
    if supplier is None:
        supplier, source = suppliers.get(row.item_type), LeadTimeSource.ITEM_TYPE
    if supplier is None:
        supplier_id, source = None, LeadTimeSource.DEFAULT
        lead_time, spread = float(settings.DEFAULT_LEAD_TIME_DAYS), 0.0
    else:
        supplier_id, declared, learned, learned_spread, receipts_count = supplier
        lead_time, spread = _lead_time(
            declared=declared, learned=learned, spread=learned_spread, receipts_count=receipts_count
        )
    lead_time = max(lead_time, MIN_LEAD_TIME_DAYS)

    mean = stddev = 0.0
    skipped, point = None, None
    if row.history_days < MIN_HISTORY_DAYS:
        skipped = SkipReason.SHORT_HISTORY
    elif row.total <= 0:
        skipped = SkipReason.NO_DEMAND
    else:
        mean, stddev = demand_statistics(
            history_days=row.history_days, total=row.total, total_sq=row.total_sq
        )
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
        skipped_reason=skipped,
        history_days=row.history_days,
        mean_daily_demand=mean,
        demand_stddev=stddev,
        lead_time_days=lead_time,
        lead_time_stddev_days=spread,
        lead_time_source=source,
        supplier_id=supplier_id,
    )


_CALCULATION_COLUMNS = (
    "calculation_id",
    "stock_id",
    "computed_at",
    "window_days",
    "review_days",
    "service_level",
    "z",
    "history_days",
    "mean_daily_demand",
    "demand_stddev",
    "lead_time_days",
    "lead_time_stddev_days",
    "lead_time_source",
    "supplier_id",
    "previous_reorder_point",
    "reorder_point",
    "skipped_reason",
)
# Binary COPY: no text formatting or escaping of each value; the types are the columns' own.
_CALCULATION_TYPES = (
    "uuid",
    "uuid",
    "timestamptz",
    "int4",
    "int4",
    "float8",
    "float8",
    "int4",
    "float8",
    "float8",
    "float8",
    "float8",
    "text",
    "uuid",
    "int4",
    "int4",
    "text",
)
_COPY_CALCULATIONS_SQL = (
    f"COPY reorder_point_calculations ({', '.join(_CALCULATION_COLUMNS)}) "
    "FROM STDIN (FORMAT BINARY)"
)
# Each level takes its calculation's point when it has one (the point is unchanged when it is
# the same, the level keeps its point when the calculation skipped it) and points to it.
_UPDATE_LEVELS_FROM_CALCULATIONS_SQL = """
    UPDATE stock_levels AS s
    SET reorder_point = COALESCE(c.reorder_point, s.reorder_point),
        reorder_calculation_id = c.calculation_id
    FROM reorder_point_calculations AS c
    WHERE c.calculation_id = ANY(%s::uuid[]) AND s.stock_id = c.stock_id
"""
_LOCK_BATCH_SQL = (
    "SELECT stock_id, reorder_point FROM stock_levels WHERE stock_id = ANY(%s::uuid[]) "
    "ORDER BY stock_id FOR UPDATE"
)


def _apply_batch(batch, *, inputs, now):
    """Store and apply one batch in one transaction; returns the results measured against the
    locked (current) points. Five statements at most, whatever the batch's size.

    On PostgreSQL: one ``SELECT ... FOR UPDATE``, the calculations written with a binary
    ``COPY`` (no model instances), the levels updated from them with one ``UPDATE ... FROM``, the
    alerts of the changed levels synced from their rows in two statements. Elsewhere (SQLite, for
    ``make run``), the ORM."""
    if connection.vendor != "postgresql":
        return _apply_batch_portable(batch, inputs=inputs, now=now)
    by_id = {result.stock_id: result for result in batch}
    fixed = (
        inputs["computed_at"],
        inputs["window_days"],
        inputs["review_days"],
        inputs["service_level"],
        inputs["z"],
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_LOCK_BATCH_SQL, [list(by_id)])
        locked = cursor.fetchall()
        applied, rows, calculation_ids, changed = [], [], [], []
        for stock_id, point in locked:
            result = by_id[_uuid(stock_id)]
            if result.previous_reorder_point != point:
                result = replace(result, previous_reorder_point=point)
            calculation_id = uuid.uuid4()
            rows.append(
                (
                    calculation_id,
                    result.stock_id,
                    *fixed,
                    result.history_days,
                    result.mean_daily_demand,
                    result.demand_stddev,
                    result.lead_time_days,
                    result.lead_time_stddev_days,
                    _plain(result.lead_time_source),
                    result.supplier_id,
                    result.previous_reorder_point,
                    result.reorder_point,
                    _plain(result.skipped_reason),
                )
            )
            if result.outcome in ("raised", "lowered"):
                changed.append(result.stock_id)
            calculation_ids.append(calculation_id)
            applied.append(result)
        if rows:
            with cursor.cursor.copy(_COPY_CALCULATIONS_SQL) as copy:
                copy.set_types(_CALCULATION_TYPES)
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_UPDATE_LEVELS_FROM_CALCULATIONS_SQL, [calculation_ids])
            sync_alerts_of(stock_ids=changed, now=now)
    return applied


def _plain(choice):
    """A choice's value as a plain ``str`` (psycopg would write an enum's name)."""
    return None if choice is None else str(choice)


def _apply_batch_portable(batch, *, inputs, now):
    by_id = {result.stock_id: result for result in batch}
    with transaction.atomic():
        levels = list(
            StockLevel.objects.select_for_update()
            .filter(pk__in=list(by_id))
            .only("stock_id", "quantity_on_hand", "reorder_point")
            .order_by("stock_id")
        )
        applied, calculations, changed = [], [], []
        for level in levels:
            result = by_id[level.stock_id]
            result = replace(result, previous_reorder_point=level.reorder_point)
            calculation = ReorderPointCalculation(
                calculation_id=uuid.uuid4(),
                stock_id=level.stock_id,
                history_days=result.history_days,
                mean_daily_demand=result.mean_daily_demand,
                demand_stddev=result.demand_stddev,
                lead_time_days=result.lead_time_days,
                lead_time_stddev_days=result.lead_time_stddev_days,
                lead_time_source=result.lead_time_source,
                supplier_id=result.supplier_id,
                previous_reorder_point=result.previous_reorder_point,
                reorder_point=result.reorder_point,
                skipped_reason=result.skipped_reason,
                **inputs,
            )
            calculations.append(calculation)
            level.reorder_calculation_id = calculation.calculation_id
            if result.outcome in ("raised", "lowered"):
                level.reorder_point = result.reorder_point
                changed.append(level)
            applied.append(result)
        if levels:
            ReorderPointCalculation.objects.bulk_create(calculations)
            StockLevel.objects.bulk_update(
                levels, ["reorder_point", "reorder_calculation"], batch_size=500
            )
            sync_alerts(levels=changed, now=now)
    return applied


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _parse_date(value):
    return date.fromisoformat(str(value)[:10])
