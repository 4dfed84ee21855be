"""The policy simulator: the replay arithmetic and a tiny history computed by hand."""

import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import InvalidInput
from integrations.models import Event
from procurement.lead_times import refresh_supplier_performance
from procurement.simulation import simulate_replenishment
from procurement.statistics import replay_policy
from stock.models import AdjustmentReason, ReorderPointCalculation, StockAdjustment, StockLevel
from tests.factories import StockLevelFactory, SupplierFactory
from tests.replenishment.factories import committed_po, received_po

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


# --- the replay, with fixed points ---------------------------------------------------------------


def test_replay_orders_at_the_point_and_loses_what_it_cannot_serve():
    # point 4, quantity 6, lead time 2; on hand 6
    # day 0: 6 > 4, serve 2 -> 4
    # day 1: 4 <= 4: order (arrives day 3); serve 3 -> 1
    # day 2: 1 + 6 > 4; want 3, serve 1 -> 0, 2 lost: stockout, the open cycle fails
    # day 3: +6 -> 6 (cycle closed, failed); 6 > 4; serve 1 -> 5
    # day 4: 5 > 4; serve 2 -> 3
    # day 5: 3 <= 4: order (arrives day 7); serve 1 -> 2
    # day 6: 2 + 6 > 4; serve 1 -> 1
    # day 7: +6 -> 7 (cycle closed, no stockout); serve 2 -> 5
    outcome = replay_policy(
        demand=[2, 3, 3, 1, 2, 1, 1, 2],
        points=[4] * 8,
        lead_times=[2] * 8,
        start_on_hand=6,
        initial_point=0,
        reorder_quantity=6,
    )
    assert (outcome.orders, outcome.cycles, outcome.cycles_with_stockout) == (2, 2, 1)
    assert (outcome.demanded, outcome.served, outcome.stockout_days) == (15, 13, 1)
    assert outcome.on_hand_total == 4 + 1 + 0 + 5 + 3 + 2 + 1 + 5
    assert outcome.cycle_service_level == 0.5
    assert outcome.fill_rate == pytest.approx(13 / 15)
    assert outcome.average_on_hand == pytest.approx(21 / 8)


def test_replay_keeps_the_last_point_on_skipped_days_and_leaves_late_orders_unjudged():
    # no point on days 0-1: the initial point 1 holds; day 2 the point becomes 5
    outcome = replay_policy(
        demand=[1, 1, 1, 1],
        points=[None, None, 5, None],
        lead_times=[3] * 4,
        start_on_hand=4,
        initial_point=1,
        reorder_quantity=10,
    )
    # day 0: 4 > 1 -> 3; day 1: 3 > 1 -> 2; day 2: 2 <= 5 order (arrives day 5, after the end)
    assert (outcome.orders, outcome.cycles, outcome.stockout_days) == (1, 0, 0)
    assert outcome.cycle_service_level is None
    assert outcome.fill_rate == 1


def test_replay_without_demand_has_no_fill_rate():
    outcome = replay_policy(
        demand=[0, 0],
        points=[0, 0],
        lead_times=[1, 1],
        start_on_hand=3,
        initial_point=0,
        reorder_quantity=5,
    )
    assert (outcome.fill_rate, outcome.orders, outcome.average_on_hand) == (None, 0, 3)


# --- a tiny history, by hand ---------------------------------------------------------------------

# 20 days of 2 units (days_ago 34 .. 15), then the 14 replayed days (days_ago 14 .. 1).
BEFORE = {days_ago: 2 for days_ago in range(15, 35)}
REPLAYED = [2, 2, 8, 2, 2, 2, 0, 2, 2, 2, 2, 2, 2, 2]


def _ledger(level, units_by_days_ago, *, quantity_after=0, reason=AdjustmentReason.CONSUMPTION):
    StockAdjustment.objects.bulk_create(
        [
            StockAdjustment(
                stock=level,
                reason=reason,
                quantity_delta=-units if reason == AdjustmentReason.CONSUMPTION else units,
                quantity_after=quantity_after,
                adjusted_by="scanner",
                created_at=NOW - days_ago * DAY,
            )
            for days_ago, units in units_by_days_ago.items()
            if units
        ]
    )


@pytest.fixture
def tiny():
    """Lead time 2 days (declared, no receipt yet), review 1: L' = 3. Reorder quantity 10."""
    level = StockLevelFactory(
        item_type="stove",
        location_id=uuid.uuid4(),
        reorder_point=5,
        reorder_quantity=10,
        quantity_on_hand=12,
    )
    supplier = SupplierFactory(lead_time_days=2)
    committed_po(
        supplier=supplier,
        item_type="stove",
        location_id=level.location_id,
        approved_at=NOW - 60 * DAY,
    )
    _ledger(level, {days_ago: 2 for days_ago in range(16, 35)})
    _ledger(level, {15: 2}, quantity_after=10)  # the on hand when the replay starts
    _ledger(level, dict(zip(range(14, 0, -1), REPLAYED, strict=True)))
    return level


