"""Replenishment: supplier lead times learned from receipts, delivery estimates, and reorder points
computed from consumption.

Lead times. A PO's actual lead time is ``first_received_at - approved_at`` in fractional days: the
delivery that brings it its first goods. A supplier's expected lead time is an exponentially
weighted average of its actual lead times in delivery order (alpha 0.3, seeded with the declared
``lead_time_days``), updated incrementally at each first delivery; its spread is the sample
standard deviation of the last 10 (0 until there are 3). Its on-time and in-full rates (POs moved
to ``received`` in the last 365 days) come from daily totals (``suppliers.services``). Delivery
estimates use the learned lead time once 3 receipts exist, the declared one before.

Reorder points. Demand is ``consumption`` adjustments only, as a zero-filled daily series over the
last ``window_days`` complete days (calendar days in ``TIME_ZONE``; today, being partial, is left
out), starting at the level's first adjustment of any reason if that is later. With d and s_d the
mean and sample standard deviation of that series, L and s_L the lead time and its spread, and
L' = L + review days: point = ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)). With the seasonal
method (``method``: ``auto`` picks it for a level with a year plus a window of history), d and s_d
come from the same calendar days one year earlier, scaled by this year's trend (see
``procurement.statistics``, where the formulas live).
"""

import math
import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.errors import InvalidInput, NotFound
from integrations.events import SYSTEM_ACTOR, record_events
from procurement.models import POLineItem, POStatus, PurchaseOrder, ReceiptStatus
from procurement.selectors import latest_committed_lines, preferred_catalog_entries
from procurement.statistics import (
    DAYS_PER_YEAR,
    MIN_HISTORY_DAYS,
    Method,
    SeasonalDemand,
    demand_statistics,
    reorder_point,
    seasonal_demand,
    seasonal_history_days,
    seasonal_sample,
)
from stock.models import LeadTimeSource, ReorderPointCalculation, SkipReason, StockLevel
from stock.services import sync_alerts, sync_alerts_of
from suppliers.models import MAX_LEAD_TIME_DAYS, Supplier
from suppliers.services import (
    rebuild_delivery_days,
    record_completed_order,
    record_lead_time_observation,
    refresh_supplier_rates,
    update_supplier_performance,
)

EWMA_ALPHA = 0.3
SPREAD_SAMPLE = 10
MIN_RECEIPTS_FOR_LEARNED = 3
ON_TIME_WINDOW_DAYS = 365
MIN_LEAD_TIME_DAYS = 1.0
BATCH_SIZE = 5000
# The summary lists every level's result only for runs this small.
RESULTS_LIMIT = 100
METHODS = (Method.AUTO, Method.STATIONARY, Method.SEASONAL)


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
        _lead_time_days(approved_at, received_at) for approved_at, received_at, _ in receipts
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


def refresh_supplier_performance(*, supplier_id, now=None, po_id=None):
    """Recompute and store a supplier's performance from its whole history; returns it.

    A repair and a seeding tool (``seed_demo``): receipts keep the figures up to date
    incrementally (``learn_lead_time``, ``record_po_completion``) without reading the history.
    Lead times come from each PO's first delivery (``first_received_at``, else ``received_at``
    for POs received before receipts existed); the daily totals behind the 365-day rates are
    rebuilt from the received POs. The supplier row is locked first. With ``po_id``, that PO's
    actual lead time and the figures learned as of its delivery are kept as a row of the
    supplier's lead-time history (``seed_demo`` rebuilds the history this way).
    """
    now = now or timezone.now()
    with transaction.atomic():
        supplier = _lock_supplier(supplier_id)
        receipts = list(
            PurchaseOrder.objects.filter(
                Q(first_received_at__isnull=False)
                | Q(status=POStatus.RECEIVED, received_at__isnull=False),
                supplier_id=supplier_id,
                approved_at__isnull=False,
            )
            .annotate(delivered_at=Coalesce("first_received_at", "received_at"))
            .order_by("delivered_at", "po_id")
            .values_list("approved_at", "delivered_at", "expected_delivery_date", "po_id")
        )
        completed = PurchaseOrder.objects.filter(
            supplier_id=supplier_id, status=POStatus.RECEIVED, received_at__isnull=False
        ).values_list("received_at", "expected_delivery_date", "receipt_status")
        rebuild_delivery_days(
            supplier_id=supplier_id,
            completed_orders=[
                (
                    timezone.localdate(received_at),
                    _on_time(received_at, due),
                    receipt_status != ReceiptStatus.CLOSED_SHORT,
                )
                for received_at, due, receipt_status in completed
            ],
        )
        performance = supplier_performance(
            declared_lead_time_days=supplier.lead_time_days,
            receipts=[receipt[:3] for receipt in receipts],
            now=now,
        )
        update_supplier_performance(
            supplier_id=supplier_id,
            expected_lead_time_days=performance.expected_lead_time_days,
            lead_time_stddev_days=performance.lead_time_stddev_days,
            receipts_count=performance.receipts_count,
        )
        refresh_supplier_rates(today=timezone.localdate(now), supplier_ids=[supplier_id])
        position = next((i for i, r in enumerate(receipts) if r[3] == po_id), None)
        if po_id is not None and position is not None:
            approved_at, received_at, _, _ = receipts[position]
            after = performance
            if position < len(receipts) - 1:  # an earlier receipt: the figures as they were then
                after = supplier_performance(
                    declared_lead_time_days=supplier.lead_time_days,
                    receipts=[receipt[:3] for receipt in receipts[: position + 1]],
                    now=received_at,
                )
            record_lead_time_observation(
                supplier_id=supplier_id,
                po_id=po_id,
                received_at=received_at,
                actual_lead_time_days=max(0.0, (received_at - approved_at).total_seconds() / 86400),
                expected_lead_time_days=after.expected_lead_time_days,
                lead_time_stddev_days=after.lead_time_stddev_days,
                receipts_count=after.receipts_count,
            )
    return performance


