"""Adjustments from real threads, each on its own database connection, started together."""

import threading
import uuid

import pytest
from django.db import connection
from django.db.models import Sum
from rest_framework.test import APIClient

from stock.models import AdjustmentReason, ReorderAlert, StockAdjustment, StockLevel
from stock.services import StockChange, record_adjustments
from tests.factories import ApiTokenFactory, UserFactory
from tests.stock.factories import stocked_level

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

THREADS = 24


def run_together(work, count):
    """Run ``work(i)`` in ``count`` threads released at once; return their results in order.
    Each thread hands its connection back to the pool when done."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def target(index):
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except Exception as exc:  # reported to the test below, not swallowed
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return results


@pytest.fixture
def clients():
    """One API client per thread, all with the permission to adjust (made before threads start)."""
    token = ApiTokenFactory(user=UserFactory(username="floor", perms=["stock.add_stockadjustment"]))
    clients = [APIClient() for _ in range(THREADS)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return clients


def ledger(level):
    return StockAdjustment.objects.filter(stock=level).aggregate(total=Sum("quantity_delta"))[
        "total"
    ]


def test_concurrent_consumption_never_oversells(clients):
    units = 7
    level = stocked_level(units, reorder_point=2)
    body = {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": -1}

    responses = run_together(
        lambda i: clients[i].post("/stock-adjustments", body, format="json"), THREADS
    )

    statuses = [getattr(r, "status_code", r) for r in responses]
    assert statuses.count(201) == units, statuses
    assert statuses.count(409) == THREADS - units, statuses
    assert all(r.json()["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    level.refresh_from_db()
    assert level.quantity_on_hand == 0
    consumed = StockAdjustment.objects.filter(stock=level, reason="consumption")
    assert consumed.count() == units
    assert sorted(consumed.values_list("quantity_after", flat=True)) == list(range(units))
    assert sorted(r.json()["quantity_after"] for r in responses if r.status_code == 201) == list(
        range(units)
    )
    assert ledger(level) == 0
    assert ReorderAlert.objects.filter(stock=level, resolved_at__isnull=True).count() == 1


def test_concurrent_receipts_create_one_level_and_count_every_unit(clients):
    location = uuid.uuid4()

    def receive(index):
        return clients[index].post(
            "/stock-adjustments",
            {
                "item_type": "tent-2p",
                "location_id": str(location),
                "reason": "receipt",
                "quantity_delta": index + 1,
            },
            format="json",
        )

    responses = run_together(receive, THREADS)

    statuses = [getattr(r, "status_code", r) for r in responses]
    assert statuses == [201] * THREADS, statuses
    [level] = StockLevel.objects.filter(item_type="tent-2p", location_id=location)
    total = THREADS * (THREADS + 1) // 2
    assert level.quantity_on_hand == total
    assert (level.reorder_point, level.reorder_quantity) == (0, 0)
    assert StockAdjustment.objects.filter(stock=level).count() == THREADS
    assert ledger(level) == total
    assert {r.json()["stock_id"] for r in responses} == {str(level.stock_id)}
    afters = sorted(StockAdjustment.objects.filter(stock=level).values_list("quantity_after"))
    assert afters[-1] == (total,)


def test_batches_touching_the_same_levels_in_any_order_do_not_deadlock():
    """Purchase order receipts name their lines in any order; the service locks by primary key."""
    levels = [stocked_level(0, reorder_point=0) for _ in range(4)]
    pairs = [(level.item_type, level.location_id) for level in levels]

    def receive(index):
        order = pairs if index % 2 else pairs[::-1]
        return record_adjustments(
            reason=AdjustmentReason.PO_RECEIPT,
            adjusted_by="receiver",
            po_id=uuid.uuid4(),
            changes=[
                StockChange(item_type=item_type, location_id=location_id, quantity_delta=2)
                for item_type, location_id in order
            ],
        )

    results = run_together(receive, 12)

    assert all(isinstance(result, list) and len(result) == 4 for result in results), results
    for level in levels:
        level.refresh_from_db()
        assert level.quantity_on_hand == 24
        assert ledger(level) == 24
