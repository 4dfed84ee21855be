from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Now

from common.currency import clean_currency
from common.errors import Conflict, InvalidInput, NotFound
from common.rows import db_value
from integrations.events import SYSTEM_ACTOR, record_events
from suppliers.figures import (
    MAX_LEAD_TIME_DAYS,
    RATE_WINDOW_DAYS,
    RECORD_COMPLETED_ORDER_SQL,
    refresh_rates_sql,
)
from suppliers.models import (
    MAX_ORDER_QUANTITY,
    LeadTimeObservation,
    Supplier,
    SupplierDeliveryDay,
    SupplierItem,
)

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
    ``procurement.lead_times``. One ``UPDATE``; the caller holds the supplier's row lock so
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


def record_completed_order(*, supplier_id, day, on_time, in_full):
    """Count one purchase order completed (moved to ``received``) on ``day`` in the supplier's
    daily totals: one upsert relative to the row, safe under concurrent receipts.

    ``on_time``: ``None`` when the PO had no expected delivery date (not judged), else whether it
    came in on or before it. ``in_full``: False when it was closed short."""
    judged = on_time is not None
    # The id as the backend stores it (a uuid on PostgreSQL, 32 hex digits on SQLite).
    stored_id = db_value(Supplier, "supplier_id", supplier_id)
    with connection.cursor() as cursor:
        cursor.execute(
            RECORD_COMPLETED_ORDER_SQL,
            [stored_id, day, int(judged), int(bool(on_time)), int(bool(in_full))],
        )


def refresh_supplier_rates(*, today, supplier_ids=None):
    """Recompute ``on_time_rate`` and ``in_full_rate`` over the 365 days up to ``today`` from the
    daily totals, for the given suppliers (all when ``None``): one ``UPDATE``, reading at most
    366 rows per supplier through the ``(supplier_id, day)`` index. A supplier with nothing
    completed in the window gets ``null``. Called by each completing receipt (for its supplier)
    and nightly by ``manage.py refresh_supplier_rates`` (for all), so that the window moves with
    time. Returns the number of suppliers updated."""
    # Written out (``suppliers.figures``): every completing receipt sends it. Exact on PostgreSQL
    # (numeric). SQLite's NUMERIC keeps whole numbers integers and divides them as such (1/2 =
    # 0): there, in floating point, rounded to the column's 4 places on read.
    rate_type = "REAL" if connection.vendor == "sqlite" else "numeric(12, 6)"
    after = db_value(SupplierDeliveryDay, "day", today - timedelta(days=RATE_WINDOW_DAYS))
    ids = None
    if supplier_ids is not None:
        ids = [db_value(Supplier, "supplier_id", supplier_id) for supplier_id in supplier_ids]
        if not ids:
            return 0
    with connection.cursor() as cursor:
        cursor.execute(
            refresh_rates_sql(None if ids is None else len(ids), rate_type=rate_type),
            [after, after, *(ids or ())],
        )
        return cursor.rowcount


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


# --- the suppliers' catalog ---------------------------------------------------------------------

CATALOG_EDITABLE_FIELDS = (
    "supplier_sku",
    "unit_price",
    "currency",
    "min_order_quantity",
    "order_multiple",
    "lead_time_days",
    "preferred",
)
MAX_ITEM_TYPE_LENGTH = 50
MAX_SKU_LENGTH = 100
MAX_UNIT_PRICE = Decimal("99999999.99")


def create_supplier_item(
    *,
    supplier_id,
    item_type,
    unit_price,
    supplier_sku="",
    currency="USD",
    min_order_quantity=1,
    order_multiple=1,
    lead_time_days=None,
    preferred=False,
):
    """Add an item type to a supplier's catalog, in one transaction. ``preferred`` makes this
    supplier the item type's preferred one and un-prefers the previous one (``_prefer``).

    ``InvalidInput`` naming the field at fault; ``Conflict`` (``already_in_catalog``) when the
    supplier already lists that item type.
    """
    supplier = _supplier(supplier_id)
    item_type = _clean_item_type(item_type)
    values = _clean_terms(
        supplier_sku=supplier_sku,
        unit_price=unit_price,
        currency=currency,
        min_order_quantity=min_order_quantity,
        order_multiple=order_multiple,
        lead_time_days=lead_time_days,
        preferred=preferred,
    )
    with transaction.atomic():
        if values["preferred"]:
            _lock_item_type(item_type)
        if SupplierItem.objects.filter(supplier=supplier, item_type=item_type).exists():
            raise _already_in_catalog(supplier, item_type)
        if values["preferred"]:
            _unprefer_others(item_type=item_type, keep=None)
        try:
            with transaction.atomic():
                return SupplierItem.objects.create(supplier=supplier, item_type=item_type, **values)
        except IntegrityError:
            # A concurrent request added the same (supplier, item type) first.
            raise _already_in_catalog(supplier, item_type) from None


