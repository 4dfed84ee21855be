"""The data migration: purchase orders received before receipts existed get one receipt each,
with every line in full."""

import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

BEFORE = [
    ("procurement", "0002_po_edits"),
    ("stock", "0004_levels_hot_recalculation"),
    ("suppliers", "0001_initial"),
]
AFTER = [("procurement", "0004_receipts_for_received_orders")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_received_pos_get_one_receipt_with_their_lines_in_full():
    old = _migrate(BEFORE)
    try:
        Supplier = old.get_model("suppliers", "Supplier")
        PurchaseOrder = old.get_model("procurement", "PurchaseOrder")
        POLineItem = old.get_model("procurement", "POLineItem")
        POStatusChange = old.get_model("procurement", "POStatusChange")
        StockLevel = old.get_model("stock", "StockLevel")
        StockAdjustment = old.get_model("stock", "StockAdjustment")
        supplier = Supplier.objects.create(
            name="S", contact_email="s@example.com", lead_time_days=3
        )
        now = timezone.now()
        received = PurchaseOrder.objects.create(
            supplier=supplier,
            status="received",
            total_amount=0,
            created_by="clerk",
            approved_at=now - timedelta(days=5),
            received_at=now - timedelta(days=1),
            expected_delivery_date=(now - timedelta(days=2)).date(),
        )
        shipped = PurchaseOrder.objects.create(
            supplier=supplier, status="shipped", total_amount=0, created_by="clerk"
        )
        location = uuid.uuid4()
        for po in (received, shipped):
            for number, quantity in ((1, 4), (2, 6)):
                POLineItem.objects.create(
                    purchase_order=po,
                    line_number=number,
                    item_type=f"item-{number}",
                    location_id=location,
                    quantity=quantity,
                    unit_price=0,
                )
        POStatusChange.objects.create(
            purchase_order=received,
            from_status="shipped",
            to_status="received",
            changed_by="warehouse",
            changed_at=received.received_at,
        )
        level = StockLevel.objects.create(
            item_type="item-1",
            location_id=location,
            quantity_on_hand=4,
            reorder_point=0,
            reorder_quantity=0,
        )
        StockAdjustment.objects.create(
            stock=level,
            reason="po_receipt",
            quantity_delta=4,
            quantity_after=4,
            adjusted_by="warehouse",
            po_id=received.po_id,
        )

        new = _migrate(AFTER)

        Receipt = new.get_model("procurement", "Receipt")
        [receipt] = Receipt.objects.all()
        assert receipt.purchase_order_id == received.po_id
        assert (receipt.received_by, receipt.received_at) == ("warehouse", received.received_at)
        lines = new.get_model("procurement", "ReceiptLine").objects.order_by("quantity")
        assert [line.quantity for line in lines] == [4, 6]
        NewLine = new.get_model("procurement", "POLineItem")
        assert sorted(
            NewLine.objects.filter(purchase_order_id=received.po_id).values_list(
                "quantity_received", flat=True
            )
        ) == [4, 6]
        assert set(
            NewLine.objects.filter(purchase_order_id=shipped.po_id).values_list(
                "quantity_received", flat=True
            )
        ) == {0}
        NewPO = new.get_model("procurement", "PurchaseOrder")
        migrated = NewPO.objects.get(pk=received.po_id)
        assert (migrated.receipt_status, migrated.first_received_at) == (
            "full",
            received.received_at,
        )
        assert NewPO.objects.get(pk=shipped.po_id).receipt_status == "none"
        adjustment = new.get_model("stock", "StockAdjustment").objects.get()
        assert adjustment.receipt_id == receipt.receipt_id
        day = new.get_model("suppliers", "SupplierDeliveryDay").objects.get()
        assert (day.completed_count, day.judged_count, day.on_time_count, day.in_full_count) == (
            1,
            1,
            0,
            1,
        )
        assert new.get_model("suppliers", "Supplier").objects.get().in_full_rate == 1
    finally:
        # Back to the latest migration of every app, for the tests that follow.
        executor = MigrationExecutor(connection)
        _migrate(executor.loader.graph.leaf_nodes())
