import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procurement.models import PurchaseOrder
from stock import selectors as stock_selectors
from stock.models import ReorderAlert, StockAdjustment, StockLevel
from stock.services import sync_alerts
from tests.conftest import statements_touching
from tests.factories import StockLevelFactory
from tests.procurement.conftest import LOCATION, line, move, patch

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def open_alert(level):
    sync_alerts(levels=[level])
    return ReorderAlert.objects.get(stock=level, resolved_at__isnull=True)


def test_receiving_adds_stock_creates_levels_and_resolves_lifted_alerts(warehouse, po_in):
    lifted = StockLevelFactory(
        item_type="tent", location_id=LOCATION, quantity_on_hand=2, reorder_point=5
    )
    still_low = StockLevelFactory(
        item_type="stove", location_id=LOCATION, quantity_on_hand=0, reorder_point=50
    )
    lifted_alert, low_alert = open_alert(lifted), open_alert(still_low)
    elsewhere = uuid.uuid4()
    po = po_in(
        "shipped",
        line_items=[
            line("tent", 10),
            line("stove", 10),
            line("lantern", 4, location_id=elsewhere),
            line("tent", 1),
        ],
    )

    body = move(warehouse, po.po_id, "received")

    assert body["status"] == "received"
    assert body["received_at"] is not None
    lifted.refresh_from_db()
    still_low.refresh_from_db()
    assert lifted.quantity_on_hand == 13
    assert still_low.quantity_on_hand == 10
    created = StockLevel.objects.get(item_type="lantern", location_id=elsewhere)
    assert created.quantity_on_hand == 4

    adjustments = StockAdjustment.objects.filter(po_id=po.po_id).order_by("quantity_after")
    assert adjustments.count() == 4
    assert {a.reason for a in adjustments} == {"po_receipt"}
    assert {a.adjusted_by for a in adjustments} == {"warehouse"}
    assert sorted((a.stock_id, a.quantity_delta, a.quantity_after) for a in adjustments) == sorted(
        [
            (lifted.stock_id, 10, 12),
            (lifted.stock_id, 1, 13),
            (still_low.stock_id, 10, 10),
            (created.stock_id, 4, 4),
        ]
    )
    lifted_alert.refresh_from_db()
    low_alert.refresh_from_db()
    assert lifted_alert.resolved_at is not None
    assert low_alert.resolved_at is None
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert stored.received_at == stored.status_history.get(to_status="received").changed_at


@pytest.mark.parametrize("status", ["draft", "submitted", "approved", "received", "cancelled"])
def test_receiving_from_another_status_is_409_and_adds_nothing(warehouse, po_in, status):
    po = po_in(status, line_items=[line("tent", 10)])
    before = StockAdjustment.objects.count()

    response = patch(warehouse, po.po_id, {"status": "received"})

    assert response.status_code == 409
    assert StockAdjustment.objects.count() == before
    assert PurchaseOrder.objects.get(pk=po.pk).status == status


def test_receiving_twice_adds_stock_once(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10)])
    move(warehouse, po.po_id, "received")

    response = patch(warehouse, po.po_id, {"status": "received"})

    assert response.status_code == 409
    assert response.json()["allowed_transitions"] == []
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 10
    assert StockAdjustment.objects.filter(po_id=po.po_id).count() == 1


@pytest.mark.postgresql
def test_receipt_runs_the_same_number_of_queries_for_2_and_200_lines(warehouse, po_in):
    counts = []
    for lines in (2, 200):
        po = po_in("shipped", lines=lines)
        with CaptureQueriesContext(connection) as queries:
            response = patch(warehouse, po.po_id, {"status": "received"})
        assert response.status_code == 200
        assert StockAdjustment.objects.filter(po_id=po.po_id).count() == lines
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_receipt_answers_the_po_as_saved_without_reading_it_again(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10), line("stove", 2)])

    with CaptureQueriesContext(connection) as queries:
        response = patch(warehouse, po.po_id, {"status": "received"})
    # Counted before the next request, which empties the captured log.
    po_statements = statements_touching(queries, "purchase_orders")

    assert response.status_code == 200
    body = response.json()
    assert body == warehouse.get(f"/purchase-orders/{po.po_id}").json()
    assert body["status"] == "received"
    assert body["received_at"] is not None
    assert [row["item_type"] for row in body["line_items"]] == ["tent", "stove"]
    assert body["status_history"][-1]["to_status"] == "received"
    assert response["ETag"] == f'"{PurchaseOrder.objects.get(pk=po.pk).version}"'
    # The lock, the saved status, the supplier's latest first receipts (its lead time): no
    # statement reads the PO again for the answer.
    assert po_statements == 3


def test_reorder_alerts_report_the_quantity_on_order(reader_client, po_in):
    """Approved and shipped POs count; drafts, submitted, cancelled and received ones do not."""
    level = StockLevelFactory(
        item_type="tent", location_id=LOCATION, quantity_on_hand=1, reorder_point=1000
    )
    other = StockLevelFactory(
        item_type="stove", location_id=LOCATION, quantity_on_hand=0, reorder_point=10
    )
    open_alert(level)
    open_alert(other)
    po_in("approved", line_items=[line("tent", 5), line("tent", 2), line("stove", 3)])
    po_in("shipped", line_items=[line("tent", 7)])
    for status in ("draft", "submitted", "cancelled", "rejected", "received"):
        po_in(status, line_items=[line("tent", 100)])
    po_in("approved", line_items=[line("tent", 50, location_id=uuid.uuid4())])

    response = reader_client.get("/reorder-alerts")

    assert response.status_code == 200, response.json()
    on_order = {a["item_type"]: a["quantity_on_order"] for a in response.json()["results"]}
    assert on_order == {"tent": 14, "stove": 3}
    by_selector = {
        a.stock.item_type: a.quantity_on_order for a in stock_selectors.list_open_alerts()
    }
    assert by_selector == on_order


def test_receiving_teaches_the_supplier_its_lead_time(warehouse, po_in, supplier):
    """The receipt records the actual lead time (received_at - approved_at) on the supplier."""
    po = po_in("shipped")
    approved_at = timezone.now() - timedelta(days=4)
    PurchaseOrder.objects.filter(pk=po.po_id).update(
        approved_at=approved_at, expected_delivery_date=timezone.localdate()
    )

    move(warehouse, po.po_id, "received")

    supplier.refresh_from_db()
    received = PurchaseOrder.objects.get(pk=po.po_id)
    actual = (received.received_at - approved_at).total_seconds() / 86400
    # EWMA seeded with the declared 7 days: 0.3 * actual + 0.7 * 7
    assert float(supplier.expected_lead_time_days) == pytest.approx(0.3 * actual + 4.9, abs=1e-3)
    assert supplier.receipts_count == 1
    assert supplier.lead_time_stddev_days == 0
    assert supplier.on_time_rate == 1