def update_supplier_item(*, supplier_item_id, **changes):
    """Change a catalog entry's terms (``CATALOG_EDITABLE_FIELDS``); its supplier and item type
    stay. ``preferred=True`` un-prefers the item type's other supplier in the same transaction.
    Returns the entry as stored."""
    unknown = set(changes) - set(CATALOG_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    values = _clean_terms(**changes)
    with transaction.atomic():
        item = _locked_item(supplier_item_id)
        if values.get("preferred"):
            _lock_item_type(item.item_type)
            _unprefer_others(item_type=item.item_type, keep=item.pk)
        if values:
            SupplierItem.objects.filter(pk=item.pk).update(**values, updated_at=Now())
        return SupplierItem.objects.select_related("supplier").get(pk=item.pk)


def _supplier(supplier_id):
    try:
        supplier_uuid = supplier_id if isinstance(supplier_id, UUID) else UUID(str(supplier_id))
    except ValueError:
        raise InvalidInput(f"'{supplier_id}' is not a supplier id.", field="supplier_id") from None
    supplier = Supplier.objects.filter(pk=supplier_uuid).first()
    if supplier is None:
        raise InvalidInput(f"No supplier {supplier_id}.", field="supplier_id")
    return supplier


def _locked_item(supplier_item_id):
    try:
        item_uuid = (
            supplier_item_id if isinstance(supplier_item_id, UUID) else UUID(str(supplier_item_id))
        )
    except ValueError:
        raise NotFound(f"No supplier item {supplier_item_id}.") from None
    item = SupplierItem.objects.select_for_update().filter(pk=item_uuid).first()
    if item is None:
        raise NotFound(f"No supplier item {supplier_item_id}.")
    return item


def _already_in_catalog(supplier, item_type):
    return Conflict(
        f"{supplier.name} already lists {item_type}; change that entry instead.",
        code="already_in_catalog",
        field="item_type",
    )


def _lock_item_type(item_type):
    """Serialise the changes of one item type's preferred supplier: a transaction-scoped
    advisory lock on PostgreSQL (two requests making two suppliers preferred run one after the
    other, the second un-preferring the first). SQLite (``make run``) has one writer anyway."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"supplier_items.preferred:{item_type}"],
        )


def _unprefer_others(*, item_type, keep):
    others = SupplierItem.objects.filter(item_type=item_type, preferred=True)
    if keep is not None:
        others = others.exclude(pk=keep)
    others.update(preferred=False, updated_at=Now())


def _clean_item_type(value):
    item_type = value.strip() if isinstance(value, str) else ""
    if not item_type or len(item_type) > MAX_ITEM_TYPE_LENGTH:
        raise InvalidInput(
            f"item_type is 1 to {MAX_ITEM_TYPE_LENGTH} characters.", field="item_type"
        )
    return item_type


def _clean_terms(**terms):
    """Validate the given terms (any subset of ``CATALOG_EDITABLE_FIELDS``) as stored."""
    values = {}
    if "supplier_sku" in terms:
        sku = terms["supplier_sku"]
        sku = sku.strip() if isinstance(sku, str) else None
        if sku is None or len(sku) > MAX_SKU_LENGTH:
            raise InvalidInput(f"At most {MAX_SKU_LENGTH} characters.", field="supplier_sku")
        values["supplier_sku"] = sku
    if "unit_price" in terms:
        values["unit_price"] = _clean_price(terms["unit_price"])
    if "currency" in terms:
        values["currency"] = clean_currency(terms["currency"])
    for name in ("min_order_quantity", "order_multiple"):
        if name in terms:
            values[name] = _clean_int(terms[name], name, 1, MAX_ORDER_QUANTITY)
    if "lead_time_days" in terms:
        lead_time = terms["lead_time_days"]
        values["lead_time_days"] = (
            None
            if lead_time is None
            else _clean_int(lead_time, "lead_time_days", 0, MAX_LEAD_TIME_DAYS)
        )
    if "preferred" in terms:
        if not isinstance(terms["preferred"], bool):
            raise InvalidInput("preferred is true or false.", field="preferred")
        values["preferred"] = terms["preferred"]
    return values


def _clean_int(value, field, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"{field} is a whole number from {low} to {high}.", field=field)
    return value


def _clean_price(value):
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidInput("unit_price must be a decimal number.", field="unit_price")
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise InvalidInput("unit_price must be a decimal number.", field="unit_price") from None
    if not price.is_finite() or not 0 <= price <= MAX_UNIT_PRICE:
        raise InvalidInput(f"unit_price is from 0 to {MAX_UNIT_PRICE}.", field="unit_price")
    if price != price.quantize(Decimal("0.01")):
        raise InvalidInput("unit_price has at most 2 decimal places.", field="unit_price")
    return price.quantize(Decimal("0.01"))


def validate_supplier_item_terms(**terms):
    """Validate catalog terms as the services do, writing nothing (for forms)."""
    return _clean_terms(**terms)
