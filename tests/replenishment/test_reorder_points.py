"""Reorder points from consumption, checked against hand-computed cases.

point = ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)), L' = L + review days, z(0.95) = 1.6448536...
"""

import math
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from common.errors import InvalidInput
from integrations.models import Event
from procurement.models import POStatus
from procurement.replenishment import recalculate_reorder_points
from procurement.statistics import demand_statistics, reorder_point
from stock.models import AdjustmentReason, ReorderAlert, ReorderPointCalculation, StockLevel
from tests.factories import StockLevelFactory, SupplierFactory
from tests.replenishment.factories import committed_po, consume

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
Z95 = 1.6448536269514722
STEADY = {days_ago: 3 for days_ago in range(1, 31)}  # 3 units a day, May 2 .. May 31


def _level(item_type="tent", location_id=None, **kwargs):
    return StockLevelFactory(item_type=item_type, location_id=location_id or uuid.uuid4(), **kwargs)


def _supplied(level, *, lead_time_days=7, approved_at=NOW - timedelta(days=40), **supplier):
    supplier = SupplierFactory(lead_time_days=lead_time_days, **supplier)
    committed_po(
        supplier=supplier,
        item_type=level.item_type,
        location_id=level.location_id,
        approved_at=approved_at,
    )
    return supplier


def _run(**kwargs):
    return recalculate_reorder_points(now=NOW, **kwargs)


def _calculation(level):
    level.refresh_from_db()
    return level.reorder_calculation


def test_steady_demand_has_no_safety_stock():
    level = _level(reorder_point=5, quantity_on_hand=100)
    supplier = _supplied(level, lead_time_days=7)
    consume(level, STEADY, now=NOW)

    summary = _run()

    # d = 90 units / 30 days = 3, s_d = 0, L' = 7 + 1 -> ceil(3 * 8) = 24
    level.refresh_from_db()
    assert level.reorder_point == 24
    assert (summary.raised, summary.lowered, summary.unchanged, summary.skipped) == (1, 0, 0, 0)
    calc = level.reorder_calculation
    assert calc.stock_id == level.stock_id
    assert calc.reorder_point == 24
    assert calc.previous_reorder_point == 5
    assert calc.skipped_reason is None
    assert calc.history_days == 30
    assert calc.window_days == 90
    assert calc.mean_daily_demand == pytest.approx(3.0)
    assert calc.demand_stddev == pytest.approx(0.0, abs=1e-9)
    assert calc.lead_time_days == 7.0
    assert calc.lead_time_stddev_days == 0.0
    assert calc.lead_time_source == "location"
    assert calc.supplier_id == supplier.supplier_id
    assert calc.review_days == 1
    assert calc.service_level == 0.95
    assert calc.z == pytest.approx(Z95)
    assert calc.computed_at == NOW


def test_bursty_demand_adds_safety_stock():
    level = _level(reorder_point=5, quantity_on_hand=100)
    # History starts with a receipt 20 days ago (any reason starts the series): n = 20 days.
    consume(level, {20: -100}, now=NOW, reason=AdjustmentReason.RECEIPT)
    # Day 15: two adjustments (4 + 6 = 10); day 5: 10. All other days: 0.
    consume(level, {15: 4, 5: 10}, now=NOW)
    consume(level, {15.01: 6}, now=NOW)
    # Not demand: damage in the window, and today's (partial) consumption.
    consume(level, {3: 50}, now=NOW, reason=AdjustmentReason.DAMAGE)
    consume(level, {0.1: 40}, now=NOW)

    _run()

    # Series: [10, 10] + 18 zeros. d = 20 / 20 = 1.0.
    # s_d^2 = (10^2 + 10^2 - 20 * 1.0^2) / 19 = 180 / 19; L = 7 (default), L' = 8, s_L = 0.
    expected = math.ceil(1.0 * 8 + Z95 * math.sqrt(8 * 180 / 19))  # 8 + 14.32 -> 23
    assert expected == 23
    calc = _calculation(level)
    assert calc.history_days == 20
    assert calc.mean_daily_demand == pytest.approx(1.0)
    assert calc.demand_stddev == pytest.approx(math.sqrt(180 / 19))
    assert calc.lead_time_source == "default"
    assert calc.supplier_id is None
    assert calc.reorder_point == 23
    assert level.reorder_point == 23


