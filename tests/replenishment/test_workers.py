"""A recalculation split between workers (``RECALCULATION_WORKERS``, ``--workers``): each part of
the levels, a range of ids, is computed and written on its own thread and connection, and the
run writes what one worker writes: the same calculations, points, events and alerts."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from integrations.models import Event
from procurement.replenishment import (
    RunInputs,
    _level_ranges,
    lead_time_suppliers,
    python_results,
    recalculate_reorder_points,
)
from stock.models import ReorderAlert, ReorderPointCalculation, StockLevel
from stock.services import ALL_LEVELS, IdRange
from tests.replenishment.test_command import TTY
from tests.replenishment.test_sql_matches_python import _assert_written_as_computed, dataset

__all__ = ["dataset"]  # the fixture, shared with the SQL-against-Python tests

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

MOVED = "novatrek.procurement.stock_level.reorder_point_changed"


def _written(now):
    """What a run left: each level's calculation (without its id), its point, the levels that
    got an event, and the open alerts."""
    calculations = {
        row[0]: row[1:]
        for row in ReorderPointCalculation.objects.filter(computed_at=now).values_list(
            "stock_id",
            "reorder_point",
            "previous_reorder_point",
            "skipped_reason",
            "mean_daily_demand",
            "demand_stddev",
            "lead_time_days",
            "lead_time_source",
            "supplier_id",
            "method",
        )
    }
    points = dict(StockLevel.objects.values_list("stock_id", "reorder_point"))
    moved = sorted(Event.objects.filter(type=MOVED).values_list("subject", flat=True))
    alerts = sorted(
        ReorderAlert.objects.filter(resolved_at__isnull=True).values_list("stock_id", flat=True)
    )
    return calculations, points, moved, alerts


def _undo(points):
    """Back to before the run: its calculations, events and alerts gone, the points as they
    were."""
    StockLevel.objects.update(reorder_calculation=None)
    ReorderPointCalculation.objects.all().delete()
    Event.objects.all().delete()
    ReorderAlert.objects.all().delete()
    for stock_id, point in points.items():
        StockLevel.objects.filter(pk=stock_id).update(reorder_point=point)


@pytest.mark.parametrize("workers", [2, 5])
def test_a_split_run_writes_what_one_worker_writes(dataset, workers):
    before = dict(StockLevel.objects.values_list("stock_id", "reorder_point"))
    ReorderAlert.objects.all().delete()
    Event.objects.all().delete()
    alone = recalculate_reorder_points(now=dataset, workers=1)
    expected = _written(dataset)
    _undo(before)

    split = recalculate_reorder_points(now=dataset, workers=workers)

    assert _written(dataset) == expected
    assert (split.raised, split.lowered, split.unchanged, split.skipped) == (
        alone.raised,
        alone.lowered,
        alone.unchanged,
        alone.skipped,
    )
    assert split.raised + split.lowered > 50
    assert len(expected[2]) == split.raised + split.lowered  # an event per point moved


@pytest.mark.parametrize(
    "run", [{"method": "seasonal"}, {"method": "stationary", "window_days": 30}]
)
def test_a_split_run_writes_what_python_computes(dataset, run):
    inputs = RunInputs.of(now=dataset, **run)
    reference = python_results(
        inputs, suppliers=lead_time_suppliers(location_id=None, item_type=None)
    )

    summary = recalculate_reorder_points(now=dataset, workers=3, **run)

    _assert_written_as_computed(reference, inputs, summary)


def test_the_ranges_split_the_levels_evenly_and_cover_each_once(dataset):
    ids = sorted(StockLevel.objects.values_list("stock_id", flat=True))
    inputs = RunInputs.of(now=dataset)

    ranges, total = _level_ranges(inputs, parts=3)

    assert total == len(ids) == 127
    assert (ranges[0].low, ranges[-1].high) == (None, None)
    assert [part.high for part in ranges[:-1]] == [part.low for part in ranges[1:]]
    sizes = [sum(1 for stock_id in ids if stock_id in part) for part in ranges]
    assert sum(sizes) == 127
    assert max(sizes) - min(sizes) <= 1


def test_the_ranges_of_a_scoped_run_hold_its_levels(dataset):
    location = (
        StockLevel.objects.exclude(item_type__startswith="edge-")
        .order_by("location_id")
        .values_list("location_id", flat=True)[0]
    )
    inputs = RunInputs.of(now=dataset, location_id=location)
    count = StockLevel.objects.filter(location_id=location).count()

    ranges, total = _level_ranges(inputs, parts=2)

    assert total == count > 10
    ids = StockLevel.objects.filter(location_id=location).values_list("stock_id", flat=True)
    assert sorted(sum(1 for stock_id in ids if stock_id in part) for part in ranges) == sorted(
        [count // 2, count - count // 2]
    )


@pytest.mark.django_db
def test_more_workers_than_levels_leave_no_part_empty_of_bounds():
    inputs = RunInputs.of()
    assert _level_ranges(inputs, parts=4) == ([ALL_LEVELS], 0)


@pytest.mark.django_db
def test_a_range_selects_in_the_database_what_it_holds_in_python():
    ids = [uuid.uuid4() for _ in range(200)] + [
        uuid.UUID(int=0),
        uuid.UUID(int=2**128 - 1),
        uuid.UUID("80000000-0000-0000-0000-000000000000"),
    ]
    low, high = sorted(ids)[50], sorted(ids)[150]
    with connection.cursor() as cursor:
        for part in (IdRange(low, high), IdRange(None, high), IdRange(low, None), ALL_LEVELS):
            condition, params = part.condition("s")
            cursor.execute(
                "SELECT s.stock_id FROM unnest(%s::uuid[]) AS s (stock_id) "
                f"WHERE TRUE{condition} ORDER BY s.stock_id",
                [ids, *params],
            )
            assert [row[0] for row in cursor.fetchall()] == sorted(
                stock_id for stock_id in ids if stock_id in part
            )


def test_the_command_splits_the_run_and_its_bar_ends_once(dataset):
    tty, out = TTY(), io.StringIO()

    call_command("recalculate_reorder_points", "--workers", "3", stdout=out, stderr=tty)

    assert out.getvalue().strip().splitlines()[-1].startswith("127 stock levels: raised")
    assert tty.getvalue().endswith("] 100%  127/127\n")
    assert tty.getvalue().count("\n") == 1
    assert ReorderPointCalculation.objects.count() == 127


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_workers_must_be_a_positive_number(value):
    with pytest.raises(CommandError, match="workers"):
        call_command("recalculate_reorder_points", "--workers", value, stdout=io.StringIO())
