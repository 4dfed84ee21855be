"""Purchase orders received before receipts existed get one receipt each, with every line in
full: their lines' ``quantity_received``, ``receipt_status`` ``full``, ``first_received_at``, the
receipt's lines, the link from their ``po_receipt`` adjustments to the receipt, and their
suppliers' daily delivery totals (with ``in_full_rate`` 1 where the last 365 days hold one)."""

import uuid
from datetime import timedelta

from django.db import migrations
from django.db.models import F
from django.utils import timezone

BATCH = 1000
NOTE = "Recorded when receipts were introduced: the purchase order was received in full."


def _batches(rows):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def forwards(apps, schema_editor):
    PurchaseOrder = apps.get_model("procurement", "PurchaseOrder")
    POLineItem = apps.get_model("procurement", "POLineItem")
    POStatusChange = apps.get_model("procurement", "POStatusChange")
    Receipt = apps.get_model("procurement", "Receipt")
    ReceiptLine = apps.get_model("procurement", "ReceiptLine")
    StockAdjustment = apps.get_model("stock", "StockAdjustment")
    Supplier = apps.get_model("suppliers", "Supplier")
    SupplierDeliveryDay = apps.get_model("suppliers", "SupplierDeliveryDay")

    received = PurchaseOrder.objects.filter(status="received").exclude(
        pk__in=Receipt.objects.values("purchase_order_id")
    )
    rows = received.order_by("po_id").values_list(
        "po_id", "supplier_id", "received_at", "expected_delivery_date", "created_at"
    )
    totals = {}
    for batch in _batches(rows.iterator(chunk_size=BATCH)):
        ids = [po_id for po_id, *_ in batch]
        receivers = dict(
            POStatusChange.objects.filter(purchase_order_id__in=ids, to_status="received")
            .order_by("purchase_order_id", "changed_at")
            .values_list("purchase_order_id", "changed_by")
        )
        receipts = {
            po_id: Receipt(
                receipt_id=uuid.uuid4(),
                purchase_order_id=po_id,
                received_by=receivers.get(po_id, "migration"),
                received_at=received_at or created_at,
                note=NOTE,
            )
            for po_id, _, received_at, _, created_at in batch
        }
        Receipt.objects.bulk_create(receipts.values())
        ReceiptLine.objects.bulk_create(
            ReceiptLine(
                receipt_id=receipts[po_id].receipt_id, line_item_id=line_id, quantity=quantity
            )
            for po_id, line_id, quantity in POLineItem.objects.filter(purchase_order_id__in=ids)
            .order_by("purchase_order_id", "line_number")
            .values_list("purchase_order_id", "line_item_id", "quantity")
        )
        POLineItem.objects.filter(purchase_order_id__in=ids).update(
            quantity_received=F("quantity")
        )
        PurchaseOrder.objects.filter(pk__in=ids).update(
            receipt_status="full", first_received_at=F("received_at")
        )
        for po_id, receipt in receipts.items():
            StockAdjustment.objects.filter(po_id=po_id, reason="po_receipt").update(
                receipt_id=receipt.receipt_id
            )
        for _, supplier_id, received_at, due, _ in batch:
            if received_at is None:
                continue
            day = timezone.localdate(received_at)
            row = totals.setdefault((supplier_id, day), [0, 0, 0])
            row[0] += 1
            if due is not None:
                row[1] += 1
                row[2] += day <= due
    SupplierDeliveryDay.objects.bulk_create(
        SupplierDeliveryDay(
            supplier_id=supplier_id,
            day=day,
            completed_count=completed,
            judged_count=judged,
            on_time_count=on_time,
            in_full_count=completed,
        )
        for (supplier_id, day), (completed, judged, on_time) in totals.items()
    )
    since = timezone.localdate() - timedelta(days=365)
    Supplier.objects.filter(
        pk__in={supplier_id for supplier_id, day in totals if day > since}
    ).update(in_full_rate=1)


class Migration(migrations.Migration):
    dependencies = [
        ("procurement", "0003_receipts"),
        ("stock", "0005_adjustment_receipt"),
        ("suppliers", "0002_delivery_days_and_in_full_rate"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
