from decimal import ROUND_HALF_UP, Decimal

from common.errors import NotFound
from suppliers.models import LeadTimeObservation, Supplier

_DAYS = Decimal("0.001")
_RATE = Decimal("0.0001")


def register_supplier(*, name, contact_email, lead_time_days, rating=None, active=True):
    """Register a supplier. Its performance figures start empty and are learned from receipts."""
    return Supplier.objects.create(
        name=name,
        contact_email=contact_email,
        lead_time_days=lead_time_days,
        rating=rating,
        active=active,
    )


EDITABLE_FIELDS = ("name", "contact_email", "lead_time_days", "rating", "active")


def update_supplier(*, supplier_id, **changes):
    """Change a supplier's own details (``EDITABLE_FIELDS``) with one ``UPDATE`` of just those
    columns, so that it never writes back stale performance figures that a receipt refreshed in
    the meantime. Returns the supplier as stored."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if changes and not Supplier.objects.filter(pk=supplier_id).update(**changes):
        raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")
    try:
        return Supplier.objects.get(pk=supplier_id)
    except Supplier.DoesNotExist:
        raise NotFound(f"No supplier {supplier_id}.", field="supplier_id") from None


def update_supplier_performance(
    *, supplier_id, expected_lead_time_days, lead_time_stddev_days, on_time_rate, receipts_count
):
    """Store a supplier's performance figures, computed from its received purchase orders by
    ``procurement.replenishment.refresh_supplier_performance``. One ``UPDATE``; the caller holds
    the supplier's row lock so that two receipts do not overwrite each other's figures."""
    updated = Supplier.objects.filter(pk=supplier_id).update(
        expected_lead_time_days=_quantize(expected_lead_time_days, _DAYS),
        lead_time_stddev_days=_quantize(lead_time_stddev_days, _DAYS),
        on_time_rate=_quantize(on_time_rate, _RATE),
        receipts_count=receipts_count,
    )
    if not updated:
        raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")


def record_lead_time_observation(
    *,
    supplier_id,
    po_id,
    received_at,
    actual_lead_time_days,
    expected_lead_time_days,
    lead_time_stddev_days,
    receipts_count,
):
    """Keep one receipt's actual lead time and the figures learned after it, for the supplier's
    lead-time chart. One ``INSERT``; a second call for the same PO changes nothing (a PO brings
    its lead time once)."""
    LeadTimeObservation.objects.bulk_create(
        [
            LeadTimeObservation(
                supplier_id=supplier_id,
                po_id=po_id,
                received_at=received_at,
                actual_lead_time_days=actual_lead_time_days,
                expected_lead_time_days=_quantize(expected_lead_time_days, _DAYS),
                lead_time_stddev_days=_quantize(lead_time_stddev_days, _DAYS),
                receipts_count=receipts_count,
            )
        ],
        ignore_conflicts=True,
    )


def _quantize(value, step):
    if value is None:
        return None
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
