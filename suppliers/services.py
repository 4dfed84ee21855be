from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from common.errors import NotFound
from integrations.events import SYSTEM_ACTOR, record_events
from suppliers.models import Supplier

_DAYS = Decimal("0.001")
_RATE = Decimal("0.0001")


def register_supplier(
    *, name, contact_email, lead_time_days, rating=None, active=True, actor=SYSTEM_ACTOR
):
    """Register a supplier. Its performance figures start empty and are learned from receipts.
    ``actor``: who registered it (the event's ``actor``)."""
    with transaction.atomic():
        supplier = Supplier.objects.create(
            name=name,
            contact_email=contact_email,
            lead_time_days=lead_time_days,
            rating=rating,
            active=active,
        )
        record_events(entity="supplier", action="created", objects=[supplier], actor=actor)
    return supplier


EDITABLE_FIELDS = ("name", "contact_email", "lead_time_days", "rating", "active")


def update_supplier(*, supplier_id, actor=SYSTEM_ACTOR, **changes):
    """Change a supplier's own details (``EDITABLE_FIELDS``) with one ``UPDATE`` of just those
    columns, so that it never writes back stale performance figures that a receipt refreshed in
    the meantime. Returns the supplier as stored. A change writes a ``supplier.updated`` event."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        if changes and not Supplier.objects.filter(pk=supplier_id).update(**changes):
            raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")
        try:
            supplier = Supplier.objects.get(pk=supplier_id)
        except Supplier.DoesNotExist:
            raise NotFound(f"No supplier {supplier_id}.", field="supplier_id") from None
        if changes:
            record_events(entity="supplier", action="updated", objects=[supplier], actor=actor)
    return supplier


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


def _quantize(value, step):
    if value is None:
        return None
    return Decimal(str(value)).quantize(step, rounding=ROUND_HALF_UP)