def test_window_limits_the_series():
    level = _level(reorder_point=5)
    # 2 a day for 100 days, but the window is 90 complete days: d = 2 over 90 days.
    consume(level, {days_ago: 2 for days_ago in range(1, 101)}, now=NOW)
    consume(level, {95: 1000}, now=NOW)  # a burst before the window does not count

    _run(window_days=90, review_days=0)

    calc = _calculation(level)
    assert calc.history_days == 90
    assert calc.mean_daily_demand == pytest.approx(2.0)
    assert level.reorder_point == 14  # 2 * (7 + 0)


def test_no_demand_is_skipped_and_point_kept():
    level = _level(reorder_point=9)
    consume(level, {30: -50}, now=NOW, reason=AdjustmentReason.RECEIPT)
    consume(level, {10: 5}, now=NOW, reason=AdjustmentReason.DAMAGE)

    summary = _run()

    calc = _calculation(level)
    assert level.reorder_point == 9
    assert summary.skipped == 1
    assert calc.reorder_point is None
    assert calc.skipped_reason == "no_demand"
    assert calc.previous_reorder_point == 9
    assert [r.outcome for r in summary.results] == ["skipped"]


def test_level_without_any_adjustment_is_skipped_as_short_history():
    level = _level(reorder_point=4)

    _run()

    calc = _calculation(level)
    assert (calc.skipped_reason, calc.history_days, level.reorder_point) == ("short_history", 0, 4)


@pytest.mark.parametrize(("first_days_ago", "skipped"), [(13, True), (14, False)])
def test_short_history_is_skipped(first_days_ago, skipped):
    level = _level(reorder_point=4)
    consume(level, {d: 3 for d in range(1, first_days_ago + 1)}, now=NOW)

    summary = _run()

    calc = _calculation(level)
    assert calc.history_days == first_days_ago
    if skipped:
        assert (calc.skipped_reason, level.reorder_point, summary.skipped) == (
            "short_history",
            4,
            1,
        )
    else:
        assert (calc.skipped_reason, level.reorder_point, summary.raised) == (None, 24, 1)


def test_lead_time_spread_of_a_learned_supplier():
    level = _level(reorder_point=5)
    _supplied(
        level,
        lead_time_days=12,
        expected_lead_time_days=Decimal("5.000"),
        lead_time_stddev_days=Decimal("2.000"),
        receipts_count=3,
    )
    consume(level, STEADY, now=NOW)

    _run()

    # d = 3, s_d = 0, L = 5 (learned), s_L = 2, L' = 6: ceil(18 + z * sqrt(3^2 * 2^2)) = 28
    assert math.ceil(3 * 6 + Z95 * math.sqrt(9 * 4)) == 28
    calc = _calculation(level)
    assert (calc.lead_time_days, calc.lead_time_stddev_days) == (5.0, 2.0)
    assert level.reorder_point == 28


def test_declared_lead_time_until_three_receipts():
    level = _level(reorder_point=5)
    _supplied(
        level,
        lead_time_days=7,
        expected_lead_time_days=Decimal("2.000"),
        lead_time_stddev_days=Decimal("4.000"),
        receipts_count=2,
    )
    consume(level, STEADY, now=NOW)

    _run()

    calc = _calculation(level)
    assert (calc.lead_time_days, calc.lead_time_stddev_days) == (7.0, 0.0)
    assert level.reorder_point == 24


def test_lead_time_floor_of_one_day():
    level = _level(reorder_point=50)
    _supplied(level, lead_time_days=0)
    consume(level, STEADY, now=NOW)

    summary = _run()

    # L = max(0, 1) = 1, L' = 2: 3 * 2 = 6
    calc = _calculation(level)
    assert calc.lead_time_days == 1.0
    assert level.reorder_point == 6
    assert summary.lowered == 1


@override_settings(DEFAULT_LEAD_TIME_DAYS=0)
def test_default_lead_time_is_floored_too():
    level = _level(reorder_point=5)
    consume(level, STEADY, now=NOW)

    _run(review_days=0)

    assert _calculation(level).lead_time_days == 1.0
    assert level.reorder_point == 3