def test_tiny_history_by_hand(tiny):
    """Each day t: n = 20 + t days of history, d and s_d from them, point ceil(3d + z*sqrt(3)*s_d).

    t  demand  point                                      on hand (start -> end)   order
    0  2       d=2, s_d=0: 6                              10 -> 8
    1  2       6                                          8 -> 6
    2  8       6                                          6 -> 0, 2 lost           #1 (day 4)
    3  2       d=52/23, s_d^2=1.5652: ceil(10.347) = 11    0 -> 0, 2 lost           #2 (day 5)
    4  2       d=2.25, s_d^2=1.5: ceil(10.239) = 11        +10: 10 -> 8             (#1: stockout)
    5  2       ceil(10.139) = 11                          +10: 18 -> 16            (#2: stockout)
    6  0       ceil(10.045) = 11                          16 -> 16
    7  2       ceil(9.952) = 10                           16 -> 14
    8  2       ceil(9.871) = 10                           14 -> 12
    9  2       ceil(9.795) = 10                           12 -> 10
    10 2       ceil(9.724) = 10                           10 -> 8                  #3 (day 12)
    11 2       ceil(9.656) = 10                           8 -> 6
    12 2       ceil(9.591) = 10                           +10: 16 -> 14            (#3: served)
    13 2       10                                         14 -> 12

    3 orders, 3 cycles, 1 without stockout; 28 of 32 units served; 2 stockout days;
    on hand 8+6+0+0+8+16+16+14+12+10+8+6+14+12 = 130 over 14 days.
    """
    report = simulate_replenishment(days=14, method="stationary", now=NOW)

    [level] = report.as_json()["levels"]
    assert level == {
        "stock_id": str(tiny.stock_id),
        "item_type": "stove",
        "location_id": str(tiny.location_id),
        "cycle_service_level": 0.3333,
        "fill_rate": 0.875,
        "stockout_days": 2,
        "average_on_hand": 9.29,
        "orders": 3,
    }
    assert report.totals == {
        "cycle_service_level": 0.3333,
        "fill_rate": 0.875,
        "stockout_days": 2,
        "average_on_hand": 9.29,
        "orders": 3,
    }


def test_orders_arrive_after_the_lead_time_the_supplier_showed(tiny):
    """Receipts of 1 day before the replay: orders arrive the next day and nothing is lost."""
    supplier = SupplierFactory(lead_time_days=2)
    committed_po(
        supplier=supplier, item_type="stove", location_id=tiny.location_id, approved_at=NOW - DAY
    )
    po = received_po(supplier=supplier, approved_at=NOW - 40 * DAY, lead_time_days=1)
    refresh_supplier_performance(supplier_id=supplier.pk, now=NOW - 39 * DAY, po_id=po.po_id)

    [level] = simulate_replenishment(days=14, method="stationary", now=NOW).as_json()["levels"]

    # day 2: order arrives day 3; the 2 units lost on day 2 still fail the cycle (on hand 6, 8
    # wanted), and day 3 is served from the delivery.
    assert level["stockout_days"] == 1
    assert level["fill_rate"] == pytest.approx(30 / 32, abs=1e-4)


def test_simulation_writes_nothing_and_reads_a_fixed_number_of_queries(tiny):
    def count():
        with CaptureQueriesContext(connection) as queries:
            report = simulate_replenishment(days=14, method="auto", now=NOW)
        return queries, report

    few, report = count()
    assert len(report.levels) == 1
    for _ in range(4):
        level = StockLevelFactory(item_type="stove", location_id=uuid.uuid4(), reorder_quantity=4)
        _ledger(level, BEFORE)
    many, report = count()
    assert len(report.levels) == 5
    assert len(few) == len(many)
    # It writes nothing.
    assert not ReorderPointCalculation.objects.exists()
    assert not Event.objects.exists()


def test_command_table_and_json(tiny):
    out = io.StringIO()
    call_command("simulate_replenishment", "--days", "14", "--format", "json", stdout=out)
    body = json.loads(out.getvalue())
    assert set(body) == {"levels", "totals"}
    assert body["levels"][0]["stock_id"] == str(tiny.stock_id)
    assert set(body["totals"]) == {
        "cycle_service_level",
        "fill_rate",
        "stockout_days",
        "average_on_hand",
        "orders",
    }

    out = io.StringIO()
    call_command("simulate_replenishment", "--item-type", "stove", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Replay of 365 days, method auto, target service level 95.0%"
    assert "cycle SL" in lines[1]
    assert lines[-1].startswith("total")
    assert "1 levels" in lines[-1]
    assert StockLevel.objects.get(pk=tiny.pk).reorder_calculation is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"days": 0}, "days"),
        ({"service_level": 1.0}, "service_level"),
        ({"method": "weekly"}, "method"),
        ({"window_days": 0}, "window_days"),
        ({"review_days": -1}, "review_days"),
    ],
)
def test_bad_input_is_refused(kwargs, field):
    with pytest.raises(InvalidInput) as error:
        simulate_replenishment(**kwargs)
    assert error.value.field == field


def test_command_refuses_bad_input():
    with pytest.raises(CommandError, match="days must be at least 1"):
        call_command("simulate_replenishment", "--days", "0")