def learn_lead_time(*, supplier_id):
    """Fold the lead time of the supplier's latest first delivery into its figures.

    Call it in the transaction of the receipt that brings a PO its first goods, after the PO is
    saved with ``first_received_at``. Incremental and bounded: the EWMA moves from its stored
    value, the spread reads the last ``SPREAD_SAMPLE`` first deliveries through
    ``idx_po_supplier_first_receipt``; four statements (lock, read, update, the history row). The
    supplier row is locked, so two receipts for one supplier are counted one after the other.
    """
    with transaction.atomic():
        supplier = _lock_supplier(supplier_id)
        latest = list(
            PurchaseOrder.objects.filter(
                supplier_id=supplier_id,
                first_received_at__isnull=False,
                approved_at__isnull=False,
            )
            .order_by("-first_received_at", "-po_id")
            .values_list("approved_at", "first_received_at", "po_id")[:SPREAD_SAMPLE]
        )
        if not latest:
            return
        lead_times = [
            _lead_time_days(approved_at, delivered_at) for approved_at, delivered_at, _ in latest
        ]
        count = supplier.receipts_count + 1
        if supplier.receipts_count and supplier.expected_lead_time_days is not None:
            previous = float(supplier.expected_lead_time_days)
        else:
            previous = float(supplier.lead_time_days)
        spread_sample = lead_times[: min(count, SPREAD_SAMPLE)]
        expected = EWMA_ALPHA * lead_times[0] + (1 - EWMA_ALPHA) * previous
        spread = (
            statistics.stdev(spread_sample)
            if len(spread_sample) >= MIN_RECEIPTS_FOR_LEARNED
            else 0.0
        )
        update_supplier_performance(
            supplier_id=supplier_id,
            expected_lead_time_days=expected,
            lead_time_stddev_days=spread,
            receipts_count=count,
        )
        # The supplier's lead-time history (its admin chart): this delivery and what was learned.
        _, delivered_at, po_id = latest[0]
        record_lead_time_observation(
            supplier_id=supplier_id,
            po_id=po_id,
            received_at=delivered_at,
            actual_lead_time_days=lead_times[0],
            expected_lead_time_days=min(expected, MAX_LEAD_TIME_DAYS),
            lead_time_stddev_days=min(spread, MAX_LEAD_TIME_DAYS),
            receipts_count=count,
        )


def record_po_completion(*, po):
    """Count a PO that has just moved to ``received`` in its supplier's daily totals (on time?
    in full?) and refresh the supplier's 365-day rates: two statements, bounded."""
    record_completed_order(
        supplier_id=po.supplier_id,
        day=timezone.localdate(po.received_at),
        on_time=_on_time(po.received_at, po.expected_delivery_date),
        in_full=po.receipt_status != ReceiptStatus.CLOSED_SHORT,
    )
    refresh_supplier_rates(today=timezone.localdate(po.received_at), supplier_ids=[po.supplier_id])


def _lock_supplier(supplier_id):
    supplier = (
        Supplier.objects.select_for_update()
        .only("supplier_id", "lead_time_days", "expected_lead_time_days", "receipts_count")
        .filter(pk=supplier_id)
        .first()
    )
    if supplier is None:
        raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")
    return supplier


def _lead_time_days(approved_at, delivered_at):
    return max(0.0, (delivered_at - approved_at).total_seconds() / 86400)