@override_settings(DEFAULT_LEAD_TIME_DAYS=4)
def test_location_supplier_beats_item_type_supplier_beats_default():
    site_a, site_b, site_c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at_a = _level("kayak", site_a)
    elsewhere = _level("kayak", site_c)
    other_item = _level("paddle", site_a)
    older = SupplierFactory(lead_time_days=20)
    near = SupplierFactory(lead_time_days=3)
    latest = SupplierFactory(lead_time_days=10)
    ignored = SupplierFactory(lead_time_days=30)
    day = timedelta(days=1)
    committed_po(supplier=older, item_type="kayak", location_id=site_a, approved_at=NOW - 9 * day)
    committed_po(
        supplier=near,
        item_type="kayak",
        location_id=site_a,
        approved_at=NOW - 8 * day,
        status=POStatus.RECEIVED,
    )
    committed_po(
        supplier=latest,
        item_type="kayak",
        location_id=site_b,
        approved_at=NOW - 5 * day,
        status=POStatus.SHIPPED,
    )
    # Newer, but not committed: a cancelled PO (approved, then cancelled) and a submitted one.
    for status in (POStatus.CANCELLED, POStatus.SUBMITTED):
        committed_po(
            supplier=ignored, item_type="kayak", location_id=site_a, approved_at=NOW, status=status
        )
    for level in (at_a, elsewhere, other_item):
        consume(level, STEADY, now=NOW)

    _run()

    a, c, p = _calculation(at_a), _calculation(elsewhere), _calculation(other_item)
    assert (a.lead_time_source, a.supplier_id, at_a.reorder_point) == (
        "location",
        near.supplier_id,
        12,  # 3 * (3 + 1)
    )
    assert (c.lead_time_source, c.supplier_id, elsewhere.reorder_point) == (
        "item_type",
        latest.supplier_id,
        33,  # 3 * (10 + 1)
    )
    assert (p.lead_time_source, p.supplier_id, other_item.reorder_point) == (
        "default",
        None,
        15,  # 3 * (4 + 1)
    )


def test_service_level_and_review_days_are_inputs():
    level = _level(reorder_point=5)
    consume(level, {20: -100}, now=NOW, reason=AdjustmentReason.RECEIPT)
    consume(level, {15: 10, 5: 10}, now=NOW)

    _run(service_level=0.5, review_days=3)

    # z(0.5) = 0: no safety stock; d = 1, L' = 7 + 3 = 10
    calc = _calculation(level)
    assert calc.z == pytest.approx(0.0, abs=1e-12)
    assert (calc.service_level, calc.review_days, level.reorder_point) == (0.5, 3, 10)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"service_level": 1.0}, "service_level"),
        ({"service_level": 0.0}, "service_level"),
        ({"window_days": 0}, "window_days"),
        ({"review_days": -1}, "review_days"),
    ],
)
def test_invalid_parameters(kwargs, field):
    level = _level(reorder_point=5)
    consume(level, STEADY, now=NOW)
    with pytest.raises(InvalidInput) as exc:
        _run(**kwargs)
    assert exc.value.field == field
    assert ReorderPointCalculation.objects.count() == 0


def test_filters_by_location_and_item_type():
    site = uuid.uuid4()
    chosen = _level("tent", site, reorder_point=5)
    same_site_other_item = _level("stove", site, reorder_point=5)
    other_site = _level("tent", reorder_point=5)
    for level in (chosen, same_site_other_item, other_site):
        consume(level, STEADY, now=NOW)

    summary = _run(location_id=site, item_type="tent")

    assert summary.total == 1
    assert [r.stock_id for r in summary.results] == [chosen.stock_id]
    assert list(ReorderPointCalculation.objects.values_list("stock_id", flat=True)) == [
        chosen.stock_id
    ]
    assert StockLevel.objects.get(pk=other_site.pk).reorder_point == 5

    assert _run(location_id=site).total == 2
    assert _run(item_type="tent").total == 2


def test_alerts_open_and_resolve_after_new_points():
    rising = _level(reorder_point=5, quantity_on_hand=20)
    falling = _level(reorder_point=30, quantity_on_hand=20)
    open_alert = ReorderAlert.objects.create(
        stock=falling, quantity_at_open=20, reorder_point_at_open=30
    )
    consume(rising, STEADY, now=NOW)  # -> 24: 20 <= 24, an alert opens
    consume(falling, {d: 1 for d in range(1, 31)}, now=NOW)  # -> 8: 20 > 8, resolved

    _run()

    alert = ReorderAlert.objects.get(stock=rising, resolved_at__isnull=True)
    assert (alert.quantity_at_open, alert.reorder_point_at_open) == (20, 24)
    open_alert.refresh_from_db()
    assert open_alert.resolved_at == NOW
    assert not ReorderAlert.objects.filter(stock=falling, resolved_at__isnull=True).exists()


