"""Factories and builders for the replenishment tests: ledger rows and committed POs at given
times (the services stamp ``now``; these tests need history)."""

from datetime import timedelta

import factory

from procurement.models import POStatus
from stock.models import AdjustmentReason, StockAdjustment
from tests.factories import POLineItemFactory, PurchaseOrderFactory


class StockAdjustmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StockAdjustment

    reason = AdjustmentReason.CONSUMPTION
    quantity_delta = -1
    quantity_after = 0
    adjusted_by = "scanner"


def consume(level, units_by_days_ago, *, now, reason=AdjustmentReason.CONSUMPTION):
    """One adjustment of ``-units`` per ``{days_ago: units}`` at ``now - days_ago`` days."""
    StockAdjustment.objects.bulk_create(
        [
            StockAdjustment(
                stock=level,
                reason=reason,
                quantity_delta=-units,
                quantity_after=0,
                adjusted_by="scanner",
                created_at=now - timedelta(days=days_ago),
            )
            for days_ago, units in units_by_days_ago.items()
        ]
    )


def committed_po(*, supplier, item_type, location_id, approved_at, status=POStatus.APPROVED):
    """A PO in ``status`` (set at creation, as the protected field allows) with one line."""
    po = PurchaseOrderFactory(supplier=supplier, status=status, approved_at=approved_at)
    POLineItemFactory(purchase_order=po, item_type=item_type, location_id=location_id)
    return po


def received_po(*, supplier, approved_at, lead_time_days, expected_delivery_date=None):
    """A received PO whose actual lead time is ``lead_time_days``."""
    return PurchaseOrderFactory(
        supplier=supplier,
        status=POStatus.RECEIVED,
        approved_at=approved_at,
        received_at=approved_at + timedelta(days=lead_time_days),
        expected_delivery_date=expected_delivery_date,
    )
