"""Writes to purchase orders: creation, draft edits and every status change.

Each public function is one transaction. A change to an existing PO first locks its row
(``SELECT ... FOR UPDATE``), so two requests on one PO run one after the other and the second sees
what the first did: a PO is approved, cancelled or received once, whatever races. Every write bumps
``version`` (the ETag) with ``F("version") + 1``.

django-fsm does not check a transition's permission when the transition is called, so the services
check ``can_proceed`` (409) and ``has_transition_perm`` (403) themselves, under the row lock.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from uuid import UUID

import pycountry
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from common.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from procurement.models import (
    APPROVE_PERMISSION,
    CHANGE_PERMISSION,
    TRANSITION_METHODS,
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    in_machine_order,
)
from procurement.replenishment import expected_delivery_date, refresh_supplier_performance
from stock.models import AdjustmentReason
from stock.services import StockChange, record_adjustments
from suppliers.models import Supplier

CENT = Decimal("0.01")
# The largest total_amount DECIMAL(10,2) holds.
MAX_TOTAL = Decimal("99999999.99")
MAX_UNIT_PRICE = MAX_TOTAL
MAX_LINES = 500
MAX_QUANTITY = 1_000_000
MAX_ITEM_TYPE_LENGTH = 50
MAX_REASON_LENGTH = 2000
DEFAULT_CURRENCY = "USD"
# ISO 4217 codes that name no money: "no currency" and the testing code.
NON_CURRENCIES = frozenset({"XXX", "XTS"})

_UNSET = object()


@dataclass(frozen=True)
class LineInput:
    """A validated line item, as stored."""

    item_type: str
    location_id: UUID
    quantity: int
    unit_price: Decimal


def clean_currency(value):
    """An ISO 4217 currency code, upper-cased; ``InvalidInput`` naming ``currency`` otherwise."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if (
        len(code) != 3
        or not code.isalpha()
        or code in NON_CURRENCIES
        or pycountry.currencies.get(alpha_3=code) is None
    ):
        raise InvalidInput(f"'{value}' is not an ISO 4217 currency code.", field="currency")
    return code


def clean_status(value):
    """A status value in any case, as stored (lower case); ``InvalidInput`` if unknown."""
    status = value.strip().lower() if isinstance(value, str) else None
    if status not in POStatus.values:
        raise InvalidInput(
            f"'{value}' is not a status; one of: {', '.join(POStatus.values)}.", field="status"
        )
    return POStatus(status)


def create_purchase_order(*, supplier_id, line_items, created_by, currency=DEFAULT_CURRENCY):
    """Create a draft PO with its lines; ``total_amount`` is the sum of the line totals.

    ``created_by`` is the creator's username (who may then not approve it). Raises
    ``InvalidInput`` naming the field at fault; nothing is written then.
    """
    supplier = _active_supplier(supplier_id)
    currency = clean_currency(currency)
    lines, total = _clean_lines(line_items)
    with transaction.atomic():
        po = PurchaseOrder.objects.create(
            supplier=supplier, currency=currency, total_amount=total, created_by=created_by
        )
        _insert_lines(po, lines)
    return po


def update_purchase_order(
    *,
    po_id,
    user,
    supplier_id=_UNSET,
    currency=_UNSET,
    line_items=_UNSET,
    status=None,
    reason="",
    if_match_version=None,
):
    """Edit a draft and/or move the PO to ``status``, all in one transaction: first the edits
    (``supplier_id``, ``currency``, ``line_items`` replacing all lines; drafts only), then the
    transition. Returns the PO as saved.

    ``if_match_version``: ``None`` skips the check; else a version, or a collection of versions
    (``If-Match`` may list several), one of which must be the current one.

    Raises ``InvalidInput`` (400), ``NotFound`` (404), ``PreconditionFailed`` (412),
    ``Conflict`` (409: not editable, or a transition not allowed now), ``PermissionDenied`` (403).
    """
    supplier = _active_supplier(supplier_id) if supplier_id is not _UNSET else None
    currency = clean_currency(currency) if currency is not _UNSET else None
    lines, total = _clean_lines(line_items) if line_items is not _UNSET else (None, None)
    target = clean_status(status) if status is not None else None
    reason = _clean_reason(target, reason)
    editing = supplier is not None or currency is not None or lines is not None
    if not editing and target is None:
        raise InvalidInput("Nothing to change: give status, supplier_id, currency or line_items.")

    with transaction.atomic():
        po = _lock(po_id)
        # Taken under the lock, so that the history's timestamps follow the order of the changes.
        now = timezone.now()
        _check_version(po, if_match_version)
        changed = []
        if editing:
            if po.status != POStatus.DRAFT:
                raise Conflict(
                    f"A {po.status} purchase order cannot be edited; only a draft can.",
                    code="not_editable",
                    extra={"status": po.status},
                )
            if supplier is not None:
                po.supplier = supplier
                changed.append("supplier")
            if currency is not None:
                po.currency = currency
                changed.append("currency")
            if lines is not None:
                POLineItem.objects.filter(purchase_order=po).delete()
                _insert_lines(po, lines)
                po.total_amount = total
                changed.append("total_amount")
        if target is not None:
            changed += _transition(po, target=target, user=user, reason=reason, now=now)
        _save(po, changed)
        if target == POStatus.RECEIVED:
            # Reads the received POs back, this one included: after the save.
            refresh_supplier_performance(supplier_id=po.supplier_id, now=now)
    return po


