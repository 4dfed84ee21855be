from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum
from django.db.models.functions import Cast, NullIf

from common.errors import NotFound
from integrations.events import SYSTEM_ACTOR, record_events
from suppliers.models import (
    MAX_LEAD_TIME_DAYS,
    LeadTimeObservation,
    Supplier,
    SupplierDeliveryDay,
)

# The on-time and in-full rates count the purchase orders completed in the last 365 days.
RATE_WINDOW_DAYS = 365

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


_KEEP = object()


def update_supplier_performance(
    *,
    supplier_id,
    expected_lead_time_days,
    lead_time_stddev_days,
    receipts_count,
    on_time_rate=_KEEP,
):
    """Store a supplier's lead-time figures, learned from its deliveries by
    ``procurement.replenishment``. One ``UPDATE``; the caller holds the supplier's row lock so
    that two receipts do not overwrite each other's figures. The 365-day rates are kept by
    ``refresh_supplier_rates``; ``on_time_rate`` may still be set directly (tests, repairs)."""
    # Capped at the longest lead time a supplier may declare: a receipt of a PO approved at an
    # absurd time (restored or hand-edited data) must not overflow numeric(8,3) and fail.
    figures = {
        "expected_lead_time_days": _quantize(_capped(expected_lead_time_days), _DAYS),
        "lead_time_stddev_days": _quantize(_capped(lead_time_stddev_days), _DAYS),
        "receipts_count": receipts_count,
    }
    if on_time_rate is not _KEEP:
        figures["on_time_rate"] = _quantize(on_time_rate, _RATE)
    updated = Supplier.objects.filter(pk=supplier_id).update(**figures)
    if not updated:
        raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")


RECORD_COMPLETED_ORDER_SQL = (
    'INSERT INTO "supplier_delivery_days" AS d ("supplier_id", "day", "completed_count", '
    '"judged_count", "on_time_count", "in_full_count") VALUES (%s, %s, 1, %s, %s, %s) '
    'ON CONFLICT ("supplier_id", "day") DO UPDATE SET '
    '"completed_count" = d."completed_count" + 1, '
    '"judged_count" = d."judged_count" + excluded."judged_count", '
    '"on_time_count" = d."on_time_count" + excluded."on_time_count", '
    '"in_full_count" = d."in_full_count" + excluded."in_full_count"'
)


def record_completed_order(*, supplier_id, day, on_time, in_full):
    """Count one purchase order completed (moved to ``received``) on ``day`` in the supplier's
    daily totals: one upsert relative to the row, safe under concurrent receipts.

    ``on_time``: ``None`` when the PO had no expected delivery date (not judged), else whether it
    came in on or before it. ``in_full``: False when it was closed short."""
    judged = on_time is not None
    with connection.cursor() as cursor:
        cursor.execute(
            RECORD_COMPLETED_ORDER_SQL,
            [supplier_id, day, int(judged), int(bool(on_time)), int(bool(in_full))],
        )


def refresh_supplier_rates(*, today, supplier_ids=None):
    """Recompute ``on_time_rate`` and ``in_full_rate`` over the 365 days up to ``today`` from the
    daily totals, for the given suppliers (all when ``None``): one ``UPDATE``, reading at most
    366 rows per supplier through the ``(supplier_id, day)`` index. A supplier with nothing
    completed in the window gets ``null``. Called by each completing receipt (for its supplier)
    and nightly by ``manage.py refresh_supplier_rates`` (for all), so that the window moves with
    time. Returns the number of suppliers updated."""
    window = (
        SupplierDeliveryDay.objects.filter(
            supplier=OuterRef("pk"), day__gt=today - timedelta(days=RATE_WINDOW_DAYS)
        )
        .order_by()
        .values("supplier")
    )
    rate = DecimalField(max_digits=12, decimal_places=6)

    def share(part, whole):
        return Subquery(
            window.annotate(share=Cast(Sum(part), rate) / Cast(NullIf(Sum(whole), 0), rate)).values(
                "share"
            ),
            output_field=rate,
        )

    suppliers = Supplier.objects.all()
    if supplier_ids is not None:
        suppliers = suppliers.filter(pk__in=list(supplier_ids))
    return suppliers.update(
        on_time_rate=share(F("on_time_count"), F("judged_count")),
        in_full_rate=share(F("in_full_count"), F("completed_count")),
    )


def rebuild_delivery_days(*, supplier_id, completed_orders):
    """Replace a supplier's daily totals by those of ``completed_orders``, an iterable of
    ``(day, on_time, in_full)`` (see ``record_completed_order``): a repair, reading the
    supplier's whole history. Three statements."""
    totals = {}
    for day, on_time, in_full in completed_orders:
        row = totals.setdefault(day, [0, 0, 0, 0])
        row[0] += 1
        row[1] += on_time is not None
        row[2] += bool(on_time)
        row[3] += bool(in_full)
    SupplierDeliveryDay.objects.filter(supplier_id=supplier_id).delete()
    SupplierDeliveryDay.objects.bulk_create(
        SupplierDeliveryDay(
            supplier_id=supplier_id,
            day=day,
            completed_count=completed,
            judged_count=judged,
            on_time_count=on_time,
            in_full_count=in_full,
        )
        for day, (completed, judged, on_time, in_full) in sorted(totals.items())
    )


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


def _capped(days):
    return None if days is None else min(days, MAX_LEAD_TIME_DAYS)
