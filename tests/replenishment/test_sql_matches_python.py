"""The recalculation's SQL (PostgreSQL) writes exactly what the Python reference computes.

``python_results`` is the computation as it was before the points moved into the demand
aggregate's statement (``statistics.demand_figures`` and ``statistics.reorder_point`` over the
rows of ``demand_rows``); it still serves SQLite and the seasonal method. Each test computes the
reference first, then runs the recalculation, and compares every calculation written, column for
column, with ``==``: the floats bit for bit, the points, the skip reasons, the lead-time sources.
The data: the benchmark's seed at a small scale, plus the edge cases (no history, no demand, a
short history, a zero lead time, learned and catalog lead times, exact products that the ceiling
must not round up, a level with the history for the seasonal method).
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bench import seed
from procurement.replenishment import (
    RunInputs,
    input_row,
    lead_time_suppliers,
    python_results,
    recalculate_reorder_points,
)
from stock.figures import CALCULATION_INPUTS
from stock.models import AdjustmentReason, ReorderPointCalculation, StockLevel
from suppliers.models import Supplier, SupplierItem
from tests.conftest import database_conninfo
from tests.factories import StockLevelFactory, SupplierFactory
from tests.replenishment.factories import committed_po, consume


@pytest.fixture
def dataset(transactional_db):
    """The bench seed (120 levels over 3 locations, 3,000 consumptions over 90 days, POs of 4
    suppliers), two suppliers with learned lead times, catalog entries, and the edge cases.
    Returns ``now`` (the seed dates its rows from the clock)."""
    seed.seed(
        database_conninfo(),
        stock_levels=120,
        locations=3,
        suppliers=4,
        adjustments=3_000,
        purchase_orders=28,
        receipt_pos=0,
        log=lambda line: None,
    )
    now = timezone.now()
    learned = list(Supplier.objects.order_by("supplier_id")[:2])
    Supplier.objects.filter(pk__in=[s.pk for s in learned]).update(
        receipts_count=5,
        expected_lead_time_days=Decimal("3.217"),
        lead_time_stddev_days=Decimal("0.813"),
    )
    item_types = sorted(set(StockLevel.objects.values_list("item_type", flat=True)))
    for item_type, supplier, lead_time_days in (
        (item_types[0], learned[0], None),  # the supplier's learned figures
        (item_types[1], learned[1], 0),  # a zero lead time: planned as 1 day
        (item_types[2], learned[1], 12),
    ):
        SupplierItem.objects.create(
            supplier=supplier,
            item_type=item_type,
            unit_price=Decimal("1.00"),
            preferred=True,
            lead_time_days=lead_time_days,
        )

    def level(item_type, **kwargs):
        return StockLevelFactory(item_type=item_type, location_id=uuid.uuid4(), **kwargs)

    level("edge-nothing", reorder_point=3)  # no adjustment at all: short history
    no_demand = level("edge-no-demand", reorder_point=4, quantity_on_hand=9)
    consume(no_demand, {40: -9}, now=now, reason=AdjustmentReason.RECEIPT)
    short = level("edge-short", reorder_point=2)
    consume(short, dict.fromkeys(range(1, 10), 2), now=now)
    exact = level("edge-exact", reorder_point=5, quantity_on_hand=100)
    consume(exact, dict.fromkeys(range(1, 31), 3), now=now)  # d = 3, s_d = 0: 3 * 8 = 24
    committed_po(
        supplier=SupplierFactory(lead_time_days=7),
        item_type="edge-exact",
        location_id=exact.location_id,
        approved_at=now - timedelta(days=40),
    )
    zero = level("edge-zero-lead", reorder_point=1)
    consume(zero, {day: 1 + day % 4 for day in range(1, 60)}, now=now)
    committed_po(
        supplier=SupplierFactory(lead_time_days=0),
        item_type="edge-zero-lead",
        location_id=zero.location_id,
        approved_at=now - timedelta(days=10),
    )
    big = level("edge-big", reorder_point=0)
    consume(big, {day: 1_000_000 - day * 7919 for day in range(1, 90)}, now=now)
    seasonal = level("edge-seasonal", reorder_point=8)
    consume(seasonal, {day: 2 + (day * 7) % 5 for day in range(1, 500)}, now=now)
    return now


def _stored(now):
    rows = ReorderPointCalculation.objects.filter(computed_at=now).values_list(
        *CALCULATION_INPUTS, "previous_reorder_point"
    )
    return {row[0]: row for row in rows}


def _assert_written_as_computed(reference, inputs, summary):
    expected = {
        result.stock_id: (*input_row(result, inputs), result.previous_reorder_point)
        for result in reference
    }
    stored = _stored(inputs.now)
    assert set(stored) == set(expected)
    names = (*CALCULATION_INPUTS, "previous_reorder_point")
    for stock_id, row in expected.items():
        assert stored[stock_id] == row, dict(zip(names, row, strict=True))
    points = dict(StockLevel.objects.values_list("stock_id", "reorder_point"))
    for result in reference:
        kept = result.previous_reorder_point if result.reorder_point is None else None
        assert points[result.stock_id] == (kept if kept is not None else result.reorder_point)
    outcomes = [result.outcome for result in reference]
    assert (summary.raised, summary.lowered, summary.unchanged, summary.skipped) == tuple(
        outcomes.count(name) for name in ("raised", "lowered", "unchanged", "skipped")
    )


@pytest.mark.parametrize(
    "run",
    [
        {},
        {"method": "stationary", "window_days": 30, "service_level": 0.5, "review_days": 0},
        {"method": "seasonal"},
        {"service_level": 0.99, "review_days": 3, "window_days": 120},
        {"service_level": 0.8, "review_days": 2, "window_days": 14},
    ],
)
def test_the_sql_writes_what_python_computes(dataset, run):
    inputs = RunInputs.of(now=dataset, **run)
    reference = python_results(
        inputs, suppliers=lead_time_suppliers(location_id=None, item_type=None)
    )
    assert len(reference) == 127
    reasons = {result.skipped_reason for result in reference}
    if run.get("method") != "seasonal":
        assert {"short_history", "no_demand", None} <= reasons
        assert {result.lead_time_source for result in reference} == {
            "catalog",
            "location",
            "item_type",
            "default",
        }

    summary = recalculate_reorder_points(now=dataset, **run)

    _assert_written_as_computed(reference, inputs, summary)


def test_a_filtered_run_writes_what_python_computes(dataset):
    seeded = StockLevel.objects.exclude(item_type__startswith="edge-")
    location = seeded.order_by("location_id")[0].location_id
    item_type = seeded.order_by("item_type")[0].item_type  # a preferred catalog entry's
    for scope in (
        {"location_id": location, "item_type": None},
        {"location_id": None, "item_type": item_type},
    ):
        inputs = RunInputs.of(now=dataset, **scope)
        reference = python_results(inputs, suppliers=lead_time_suppliers(**scope))
        assert 0 < len(reference) < 127

        summary = recalculate_reorder_points(now=dataset, **scope)

        _assert_written_as_computed(reference, inputs, summary)
        ReorderPointCalculation.objects.filter(computed_at=dataset).delete()


def test_a_dry_run_reports_what_python_computes(dataset):
    inputs = RunInputs.of(now=dataset)
    reference = python_results(
        inputs, suppliers=lead_time_suppliers(location_id=None, item_type=None)
    )

    summary = recalculate_reorder_points(now=dataset, dry_run=True)

    outcomes = [result.outcome for result in reference]
    assert (summary.raised, summary.lowered, summary.unchanged, summary.skipped) == tuple(
        outcomes.count(name) for name in ("raised", "lowered", "unchanged", "skipped")
    )
    assert not ReorderPointCalculation.objects.exists()