def transition_purchase_order(*, po_id, target_status, user, reason="", if_match_version=None):
    """Move the PO along its state machine to ``target_status``, with the transition's effects.

    See ``update_purchase_order`` for the errors.
    """
    return update_purchase_order(
        po_id=po_id,
        user=user,
        status=target_status,
        reason=reason,
        if_match_version=if_match_version,
    )


def receive_purchase_order(*, po_id, user, if_match_version=None):
    """``shipped -> received``: adds every line to stock (see ``_on_received``) in the
    transaction of the status change. A second receipt is a ``Conflict``."""
    return transition_purchase_order(
        po_id=po_id,
        target_status=POStatus.RECEIVED,
        user=user,
        if_match_version=if_match_version,
    )


# --- transitions ---------------------------------------------------------------------------


def _transition(po, *, target, user, reason, now):
    """Apply one transition to the locked PO, with its side effects and a history row.
    Returns the names of the fields it changed."""
    method_name = TRANSITION_METHODS.get(target)
    method = getattr(po, method_name) if method_name else None
    if method is None or not can_proceed(method):
        raise _invalid_transition(po, target, method)
    if not has_transition_perm(method, user):
        raise _not_permitted(po, target, user)
    from_status = po.status
    method()
    changed = ["status"]
    effect = _SIDE_EFFECTS.get(target)
    if effect is not None:
        changed += effect(po, user=user, now=now)
    POStatusChange.objects.create(
        purchase_order=po,
        from_status=from_status,
        to_status=target,
        changed_by=user.get_username(),
        changed_at=now,
        reason=reason,
    )
    return changed


def _require_active_supplier(po):
    """A supplier deactivated after the draft was written gets no new commitments."""
    if not po.supplier.active:
        raise Conflict(
            f"Supplier {po.supplier.name} is no longer active; choose another supplier "
            "for this draft, or cancel it.",
            code="supplier_inactive",
        )


def _on_submitted(po, *, user, now):
    _require_active_supplier(po)
    po.submitted_at = now
    po.expected_delivery_date = expected_delivery_date(supplier=po.supplier, at=now)
    return ["submitted_at", "expected_delivery_date"]


def _on_approved(po, *, user, now):
    _require_active_supplier(po)
    po.approved_by = user.get_username()
    po.approved_at = now
    po.expected_delivery_date = expected_delivery_date(supplier=po.supplier, at=now)
    return ["approved_by", "approved_at", "expected_delivery_date"]


def _on_received(po, *, user, now):
    """Everything a receipt does besides the status, in the status change's transaction.

    Adds each line's quantity to its (item_type, location_id) stock level (creating missing
    levels), with one ``po_receipt`` adjustment per line pointing at the PO, and resolves the
    alerts this lifts. ``record_adjustments`` is set-based: the number of statements does not
    depend on the number of lines.
    """
    lines = POLineItem.objects.filter(purchase_order=po).order_by("line_number")
    changes = [
        StockChange(item_type=item_type, location_id=location_id, quantity_delta=quantity)
        for item_type, location_id, quantity in lines.values_list(
            "item_type", "location_id", "quantity"
        )
    ]
    record_adjustments(
        reason=AdjustmentReason.PO_RECEIPT,
        adjusted_by=user.get_username(),
        changes=changes,
        po_id=po.po_id,
        note=f"Receipt of purchase order {po.po_id}",
    )
    po.received_at = now
    return ["received_at"]


_SIDE_EFFECTS = {
    POStatus.SUBMITTED: _on_submitted,
    POStatus.APPROVED: _on_approved,
    POStatus.RECEIVED: _on_received,
}


def _invalid_transition(po, target, method):
    allowed = in_machine_order(t.target for t in po.get_available_status_transitions())
    if method is not None and can_proceed(method, check_conditions=False):
        # The only condition: submitting needs a line.
        message = "A purchase order needs at least one line item to be submitted."
    elif target == po.status:
        message = f"The purchase order is already {po.status}."
    else:
        message = f"A {po.status} purchase order cannot move to {target}."
    return Conflict(
        message,
        code="invalid_transition",
        extra={"current_status": po.status, "allowed_transitions": allowed},
    )


def _not_permitted(po, target, user):
    if not user.has_perm(CHANGE_PERMISSION):
        return PermissionDenied(
            f"Changing a purchase order's status needs the permission {CHANGE_PERMISSION}."
        )
    if user.has_perm(APPROVE_PERMISSION):
        return PermissionDenied(
            "You created this purchase order; someone else must approve or reject it.",
            code="own_purchase_order",
        )
    return PermissionDenied(
        f"Moving a purchase order to {target} needs the permission {APPROVE_PERMISSION}."
    )