def test_unchanged_point_keeps_alerts_and_records_calculation():
    level = _level(reorder_point=24, quantity_on_hand=10)
    consume(level, STEADY, now=NOW)

    first = _run()
    second = recalculate_reorder_points(now=NOW + timedelta(minutes=1))

    assert (first.unchanged, second.unchanged) == (1, 1)
    assert not ReorderAlert.objects.exists()  # only changed levels are synced
    calcs = list(ReorderPointCalculation.objects.filter(stock=level).order_by("computed_at"))
    assert len(calcs) == 2
    assert _calculation(level).pk == calcs[1].pk  # the level points at its latest calculation


def test_dry_run_writes_nothing():
    level = _level(reorder_point=5, quantity_on_hand=10)
    consume(level, STEADY, now=NOW)

    summary = _run(dry_run=True)

    assert (summary.dry_run, summary.raised) == (True, 1)
    assert summary.results[0].reorder_point == 24
    level.refresh_from_db()
    assert (level.reorder_point, level.reorder_calculation_id) == (5, None)
    assert not ReorderPointCalculation.objects.exists()
    assert not ReorderAlert.objects.exists()
    assert not Event.objects.exists()


def _levels_with_history(count):
    levels = []
    for i in range(count):
        # Alternate quantities so that both alert statements run: 10 <= 24 opens, 30 > 24 resolves.
        level = _level(f"item-{i}", reorder_point=5, quantity_on_hand=30 if i % 2 else 10)
        _supplied(level)
        consume(level, STEADY, now=NOW)
        levels.append(level)
    return levels


def _count_queries():
    with CaptureQueriesContext(connection) as queries:
        summary = _run()
    return len(queries), summary


def test_query_count_does_not_grow_with_levels():
    _levels_with_history(3)
    few, summary = _count_queries()
    assert summary.raised == 3

    ReorderPointCalculation.objects.all().delete()
    StockLevel.objects.update(reorder_point=5)
    _levels_with_history(27)
    many, summary = _count_queries()

    assert summary.raised == 30
    assert few == many
    # the demand aggregate into a temporary table (in a savepoint/transaction with JIT off:
    # create; then analyse, drop) + suppliers; the calculations into a temporary table (the
    # same, then index, analyse, the levels read, drop); per batch: savepoint/transaction,
    # lock, insert and update, the changed levels' events built and inserted in one
    # statement, 2 alerts, the alerts opened read and their events inserted
    assert many <= 26


def test_one_run_covers_every_level():
    levels = _levels_with_history(5)
    calls = []

    summary = _run(progress=lambda done, total: calls.append((done, total)))

    assert summary.raised == 5
    assert calls == [(5, 5)]
    assert set(StockLevel.objects.values_list("reorder_point", flat=True)) == {24}
    assert ReorderPointCalculation.objects.count() == 5
    assert ReorderAlert.objects.filter(resolved_at__isnull=True).count() == len(levels[::2])


def test_latest_calculation_reads_with_one_query():
    levels = _levels_with_history(4)
    _run()

    with CaptureQueriesContext(connection) as queries:
        rows = [
            (level.stock_id, level.reorder_calculation.reorder_point)
            for level in StockLevel.objects.select_related("reorder_calculation")
        ]

    assert len(queries) == 1
    assert sorted(rows) == sorted((level.stock_id, 24) for level in levels)


def test_demand_statistics_include_zero_days():
    # [3, 0, 0, 5] over 4 days: mean 2, variance (9 + 25 - 4 * 4) / 3 = 6
    mean, stddev = demand_statistics(history_days=4, total=8, total_sq=34)
    assert mean == 2.0
    assert stddev == pytest.approx(math.sqrt(6))


def test_reorder_point_formula():
    # d = 2, s_d = 1, L = 4, s_L = 0.5, review 1 -> L' = 5:
    # 10 + 1.6449 * sqrt(5 * 1 + 4 * 0.25) = 10 + 1.6449 * 2.4495 = 14.03 -> 15
    point = reorder_point(
        mean_daily_demand=2,
        demand_stddev=1,
        lead_time_days=4,
        lead_time_stddev_days=0.5,
        review_days=1,
        z=Z95,
    )
    assert point == 15
