"""The seasonal method of the reorder point recalculation, checked against hand-computed cases.

Today is 2025-06-01; a year earlier is 2024-06-01 (365 days: no 29 February in between). The
supplier's lead time is 7 days and the review period 1, so L' = 8: the 8 days 2024-06-01 ..
2024-06-08, widened evenly to 28 days, 2024-05-22 .. 2024-06-18 (``days_ago`` 375 .. 348), are
the sample one year earlier. The window one year earlier is ``days_ago`` 455 .. 366.
"""

import io
import math
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procurement.replenishment import recalculate_reorder_points
from procurement.statistics import seasonal_demand, seasonal_history_days, seasonal_sample
from stock.models import ReorderPointCalculation, StockLevel
from tests.factories import StockLevelFactory, SupplierFactory
from tests.replenishment.factories import committed_po, consume

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
Z95 = 1.6448536269514722
# 4, 6, 4, 6, ...: 140 units, mean 5, var = (14 * 16 + 14 * 36 - 28 * 25) / 27 = 28/27
SAMPLE = {375 - i: 4 if i % 2 == 0 else 6 for i in range(28)}
# the window a year earlier: 1 unit every other day from day 455 (40 units) and the 10 days of
# the sample before 2024-06-01 (50 units): 90 units
LAST_YEAR_WINDOW = {days_ago: 1 for days_ago in range(377, 456, 2)}
THIS_WINDOW = {days_ago: 2 for days_ago in range(1, 91)}  # 180 units: trend 2


def _level(**kwargs):
    level = StockLevelFactory(item_type="tent", location_id=uuid.uuid4(), reorder_point=5, **kwargs)
    supplier = SupplierFactory(lead_time_days=7)
    committed_po(
        supplier=supplier,
        item_type=level.item_type,
        location_id=level.location_id,
        approved_at=NOW - timedelta(days=40),
    )
    return level


def _seasonal_level(now=NOW):
    level = _level()
    consume(level, LAST_YEAR_WINDOW | SAMPLE | THIS_WINDOW, now=now)
    return level


def _calculation(level):
    level.refresh_from_db()
    return level.reorder_calculation


# --- the pure formulas ---------------------------------------------------------------------------


def test_sample_is_the_covered_days_widened_evenly_to_four_weeks():
    assert seasonal_sample(lead_time_days=7, review_days=1) == (-10, 28)
    assert seasonal_sample(lead_time_days=10.2, review_days=1) == (-8, 28)  # 12 days + 16
    assert seasonal_sample(lead_time_days=2, review_days=0) == (-13, 28)
    assert seasonal_sample(lead_time_days=40, review_days=1) == (0, 41)
    assert seasonal_history_days(window_days=90) == 455


def test_seasonal_demand_scales_last_years_days_by_the_trend():
    # days 4, 6, 4, 6, 4, 6, 4, 6: mean 5, var = (208 - 8 * 25) / 7 = 8/7; trend 180 / 90 = 2
    seasonal = seasonal_demand(
        sample_days=8,
        sample_total=40,
        sample_total_sq=208,
        window_total=180,
        window_total_last_year=90,
    )
    assert seasonal.base_mean == 5
    assert seasonal.base_stddev == pytest.approx(math.sqrt(8 / 7))
    assert seasonal.trend == 2
    assert seasonal.mean_daily_demand == 10
    assert seasonal.demand_stddev == pytest.approx(2 * math.sqrt(8 / 7))


def test_seasonal_demand_needs_consumption_a_year_earlier():
    assert (
        seasonal_demand(
            sample_days=8,
            sample_total=40,
            sample_total_sq=208,
            window_total=180,
            window_total_last_year=0,
        )
        is None
    )


def test_a_quiet_sample_last_year_means_no_demand_expected():
    seasonal = seasonal_demand(
        sample_days=28,
        sample_total=0,
        sample_total_sq=0,
        window_total=30,
        window_total_last_year=60,
    )
    assert (seasonal.mean_daily_demand, seasonal.demand_stddev, seasonal.trend) == (0, 0, 0.5)


# --- the recalculation ---------------------------------------------------------------------------