# --- helpers -------------------------------------------------------------------------------


def _lock(po_id):
    """The PO row, locked until the transaction ends, with its supplier (not locked)."""
    po = (
        PurchaseOrder.objects.select_for_update(of=("self",))
        .select_related("supplier")
        .filter(pk=_po_uuid(po_id))
        .first()
    )
    if po is None:
        raise NotFound(f"No purchase order {po_id}.")
    return po


def _po_uuid(po_id):
    try:
        return po_id if isinstance(po_id, UUID) else UUID(str(po_id))
    except ValueError:
        raise NotFound(f"No purchase order {po_id}.") from None


def _check_version(po, if_match_version):
    if if_match_version is None:
        return
    if isinstance(if_match_version, Collection):
        allowed = set(if_match_version)
    else:
        allowed = {if_match_version}
    if po.version not in allowed:
        raise PreconditionFailed(
            "The purchase order has changed since you read it; GET it again and retry."
        )


def _save(po, changed):
    version = po.version
    po.version = F("version") + 1
    po.save(update_fields=[*dict.fromkeys(changed), "version"])
    # The row is locked: this is the value the UPDATE wrote.
    po.version = version + 1


def _active_supplier(supplier_id):
    try:
        supplier_uuid = supplier_id if isinstance(supplier_id, UUID) else UUID(str(supplier_id))
    except ValueError:
        raise InvalidInput(f"'{supplier_id}' is not a supplier id.", field="supplier_id") from None
    supplier = Supplier.objects.filter(pk=supplier_uuid).first()
    if supplier is None:
        raise InvalidInput(f"No supplier {supplier_id}.", field="supplier_id")
    if not supplier.active:
        raise InvalidInput(
            f"Supplier {supplier.name} is inactive; purchase orders need an active supplier.",
            field="supplier_id",
        )
    return supplier


def _clean_reason(target, reason):
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(f"At most {MAX_REASON_LENGTH} characters.", field="reason")
    if reason and target is None:
        raise InvalidInput("A reason goes with a status change.", field="reason")
    if target == POStatus.REJECTED and not reason:
        raise InvalidInput("A rejection needs a reason.", field="reason")
    return reason


def _clean_lines(line_items):
    """Validate the lines; return them with their total, which must fit DECIMAL(10,2)."""
    if isinstance(line_items, str | bytes | Mapping) or not isinstance(line_items, Collection):
        raise InvalidInput("line_items must be a list.", field="line_items")
    if len(line_items) > MAX_LINES:
        raise InvalidInput(
            f"A purchase order has at most {MAX_LINES} line items.", field="line_items"
        )
    lines = [_clean_line(index, item) for index, item in enumerate(line_items)]
    total = sum((line.quantity * line.unit_price for line in lines), Decimal("0.00"))
    if total > MAX_TOTAL:
        raise InvalidInput(
            f"The total {total} exceeds the largest amount a purchase order holds, {MAX_TOTAL}.",
            field="line_items",
        )
    return lines, total


def _clean_line(index, item):
    prefix = f"line_items.{index}"
    if isinstance(item, LineInput):
        item = vars(item)
    if not isinstance(item, Mapping):
        raise InvalidInput("A line item is an object.", field=prefix)

    item_type = item.get("item_type")
    item_type = item_type.strip() if isinstance(item_type, str) else ""
    if not item_type or len(item_type) > MAX_ITEM_TYPE_LENGTH:
        raise InvalidInput(
            f"item_type is 1 to {MAX_ITEM_TYPE_LENGTH} characters.", field=f"{prefix}.item_type"
        )

    location_id = item.get("location_id")
    try:
        location_id = location_id if isinstance(location_id, UUID) else UUID(str(location_id))
    except ValueError:
        raise InvalidInput("location_id must be a UUID.", field=f"{prefix}.location_id") from None

    quantity = item.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("quantity must be a whole number.", field=f"{prefix}.quantity")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(f"quantity is from 1 to {MAX_QUANTITY}.", field=f"{prefix}.quantity")

    unit_price = _clean_price(item.get("unit_price"), f"{prefix}.unit_price")
    return LineInput(item_type, location_id, quantity, unit_price)


def _clean_price(value, field):
    """Money is exact: a Decimal, int or string, never a float."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise InvalidInput("unit_price must be a decimal number.", field=field)
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise InvalidInput("unit_price must be a decimal number.", field=field) from None
    if not price.is_finite() or not 0 <= price <= MAX_UNIT_PRICE:
        raise InvalidInput(f"unit_price is from 0 to {MAX_UNIT_PRICE}.", field=field)
    if price != price.quantize(CENT):
        raise InvalidInput("unit_price has at most 2 decimal places.", field=field)
    return price.quantize(CENT)


def _insert_lines(po, lines):
    POLineItem.objects.bulk_create(
        POLineItem(
            purchase_order=po,
            line_number=number,
            item_type=line.item_type,
            location_id=line.location_id,
            quantity=line.quantity,
            unit_price=line.unit_price,
        )
        for number, line in enumerate(lines, start=1)
    )
