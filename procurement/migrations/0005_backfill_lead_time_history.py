"""Backfill the suppliers' lead-time history (``supplier_lead_times``) from the received POs.

Each supplier's received POs are replayed in ``received_at`` order with the rule the service
learns by (an exponentially weighted average, alpha 0.3, seeded with the declared lead time; the
spread as the sample standard deviation of the last 10, 0 until 3), writing the figures after
each receipt. What cannot be reconstructed: the declared lead time as it was then (today's is
used), and the value the service stored if the rule has changed since.
"""

import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import migrations

EWMA_ALPHA = 0.3
SPREAD_SAMPLE = 10
MIN_RECEIPTS_FOR_SPREAD = 3
BATCH_SIZE = 2000
_DAYS = Decimal("0.001")


def _days(value):
    return Decimal(str(value)).quantize(_DAYS, rounding=ROUND_HALF_UP)


def backfill(apps, schema_editor):
    PurchaseOrder = apps.get_model("procurement", "PurchaseOrder")
    Supplier = apps.get_model("suppliers", "Supplier")
    LeadTimeObservation = apps.get_model("suppliers", "LeadTimeObservation")
    declared = dict(Supplier.objects.values_list("supplier_id", "lead_time_days"))
    receipts = (
        PurchaseOrder.objects.filter(
            status="received", received_at__isnull=False, approved_at__isnull=False
        )
        .order_by("supplier_id", "received_at", "po_id")
        .values_list("supplier_id", "po_id", "approved_at", "received_at")
    )
    batch, current, expected, recent, count = [], None, 0.0, [], 0
    for supplier_id, po_id, approved_at, received_at in receipts.iterator(chunk_size=BATCH_SIZE):
        if supplier_id != current:
            current, expected, recent, count = supplier_id, float(declared[supplier_id]), [], 0
        actual = max(0.0, (received_at - approved_at).total_seconds() / 86400)
        expected = EWMA_ALPHA * actual + (1 - EWMA_ALPHA) * expected
        recent = [*recent, actual][-SPREAD_SAMPLE:]
        count += 1
        spread = statistics.stdev(recent) if len(recent) >= MIN_RECEIPTS_FOR_SPREAD else 0.0
        batch.append(
            LeadTimeObservation(
                supplier_id=supplier_id,
                po_id=po_id,
                received_at=received_at,
                actual_lead_time_days=actual,
                expected_lead_time_days=_days(expected),
                lead_time_stddev_days=_days(spread),
                receipts_count=count,
            )
        )
        if len(batch) >= BATCH_SIZE:
            LeadTimeObservation.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        LeadTimeObservation.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("procurement", "0004_receipts_for_received_orders"),
        ("suppliers", "0004_lead_time_history"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
