"""The suppliers' lead-time history: one row per received PO, written by the receipt, and the
migration that rebuilt it from the POs received before it existed."""

import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from procurement.lead_times import refresh_supplier_performance
from procurement.models import PurchaseOrder
from suppliers.models import LeadTimeObservation
from tests.factories import SupplierFactory
from tests.procurement.conftest import move
from tests.replenishment.factories import received_po

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _history(supplier):
    return list(
        LeadTimeObservation.objects.filter(supplier=supplier)
        .order_by("received_at")
        .values_list("expected_lead_time_days", "lead_time_stddev_days", "receipts_count")
    )


def test_each_receipt_keeps_its_lead_time_and_the_learned_one(warehouse, po_in, supplier):
    first, second = po_in("shipped"), po_in("shipped")
    approved_at = timezone.now() - 4 * DAY
    PurchaseOrder.objects.filter(pk=first.po_id).update(approved_at=approved_at)

    move(warehouse, first.po_id, "received")

    observation = LeadTimeObservation.objects.get()
    received = PurchaseOrder.objects.get(pk=first.po_id)
    actual = (received.received_at - approved_at).total_seconds() / 86400
    supplier.refresh_from_db()
    assert observation.supplier_id == supplier.supplier_id
    assert observation.po_id == first.po_id
    assert observation.received_at == received.received_at
    assert observation.actual_lead_time_days == pytest.approx(actual)
    assert observation.expected_lead_time_days == supplier.expected_lead_time_days
    assert (observation.lead_time_stddev_days, observation.receipts_count) == (0, 1)

    move(warehouse, second.po_id, "received")

    supplier.refresh_from_db()
    assert LeadTimeObservation.objects.count() == 2
    latest = LeadTimeObservation.objects.get(po_id=second.po_id)
    assert latest.expected_lead_time_days == supplier.expected_lead_time_days
    assert latest.receipts_count == 2


def test_a_po_brings_its_lead_time_once():
    supplier = SupplierFactory(lead_time_days=10)
    po = received_po(supplier=supplier, approved_at=NOW - 20 * DAY, lead_time_days=8)

    for _ in range(2):
        refresh_supplier_performance(supplier_id=supplier.pk, now=NOW, po_id=po.po_id)

    assert _history(supplier) == [(Decimal("9.400"), Decimal("0.000"), 1)]


def test_refreshing_without_a_po_keeps_no_history():
    supplier = SupplierFactory(lead_time_days=10)
    received_po(supplier=supplier, approved_at=NOW - 20 * DAY, lead_time_days=8)

    refresh_supplier_performance(supplier_id=supplier.pk, now=NOW)

    assert not LeadTimeObservation.objects.exists()


def test_the_migration_rebuilds_the_history_of_earlier_receipts():
    backfill = importlib.import_module(
        "procurement.migrations.0005_backfill_lead_time_history"
    ).backfill
    supplier, other = SupplierFactory(lead_time_days=10), SupplierFactory(lead_time_days=3)
    start = NOW - 200 * DAY
    # received in this order: 8, 12, 6, 9 days (the example of test_lead_times)
    for approved_at, lead_time in [
        (start + 5 * DAY, 8),
        (start + 2 * DAY, 12),
        (start + 20 * DAY, 6),
        (start + 30 * DAY, 9),
    ]:
        received_po(supplier=supplier, approved_at=approved_at, lead_time_days=lead_time)
    received_po(supplier=other, approved_at=start, lead_time_days=2)

    backfill(apps, None)

    assert _history(supplier) == [
        (Decimal("9.400"), Decimal("0.000"), 1),
        (Decimal("10.180"), Decimal("0.000"), 2),
        (Decimal("8.926"), Decimal("3.055"), 3),
        (Decimal("8.948"), Decimal("2.500"), 4),
    ]
    actuals = LeadTimeObservation.objects.filter(supplier=supplier).order_by("received_at")
    assert [row.actual_lead_time_days for row in actuals] == [8, 12, 6, 9]
    # 0.3 * 2 + 0.7 * 3
    assert _history(other) == [(Decimal("2.700"), Decimal("0.000"), 1)]

    backfill(apps, None)  # running it again adds nothing
    assert LeadTimeObservation.objects.count() == 5


def test_an_earlier_receipt_keeps_the_figures_as_they_were_then():
    supplier = SupplierFactory(lead_time_days=10)
    start = NOW - 200 * DAY
    pos = [
        received_po(supplier=supplier, approved_at=start + offset * DAY, lead_time_days=lead)
        for offset, lead in [(5, 8), (2, 12), (20, 6)]
    ]

    performance = refresh_supplier_performance(supplier_id=supplier.pk, now=NOW, po_id=pos[1].pk)

    # the history row: after the 2nd receipt (0.3 * 12 + 0.7 * 9.4); the supplier: after all 3
    assert _history(supplier) == [(Decimal("10.180"), Decimal("0.000"), 2)]
    assert performance.receipts_count == 3
    supplier.refresh_from_db()
    assert supplier.expected_lead_time_days == Decimal("8.926")
