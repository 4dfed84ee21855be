"""``record_adjustments`` creates missing levels before it locks any, then locks every level once,
in primary-key order: a concurrent creator of the same level cannot make it wait for that
creator while holding a lock the creator needs (a deadlock)."""

import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from stock.models import AdjustmentReason, StockAdjustment, StockLevel
from stock.services import StockChange, record_adjustments
from tests.stock.factories import stocked_level

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 30
NEW_PLACE = uuid.UUID("5b2f9d6e-3a81-4c7b-9e24-d0c8f1a7b365")


def waiting_on_a_lock(pid):
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return bool(row) and row[0] == "Lock"


def test_a_receipt_creating_a_level_does_not_deadlock_with_a_concurrent_creator():
    existing = stocked_level(10)
    new = ("lantern", NEW_PLACE)
    created = threading.Event()
    receipt_pid = []
    results = {}

    def creator():
        """Creates the new level, then (same transaction) corrects the existing one, once the
        receipt below waits: the order that deadlocked when the receipt locked first."""
        try:
            with transaction.atomic():
                record_adjustments(
                    reason=AdjustmentReason.RECEIPT,
                    adjusted_by="creator",
                    changes=[StockChange(item_type=new[0], location_id=new[1], quantity_delta=5)],
                )
                created.set()
                deadline = time.monotonic() + WAIT_SECONDS
                while not receipt_pid or not waiting_on_a_lock(receipt_pid[0]):
                    assert time.monotonic() < deadline, "the receipt never waited"
                    time.sleep(0.02)
                record_adjustments(
                    reason=AdjustmentReason.CORRECTION,
                    adjusted_by="creator",
                    changes=[StockChange(stock_id=existing.stock_id, quantity_delta=-1)],
                )
            results["creator"] = "ok"
        except Exception as exc:  # reported below
            results["creator"] = exc
            created.set()
        finally:
            connection.close()

    def receipt():
        """A receipt of both levels. In an outer transaction of its own, so that a deadlock would
        surface instead of being retried."""
        try:
            connection.ensure_connection()
            assert created.wait(WAIT_SECONDS)
            receipt_pid.append(connection.connection.info.backend_pid)
            with transaction.atomic():
                record_adjustments(
                    reason=AdjustmentReason.RECEIPT,
                    adjusted_by="receiver",
                    changes=[
                        StockChange(
                            item_type=existing.item_type,
                            location_id=existing.location_id,
                            quantity_delta=3,
                        ),
                        StockChange(item_type=new[0], location_id=new[1], quantity_delta=2),
                    ],
                )
            results["receipt"] = "ok"
        except Exception as exc:  # reported below
            results["receipt"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=creator), threading.Thread(target=receipt)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT_SECONDS * 2)

    assert results == {"creator": "ok", "receipt": "ok"}
    existing.refresh_from_db()
    assert existing.quantity_on_hand == 10 - 1 + 3
    lantern = StockLevel.objects.get(item_type=new[0], location_id=new[1])
    assert lantern.quantity_on_hand == 5 + 2
    assert StockAdjustment.objects.filter(stock=lantern).count() == 2
