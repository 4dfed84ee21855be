"""Figures near their limits. A receipt that would take a stock level past what its integer
column holds is a 409 naming the level, with nothing written; up to that it is received. Alerts
whose figures add up past 2^31 still raise purchase orders; absurd approval times do not overflow
a supplier's learned lead time."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from procurement import services
from procurement.models import PurchaseOrder
from stock.models import ReorderAlert, StockAdjustment, StockLevel
from stock.services import MAX_QUANTITY, sync_alerts
from tests.factories import StockLevelFactory
from tests.procurement.conftest import LOCATION, line, patch

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_a_po_receipt_past_the_largest_quantity_is_409_naming_the_level(warehouse, po_in):
    full = StockLevelFactory(
        item_type="tent", location_id=LOCATION, quantity_on_hand=MAX_QUANTITY - 10
    )
    po = po_in("shipped", line_items=[line("stove", 5), line("tent", 20)])

    response = patch(warehouse, po.po_id, {"status": "received"})

    assert response.status_code == 409, response.json()
    body = response.json()
    assert body["code"] == "stock_level_full"
    assert body["stock_id"] == str(full.stock_id)
    assert str(full.stock_id) in body["message"]
    assert "quantity_delta" not in body["message"]
    assert "fields" not in body
    # Nothing half-written: the PO is still shipped, no level changed or was created.
    assert PurchaseOrder.objects.get(pk=po.po_id).status == "shipped"
    full.refresh_from_db()
    assert full.quantity_on_hand == MAX_QUANTITY - 10
    assert not StockLevel.objects.filter(item_type="stove").exists()
    assert not StockAdjustment.objects.exists()


def test_a_po_receipt_up_to_the_largest_quantity_is_received(warehouse, po_in):
    level = StockLevelFactory(
        item_type="tent", location_id=LOCATION, quantity_on_hand=MAX_QUANTITY - 20
    )
    po = po_in("shipped", line_items=[line("tent", 20)])

    response = patch(warehouse, po.po_id, {"status": "received"})

    assert response.status_code == 200, response.json()
    level.refresh_from_db()
    assert level.quantity_on_hand == MAX_QUANTITY
    assert uuid.UUID(response.json()["po_id"]) == po.po_id


def test_raising_a_po_for_an_alert_whose_figures_pass_2_to_the_31(po_in, operator):
    """reorder_point + reorder_quantity passes 2^31 - 1; the suggestion itself is small."""
    level = StockLevelFactory(
        item_type="tent",
        location_id=LOCATION,
        quantity_on_hand=MAX_QUANTITY,
        reorder_point=MAX_QUANTITY,
        reorder_quantity=50,
    )
    sync_alerts(levels=[level])
    alert = ReorderAlert.objects.get(stock=level, resolved_at__isnull=True)
    po_in("approved", line_items=[line("tent", 3, location_id=uuid.uuid4())])

    result = services.raise_purchase_orders_for_alerts(alert_ids=[alert.alert_id], user=operator)

    assert result.skipped == ()
    [raised] = result.orders
    assert list(raised.po.line_items.values_list("item_type", "quantity")) == [("tent", 50)]
    alert.refresh_from_db()
    assert alert.po_id == raised.po.po_id


def test_a_receipt_of_a_po_approved_in_year_1_does_not_overflow(po_in, supplier, make_client):
    """An absurd approval time (restored or hand-edited data) gives an actual lead time of
    ~740,000 days; the learned figure is capped at 3650 instead of overflowing numeric(8,3)."""
    warehouse = make_client("warehouse", perms=["procurement.change_purchaseorder"])
    po = po_in("shipped")
    PurchaseOrder.objects.filter(pk=po.po_id).update(approved_at=datetime(1, 1, 1, tzinfo=UTC))

    response = warehouse.patch(
        f"/purchase-orders/{po.po_id}", {"status": "received"}, format="json"
    )

    assert response.status_code == 200, response.json()
    supplier.refresh_from_db()
    assert supplier.expected_lead_time_days == Decimal("3650.000")
    assert supplier.receipts_count == 1


def test_a_receipt_of_more_lines_than_sqlite_takes_parameters_for_receives_them_all(
    po_in, operator
):
    """The received quantities are added by one statement (on SQLite, one per batch of lines
    its 999 parameters allow: 400 lines take two)."""
    po = po_in(
        "shipped", line_items=[line(item_type=f"item-{n}", quantity=n + 1) for n in range(400)]
    )

    services.receive_purchase_order(po_id=po.po_id, user=operator)

    received = dict(po.line_items.values_list("line_number", "quantity_received"))
    assert received == {n + 1: n + 1 for n in range(400)}
    assert StockAdjustment.objects.filter(po_id=po.po_id).count() == 400
    assert PurchaseOrder.objects.get(pk=po.po_id).status == "received"
