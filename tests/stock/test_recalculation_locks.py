"""A recalculation computes its points with no lock held, and writes them a batch of levels at a
time: adjustments wait for one batch at most, never for the demand aggregate."""

import threading

import pytest
from django.db import connection

from stock import services
from stock.models import AdjustmentReason, ReorderPointCalculation, StockLevel
from stock.services import record_adjustment, set_reorder_points
from tests.stock.factories import stocked_level
from tests.stock.test_services import _calculation_row, _computed

pytestmark = [pytest.mark.slow, pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def test_an_adjustment_does_not_wait_while_the_points_are_computed():
    level = stocked_level(50, reorder_point=5)
    sql, params = _computed([_calculation_row(level, point=24)])
    # The computation takes two seconds (as the aggregate takes most of a real run).
    slow = (f"SELECT * FROM ({sql}) AS computed, LATERAL (SELECT pg_sleep(2)) AS pause", params)
    started, results = threading.Event(), {}

    def recalculation():
        try:
            started.set()
            results["written"] = set_reorder_points(computed=slow)
        except Exception as exc:  # reported below
            results["written"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=recalculation)
    thread.start()
    started.wait()
    threading.Event().wait(0.5)
    try:
        record_adjustment(
            reason=AdjustmentReason.CONSUMPTION,
            adjusted_by="scanner",
            stock_id=level.stock_id,
            quantity_delta=-1,
        )
        adjusted_while_computing = thread.is_alive()
    finally:
        thread.join(timeout=30)
    assert adjusted_while_computing
    assert [point.reorder_point for point in results["written"]] == [24]
    level.refresh_from_db()
    assert (level.quantity_on_hand, level.reorder_point) == (49, 24)


def test_the_points_are_written_a_batch_at_a_time_in_level_order(monkeypatch):
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    levels = [stocked_level(10, reorder_point=5) for _ in range(5)]
    rows = [_calculation_row(level, point=24) for level in levels]

    calls = []

    written = set_reorder_points(
        computed=_computed(rows[1:]),
        rows=rows[:1],
        progress=lambda done, total: calls.append((done, total)),
    )

    assert [point.stock_id for point in written] == sorted(level.stock_id for level in levels)
    assert calls == [(2, 5), (4, 5), (5, 5)]
    assert set(StockLevel.objects.values_list("reorder_point", flat=True)) == {24}
    assert ReorderPointCalculation.objects.count() == 5