def test_auto_uses_the_seasonal_method_with_a_year_and_a_window_of_history():
    level = _seasonal_level()

    summary = recalculate_reorder_points(now=NOW)

    # d = 2 * 5 = 10, s_d = 2 * sqrt(28/27); L' = 8, s_L = 0
    # point = ceil(10 * 8 + z * sqrt(8 * 4 * 28/27)) = ceil(80 + 1.64485 * 5.76066) = ceil(89.476)
    assert summary.raised == 1
    level.refresh_from_db()
    assert level.reorder_point == 90
    calc = level.reorder_calculation
    assert calc.method == "seasonal"
    assert calc.reorder_point == 90
    assert calc.seasonal_sample_days == 28
    assert calc.seasonal_base_demand == pytest.approx(5)
    assert calc.seasonal_base_stddev == pytest.approx(math.sqrt(28 / 27))
    assert (calc.seasonal_window_total, calc.seasonal_window_total_last_year) == (180, 90)
    assert calc.seasonal_trend == pytest.approx(2)
    assert calc.mean_daily_demand == pytest.approx(10)
    assert calc.demand_stddev == pytest.approx(2 * math.sqrt(28 / 27))
    assert calc.lead_time_days == 7
    assert calc.history_days == 90
    assert 80 + Z95 * math.sqrt(32 * 28 / 27) == pytest.approx(89.476, abs=1e-3)


def test_stationary_method_ignores_last_year():
    level = _seasonal_level()

    recalculate_reorder_points(now=NOW, method="stationary")

    # d = 180 / 90 = 2, s_d = 0: ceil(2 * 8) = 16
    calc = _calculation(level)
    assert (calc.method, calc.reorder_point, calc.seasonal_trend) == ("stationary", 16, None)
    assert calc.seasonal_sample_days is None


def test_auto_stays_stationary_without_a_year_and_a_window_of_history():
    level = _level()
    # first day 454 days ago: one day short of 365 + 90
    consume(level, {454: 1} | SAMPLE | THIS_WINDOW, now=NOW)

    recalculate_reorder_points(now=NOW)

    calc = _calculation(level)
    assert (calc.method, calc.reorder_point) == ("stationary", 16)


def test_forced_seasonal_skips_a_level_without_the_history():
    level = _level()
    consume(level, THIS_WINDOW, now=NOW)

    summary = recalculate_reorder_points(now=NOW, method="seasonal")

    assert summary.skipped == 1
    level.refresh_from_db()
    assert level.reorder_point == 5
    calc = level.reorder_calculation
    assert (calc.method, calc.reorder_point, calc.skipped_reason) == (
        "seasonal",
        None,
        "no_seasonal_history",
    )


def test_no_consumption_a_year_earlier_has_no_trend():
    level = _level()
    # history long enough (a receipt 500 days ago) but nothing consumed in last year's window
    consume(level, {500: -10}, now=NOW, reason="receipt")
    consume(level, {d: units for d, units in SAMPLE.items() if d <= 365} | THIS_WINDOW, now=NOW)

    recalculate_reorder_points(now=NOW, method="seasonal")
    calc = _calculation(level)
    assert (calc.reorder_point, calc.skipped_reason) == (None, "no_seasonal_trend")

    recalculate_reorder_points(now=NOW)  # auto falls back to stationary
    calc = _calculation(level)
    assert (calc.method, calc.reorder_point) == ("stationary", 16)


def test_command_takes_the_method():
    # the command's clock is the real one; 366 days back keeps clear of a 29 February
    level = _level()
    now = timezone.now()
    consume(level, THIS_WINDOW | {500: 1}, now=now)

    out = io.StringIO()
    call_command("recalculate_reorder_points", "--method", "stationary", "-v", "2", stdout=out)
    assert _calculation(level).reorder_point == 16
    assert "5 -> 16 (raised)" in out.getvalue()

    call_command("recalculate_reorder_points", "--method", "seasonal", stdout=io.StringIO())
    calc = _calculation(level)
    assert (calc.method, calc.skipped_reason) == ("seasonal", "no_seasonal_trend")


def test_command_refuses_an_unknown_method():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="invalid choice: 'weekly'"):
        call_command("recalculate_reorder_points", "--method", "weekly")


def test_seasonal_queries_do_not_grow_with_levels():
    def run():
        ReorderPointCalculation.objects.all().delete()
        StockLevel.objects.update(reorder_point=5, reorder_calculation=None)
        with CaptureQueriesContext(connection) as queries:
            summary = recalculate_reorder_points(now=NOW)
        return len(queries), summary

    _seasonal_level()
    few, summary = run()
    assert summary.raised == 1
    for _ in range(5):
        _seasonal_level()
    many, summary = run()
    assert summary.raised == 6
    assert few == many
    assert StockLevel.objects.filter(reorder_point=90).count() == 6


def test_the_working_is_in_the_api(admin_client_api):
    level = _seasonal_level()
    recalculate_reorder_points(now=NOW)

    response = admin_client_api.get("/stock-levels", {"location_id": str(level.location_id)})

    assert response.status_code == 200
    working = response.json()["results"][0]["reorder_calculation"]
    assert working["method"] == "seasonal"
    assert working["seasonal_sample_days"] == 28
    assert working["seasonal_trend"] == pytest.approx(2)
    assert working["seasonal_base_demand"] == pytest.approx(5)
    assert working["seasonal_window_total"] == 180
    assert working["seasonal_window_total_last_year"] == 90