def _on_time(received_at, due):
    """Whether a PO completed at ``received_at`` was on time; ``None`` without a due date."""
    if due is None:
        return None
    return timezone.localdate(received_at) <= due


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
    The lead time is capped at ``MAX_LEAD_TIME_DAYS`` (what the database allows a supplier to
    declare), so that no stored figure makes the date overflow; a date past 9999-12-31 is that
    day."""
    days = min(math.ceil(expected_lead_time_days(supplier)), MAX_LEAD_TIME_DAYS)
    try:
        return timezone.localdate(at) + timedelta(days=max(days, 0))
    except OverflowError:
        return date.max


# --- Reorder points -----------------------------------------------------------------------------


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
    method=Method.AUTO,
):
    """Recompute the reorder point of every stock level (or those of one location / item type).

    ``method``: ``stationary`` (the window's demand), ``seasonal`` (the same days one year
    earlier times the trend; a level without a year plus a window of history is skipped) or
    ``auto`` (seasonal where the history allows it, else stationary).

    Reads: one aggregate query for the demand statistics of all levels, one for the lead-time
    suppliers, one for the year-earlier figures of the levels the seasonal method may serve.
    Writes, per batch of ``BATCH_SIZE`` levels in one transaction: lock the levels (pk order),
    insert a ``ReorderPointCalculation`` per level, update the points and the levels'
    latest-calculation pointer in one statement, sync alerts of the changed levels. A failure
    leaves earlier batches applied, each whole; running again is harmless. ``dry_run`` writes
    nothing and compares with the points as read. ``progress(done, total)`` is called per batch.
    """
    _validate(window_days=window_days, service_level=service_level, review_days=review_days)
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}.", field="method")
    now = now or timezone.now()
    z = statistics.NormalDist().inv_cdf(service_level)
    levels = _demand_rows(
        now=now, window_days=window_days, location_id=location_id, item_type=item_type
    )
    suppliers = _lead_time_suppliers(location_id=location_id, item_type=item_type)
    lead_times = {row.stock_id: _level_lead_time(row, suppliers=suppliers) for row in levels}
    seasonal_inputs = {}
    if method != Method.STATIONARY:
        today = timezone.localdate(now)
        samples = {
            row.stock_id: seasonal_sample(
                lead_time_days=lead_times[row.stock_id][1], review_days=review_days
            )
            for row in levels
            if row.first_day is not None
            and (today - row.first_day).days >= seasonal_history_days(window_days=window_days)
        }
        if samples:
            seasonal_inputs = _seasonal_rows(
                now=now,
                window_days=window_days,
                samples=samples,
                location_id=location_id,
                item_type=item_type,
            )
    results = [
        _compute(
            row,
            lead_time=lead_times[row.stock_id],
            seasonal_input=seasonal_inputs.get(row.stock_id),
            method=method,
            review_days=review_days,
            z=z,
        )
        for row in levels
    ]
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
    # The level's first recorded day (any reason), None without adjustments.
    first_day: date | None = None


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
    where, level_params = level_filter(location_id=location_id, item_type=item_type)
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
                    first_day=first_day,
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


def _level_lead_time(row, *, suppliers):
    """(supplier_id, lead time, spread, source) of a level: the preferred catalog supplier of its
    item type first, else its latest committed supplier's (same location, else same item)."""
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
    return supplier_id, max(lead_time, MIN_LEAD_TIME_DAYS), spread, source


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
        if row.history_days < MIN_HISTORY_DAYS:
            skipped = SkipReason.SHORT_HISTORY
        elif row.total <= 0:
            skipped = SkipReason.NO_DEMAND
        else:
            mean, stddev = demand_statistics(
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
        skipped_reason=skipped,
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


def level_filter(*, location_id, item_type):
    """(SQL condition on the levels aliased ``s``, its parameters); shared with the simulator."""
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
    return " AND ".join(level_sql), level_params


def _seasonal_rows(*, now, window_days, samples, location_id, item_type):
    """One query: for the levels of ``samples`` ({stock_id: (first day, days)} relative to
    today a year earlier), the consumption of each day the samples span and the total of the
    window one year earlier. Returns ``{stock_id: (sample days, sample total, sample sum of
    squares, window total a year earlier)}``. Portable SQL, like ``_demand_rows``."""
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
    "method",
    "seasonal_sample_days",
    "seasonal_base_demand",
    "seasonal_base_stddev",
    "seasonal_window_total",
    "seasonal_window_total_last_year",
    "seasonal_trend",
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
    "text",
    "int4",
    "float8",
    "float8",
    "int4",
    "int4",
    "float8",
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
                    result.method,
                    *_seasonal_columns(result.seasonal),
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
            _record_point_changes(changed)
            sync_alerts_of(stock_ids=changed, now=now)
    return applied


def _seasonal_columns(seasonal):
    """The seasonal figures in ``_CALCULATION_COLUMNS`` order (all None for the stationary)."""
    if seasonal is None:
        return (None,) * 6
    return (
        seasonal.sample_days,
        seasonal.base_mean,
        seasonal.base_stddev,
        seasonal.window_total,
        seasonal.window_total_last_year,
        seasonal.trend,
    )


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
                method=result.method,
                **dict(
                    zip(_CALCULATION_COLUMNS[-6:], _seasonal_columns(result.seasonal), strict=True)
                ),
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
            _record_point_changes([level.stock_id for level in changed])
            sync_alerts(levels=changed, now=now)
    return applied


def _record_point_changes(stock_ids):
    """A ``stock_level.reorder_point_changed`` event per level whose point moved (one read of
    the levels, one ``INSERT``)."""
    record_events(
        entity="stock_level",
        action="reorder_point_changed",
        objects=[StockLevel(stock_id=stock_id) for stock_id in stock_ids],
        actor=SYSTEM_ACTOR,
    )


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _parse_date(value):
    return date.fromisoformat(str(value)[:10])
