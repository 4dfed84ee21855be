"""A recalculation split between workers (``RECALCULATION_WORKERS``, ``--workers``): each part of
the levels, a range of ids, is computed and written on its own thread and connection, and the
run writes what one worker writes: the same calculations, points, events and alerts."""

import io
import threading
import time
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from integrations.models import Event
from procurement import replenishment
from procurement.replenishment import (
    RunInputs,
    _level_ranges,
    lead_time_suppliers,
    python_results,
    recalculate_reorder_points,
)
from stock import services
from stock.models import ReorderAlert, ReorderPointCalculation, StockLevel
from stock.services import ALL_LEVELS, IdRange
from tests.factories import StockLevelFactory
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
def test_no_levels_make_one_part():
    inputs = RunInputs.of()
    assert _level_ranges(inputs, parts=4) == ([ALL_LEVELS], 0)


@pytest.mark.django_db
def test_fewer_levels_than_workers_make_a_part_each():
    ids = sorted(StockLevelFactory().stock_id for _ in range(2))

    ranges, total = _level_ranges(RunInputs.of(), parts=4)

    assert total == 2
    assert ranges == [IdRange(None, ids[1]), IdRange(ids[1], None)]


def _spy_on_parts(monkeypatch):
    """The ranges the parts were given and the threads they ran on."""
    parts, write_part = [], replenishment._write_part

    def spy(inputs, *, stock_range, **kwargs):
        parts.append((stock_range, threading.current_thread().name))
        return write_part(inputs, stock_range=stock_range, **kwargs)

    monkeypatch.setattr(replenishment, "_write_part", spy)
    return parts


def test_each_part_runs_on_its_own_thread(dataset, monkeypatch):
    parts = _spy_on_parts(monkeypatch)

    recalculate_reorder_points(now=dataset, workers=3)

    assert len(parts) == 3
    assert len({thread for _, thread in parts}) == 3
    assert threading.current_thread().name not in {thread for _, thread in parts}
    assert sorted((part.low is None, part.high is None) for part, _ in parts) == [
        (False, False),
        (False, True),
        (True, False),
    ]


def test_a_run_inside_a_transaction_is_one_part_on_its_thread(dataset, monkeypatch):
    parts = _spy_on_parts(monkeypatch)

    with transaction.atomic():
        recalculate_reorder_points(now=dataset, workers=3)

    assert parts == [(ALL_LEVELS, threading.current_thread().name)]


def test_no_more_parts_than_the_pool_has_room_for(dataset, monkeypatch):
    parts = _spy_on_parts(monkeypatch)
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "pool", {"max_size": 3})

    recalculate_reorder_points(now=dataset, workers=8)

    assert len(parts) == 2


def _open_connections():
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _run_within(seconds, **kwargs):
    """``recalculate_reorder_points(**kwargs)`` on a thread of its own: what it raised, or a
    failure if it was still running after ``seconds`` (a hang)."""
    outcome = {}

    def run():
        try:
            recalculate_reorder_points(**kwargs)
        except Exception as error:  # returned to the test
            outcome["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the run hangs"
    return outcome.get("error")


def test_a_failing_read_of_the_lead_times_fails_the_run_without_a_hang(dataset, monkeypatch):
    def fail(inputs):
        raise RuntimeError("lead times unavailable")

    monkeypatch.setattr(replenishment, "_prepare", fail)
    before = _open_connections()

    error = _run_within(60, now=dataset, workers=2)

    assert str(error) == "lead times unavailable"
    assert not ReorderPointCalculation.objects.exists()
    assert _open_connections() <= before


def test_a_failing_part_stops_the_others_after_their_batch(dataset, monkeypatch):
    """The first part fails as it starts writing; the second, which starts writing a moment
    later, stops after its first batch of two levels instead of writing its 63 levels."""
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    write = replenishment.set_reorder_points

    def first_fails(*, stock_range, **kwargs):
        if stock_range.low is None:
            raise RuntimeError("part failed")
        time.sleep(0.5)
        return write(stock_range=stock_range, **kwargs)

    monkeypatch.setattr(replenishment, "set_reorder_points", first_fails)

    error = _run_within(60, now=dataset, workers=2)

    assert str(error) == "part failed"
    assert ReorderPointCalculation.objects.count() == 2


def test_the_parts_count_days_in_the_callers_time_zone(dataset):
    """A day of the window is the calendar day of the run's time zone in every part, as in a
    one-part run (Django's active time zone is per thread)."""
    before = dict(StockLevel.objects.values_list("stock_id", "reorder_point"))
    with timezone.override("Pacific/Kiritimati"):
        recalculate_reorder_points(now=dataset, workers=1)
        expected = _written(dataset)
        _undo(before)
        recalculate_reorder_points(now=dataset, workers=2)

    assert _written(dataset) == expected


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
