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

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from common.currency import clean_currency
from common.db import retry_on_transient_conflict
from common.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from common.rows import batches, db_value
from integrations.events import record_events, record_events_of_actions
from procurement import queries
from procurement.lead_times import expected_delivery_date, learn_lead_time, record_po_completion
from procurement.models import (
    ADD_PERMISSION,
    APPROVE_PERMISSION,
    APPROVER_NAME_MAX_LENGTH,
    CHANGE_PERMISSION,
    FINAL_STATUSES,
    POApproval,
    POEdit,
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
    approvals_needed,
    approved_by_names,
    approver_name_fits,
    in_machine_order,
    transition_to,
)
from procurement.selectors import latest_committed_lines, preferred_catalog_entries
from stock.models import AdjustmentReason
from stock.selectors import list_open_alerts
from stock.services import StockChange, link_alerts_to_purchase_order, record_adjustments
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

_UNSET = object()


@dataclass(frozen=True)
class LineInput:
    """A validated line item, as stored."""

    item_type: str
    location_id: UUID
    quantity: int
    unit_price: Decimal


def clean_status(value):
    """A status value in any case, as stored (lower case); ``InvalidInput`` if unknown."""
    status = value.strip().lower() if isinstance(value, str) else None
    if status not in POStatus.values:
        raise InvalidInput(
            f"'{value}' is not a status; one of: {', '.join(POStatus.values)}.", field="status"
        )
    return POStatus(status)


@retry_on_transient_conflict
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
        record_events(entity="purchase_order", action="created", objects=[po], actor=created_by)
    return po


@retry_on_transient_conflict
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

    Editing needs ``procurement.add_purchaseorder`` (the right to write purchase orders): any
    holder may edit a colleague's draft, and each edit is recorded (``POEdit``), so that its
    author, like the creator and the submitter, may not approve or reject the PO.

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
    if editing and not user.has_perm(ADD_PERMISSION):
        raise PermissionDenied(
            f"Editing a purchase order's supplier, currency or lines needs the permission "
            f"{ADD_PERMISSION}."
        )

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
                    extra={"current_status": po.status},
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
            POEdit.objects.create(
                purchase_order=po,
                edited_by=user.get_username(),
                edited_at=now,
                fields=",".join(
                    name
                    for name, value in (
                        ("supplier", supplier),
                        ("currency", currency),
                        ("line_items", lines),
                    )
                    if value is not None
                ),
            )
        receiving = None
        if target == POStatus.RECEIVED:
            # Through the receiving service: every open quantity, in one receipt.
            _check_transition(po, target=target, user=user)
            receiving = _receive(po, user=user, now=now, requested=None, reason=reason)
            changed += receiving.changed
        elif target is not None:
            changed += _transition(po, target=target, user=user, reason=reason, now=now)
        _save(po, changed)
        if receiving is not None:
            _after_receipt(po, receiving)
        # Draft edits are "updated"; a status change is named after its target ("submitted"...);
        # receiving records its receipt first.
        actions = ["updated"] if editing else []
        if receiving is not None:
            actions.append("receipt_recorded")
        if target == POStatus.APPROVED and po.status != POStatus.APPROVED:
            actions.append("approval_recorded")
        elif target is not None:
            actions.append(target.value)
        # The PO does not change between them: rendered once.
        record_events_of_actions(
            entity="purchase_order", actions=actions, objects=[po], actor=user.get_username()
        )
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
    """``shipped -> received``: one receipt of every open quantity (see ``record_receipt``), in
    the transaction of the status change. A second receipt is a ``Conflict``."""
    return transition_purchase_order(
        po_id=po_id,
        target_status=POStatus.RECEIVED,
        user=user,
        if_match_version=if_match_version,
    )


# --- receipts ------------------------------------------------------------------------------

# Statuses in which goods may be received.
RECEIVING_STATUSES = (POStatus.APPROVED, POStatus.SHIPPED)
MAX_NOTE_LENGTH = 2000


@dataclass(frozen=True)
class RequestedLine:
    """A receipt line as asked for: ``index`` is its place in the request (for error fields)."""

    index: int
    line_item_id: UUID
    quantity: int


@dataclass
class Receiving:
    """What ``_receive`` did to the locked PO: the receipt, the PO fields it changed, whether it
    brought the PO its first goods and whether it completed the PO."""

    receipt: Receipt
    changed: list
    first_delivery: bool
    completed: bool


def receivable_limit(quantity):
    """The most a line of ``quantity`` may receive in total:
    ``floor(quantity * (1 + OVER_RECEIPT_TOLERANCE_PERCENT / 100))``."""
    tolerance = Decimal(settings.OVER_RECEIPT_TOLERANCE_PERCENT)
    return int((quantity * (100 + tolerance)) // 100)


def record_receipt(*, po_id, user, lines, note="", close=False, if_match_version=None):
    """Record a delivery against an ``approved`` or ``shipped`` PO, in one transaction.

    ``lines``: ``[{"line_item_id", "quantity"}]`` (quantities >= 1, each line at most once); may be
    empty only with ``close=True``. A receipt against an ``approved`` PO first moves it to
    ``shipped`` (history row). Each line's quantity goes to stock with one ``po_receipt``
    adjustment (linked to the PO and the receipt) and to the line's ``quantity_received``. When
    every line is in, or with ``close=True``, the PO moves to ``received`` (``receipt_status``
    ``full``, or ``closed_short`` when something was still open).

    The PO row is locked first, so concurrent receipts of one PO run one after the other and
    never take a line past its limit (``receivable_limit``). Returns the receipt, with
    ``purchase_order`` (as saved) in memory.

    Raises ``InvalidInput`` (400: bad lines, a line not on this PO), ``NotFound`` (404),
    ``PermissionDenied`` (403), ``PreconditionFailed`` (412), ``Conflict`` (409:
    ``invalid_transition`` in another status, ``over_receipt`` naming the line); nothing is
    written then.
    """
    requested = _clean_receipt_lines(lines)
    note = _clean_note(note)
    if not isinstance(close, bool):
        raise InvalidInput("close must be true or false.", field="close")
    if not requested and not close:
        raise InvalidInput(
            "A receipt needs at least one line, unless it closes the purchase order (close: true).",
            field="lines",
        )
    if not user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied(f"Receiving goods needs the permission {CHANGE_PERMISSION}.")
    with transaction.atomic():
        po = _lock(po_id)
        now = timezone.now()
        _check_version(po, if_match_version)
        if po.status not in RECEIVING_STATUSES:
            allowed = in_machine_order(t.target for t in po.get_available_status_transitions())
            raise Conflict(
                f"A {po.status} purchase order takes no receipts; only an approved or shipped "
                "one does.",
                code="invalid_transition",
                extra={"current_status": po.status, "allowed_transitions": allowed},
            )
        changed, actions = [], []
        if po.status == POStatus.APPROVED:
            changed += _transition(
                po, target=POStatus.SHIPPED, user=user, reason="Goods arrived.", now=now
            )
            actions.append("shipped")
        receiving = _receive(po, user=user, now=now, requested=requested, note=note, close=close)
        changed += receiving.changed
        _save(po, changed)
        _after_receipt(po, receiving)
        actions.append("receipt_recorded")
        if receiving.completed:
            actions.append("received")
        record_events_of_actions(
            entity="purchase_order", actions=actions, objects=[po], actor=user.get_username()
        )
    return receiving.receipt


def _receive(po, *, user, now, requested, note="", close=False, reason=None):
    """Receive goods on the locked ``approved``-turned-``shipped`` or ``shipped`` PO.

    ``requested``: ``RequestedLine``s, or ``None`` for every open quantity. A constant number of
    statements whatever the number of lines: read the lines, insert the receipt, its lines
    (one ``INSERT``), the lines' new received quantities (one ``UPDATE``), the stock
    (``record_adjustments``, set-based) and, when the PO completes, its transition.
    """
    username = user.get_username()
    lines = list(POLineItem.objects.filter(purchase_order=po).order_by("line_number"))
    by_id = {line.line_item_id: line for line in lines}
    if requested is None:
        requested = [
            RequestedLine(index, line.line_item_id, line.quantity - line.quantity_received)
            for index, line in enumerate(lines)
            if line.quantity > line.quantity_received
        ]
    received = []
    for wanted in requested:
        line = by_id.get(wanted.line_item_id)
        if line is None:
            raise InvalidInput(
                f"Line {wanted.line_item_id} is not a line of purchase order {po.po_id}.",
                field=f"lines.{wanted.index}.line_item_id",
            )
        limit = receivable_limit(line.quantity)
        if line.quantity_received + wanted.quantity > limit:
            raise Conflict(
                f"Line {line.line_item_id} ({line.item_type}) may receive at most {limit} in "
                f"total: {line.quantity_received} received, {wanted.quantity} more is too many.",
                code="over_receipt",
                field=f"lines.{wanted.index}.quantity",
                extra={
                    "line_item_id": str(line.line_item_id),
                    "quantity": line.quantity,
                    "quantity_received": line.quantity_received,
                    "limit": limit,
                },
            )
        line.quantity_received += wanted.quantity
        received.append((line, wanted.quantity))

    everything_in = all(line.quantity_received >= line.quantity for line in lines)
    completed = everything_in or close
    receipt = Receipt.objects.create(
        purchase_order=po,
        received_by=username,
        received_at=now,
        note=note,
        closes_short=completed and not everything_in,
    )
    receipt_lines = [
        ReceiptLine(receipt=receipt, line_item=line, quantity=quantity)
        for line, quantity in received
    ]
    if receipt_lines:
        ReceiptLine.objects.bulk_create(receipt_lines)
        # One UPDATE, relative to the rows (``line.quantity_received`` is already the value it
        # writes: every writer holds the PO's lock).
        _add_received(received)
        record_adjustments(
            reason=AdjustmentReason.PO_RECEIPT,
            adjusted_by=username,
            changes=[
                StockChange(
                    item_type=line.item_type, location_id=line.location_id, quantity_delta=quantity
                )
                for line, quantity in received
            ],
            po_id=po.po_id,
            receipt_id=receipt.receipt_id,
            note=f"Receipt {receipt.receipt_id} of purchase order {po.po_id}",
        )

    changed = []
    first_delivery = bool(receipt_lines) and po.first_received_at is None
    if first_delivery:
        po.first_received_at = now
        changed.append("first_received_at")
    if everything_in:
        po.receipt_status = ReceiptStatus.FULL
    elif close:
        po.receipt_status = ReceiptStatus.CLOSED_SHORT
    elif any(line.quantity_received for line in lines):
        po.receipt_status = ReceiptStatus.PARTIAL
    changed.append("receipt_status")
    if completed:
        if reason is None:
            reason = "Received in full." if everything_in else "Closed short."
        changed += _transition(po, target=POStatus.RECEIVED, user=user, reason=reason, now=now)
    return Receiving(
        receipt=receipt, changed=changed, first_delivery=first_delivery, completed=completed
    )


def _add_received(received):
    """Add each ``(line, quantity)``'s quantity to its line's ``quantity_received``, relative to
    the row: one ``UPDATE`` of ``procurement.queries`` (on SQLite, one per batch of lines its
    parameters allow)."""
    with connection.cursor() as cursor:
        # Three parameters a line: its id and quantity in the CASE, its id in the IN list.
        for batch in batches(received, params_per_row=3):
            ids = [db_value(POLineItem, "line_item_id", line.line_item_id) for line, _ in batch]
            cases = [
                value
                for line_id, (_, quantity) in zip(ids, batch, strict=True)
                for value in (line_id, quantity)
            ]
            cursor.execute(queries.add_received_sql(len(batch)), [*cases, *ids])


def _after_receipt(po, receiving):
    """The supplier's figures, after the PO is saved (they read it back): the lead time of its
    first delivery, and the 365-day rates when it completed. Bounded: no history is read."""
    if receiving.first_delivery:
        learn_lead_time(supplier_id=po.supplier_id)
    if receiving.completed:
        record_po_completion(po=po)
    receiving.receipt.purchase_order = po


def _clean_receipt_lines(lines):
    if isinstance(lines, str | bytes | Mapping) or not isinstance(lines, Collection):
        raise InvalidInput("lines must be a list.", field="lines")
    if len(lines) > MAX_LINES:
        raise InvalidInput(f"A receipt has at most {MAX_LINES} lines.", field="lines")
    requested, seen = [], set()
    for index, item in enumerate(lines):
        prefix = f"lines.{index}"
        if not isinstance(item, Mapping):
            raise InvalidInput("A receipt line is an object.", field=prefix)
        line_id = item.get("line_item_id")
        try:
            line_id = line_id if isinstance(line_id, UUID) else UUID(str(line_id))
        except ValueError:
            raise InvalidInput(
                "line_item_id must be a UUID.", field=f"{prefix}.line_item_id"
            ) from None
        if line_id in seen:
            raise InvalidInput(
                f"Line {line_id} is listed twice; give each line once, with its total.",
                field=f"{prefix}.line_item_id",
            )
        seen.add(line_id)
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput("quantity must be a whole number.", field=f"{prefix}.quantity")
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidInput(f"quantity is from 1 to {MAX_QUANTITY}.", field=f"{prefix}.quantity")
        requested.append(RequestedLine(index, line_id, quantity))
    return requested


def _clean_note(note):
    if note is None:
        return ""
    if not isinstance(note, str):
        raise InvalidInput("note must be text.", field="note")
    note = note.strip()
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidInput(f"note has at most {MAX_NOTE_LENGTH} characters.", field="note")
    return note


# --- transitions ---------------------------------------------------------------------------


def _check_transition(po, *, target, user):
    """The transition method to ``target``: ``Conflict`` if the machine does not allow it now,
    ``PermissionDenied`` if ``user`` may not take it."""
    transition = transition_to(target)
    method = getattr(po, transition.name) if transition else None
    if method is None or not can_proceed(method):
        raise _invalid_transition(po, target, method)
    username = user.get_username()
    if target == POStatus.APPROVED:
        approvers = approved_by_names(po)
        if username in approvers:
            raise Conflict(
                "You already approved this purchase order; its second approval must come from "
                "another approver.",
                code="already_approved",
            )
    if not has_transition_perm(method, user):
        raise _not_permitted(po, target, user)
    return method


def _transition(po, *, target, user, reason, now):
    """Apply one transition to the locked PO, with its side effects and a history row.
    Returns the names of the fields it changed. An approval is recorded as a row; the first of
    two (``approvals_needed``) leaves the PO ``submitted`` and changes no field."""
    method = _check_transition(po, target=target, user=user)
    if target == POStatus.APPROVED:
        approvers = approved_by_names(po)
        POApproval.objects.create(
            purchase_order=po, approved_by=user.get_username(), approved_at=now
        )
        if len(approvers) + 1 < approvals_needed(po):
            # The first of two approvals: recorded; the PO stays submitted.
            return []
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
    """The final approval: who and when, a new delivery estimate, and the PO e-mailed to the
    supplier by the worker once the approval is committed (never waiting on the mail server)."""
    _require_active_supplier(po)
    po.approved_by = user.get_username()
    po.approved_at = now
    po.expected_delivery_date = expected_delivery_date(supplier=po.supplier, at=now)
    _send_to_supplier_on_commit(po.po_id)
    return ["approved_by", "approved_at", "expected_delivery_date"]


def _on_received(po, *, user, now):
    """The PO is complete (or closed short): the receipt that completes it (``_receive``) has
    already put its goods into stock, in the same transaction."""
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
    if user.has_perm(APPROVE_PERMISSION) and not approver_name_fits(user):
        return PermissionDenied(
            f"Your username has {len(user.get_username())} characters; a purchase order records "
            f"its approver in at most {APPROVER_NAME_MAX_LENGTH}, so you cannot approve or reject. "
            "An administrator can give you a shorter username.",
            code="username_too_long",
        )
    if user.has_perm(APPROVE_PERMISSION):
        return PermissionDenied(
            "You created, edited or submitted this purchase order; someone who did not shape it "
            "must approve or reject it.",
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


def validate_line_items(line_items):
    """Validate lines as ``create_purchase_order`` and ``update_purchase_order`` do, writing
    nothing; returns ``(lines, total)``. For forms that show errors before calling a service."""
    return _clean_lines(line_items)


# --- reorder alerts to draft purchase orders ---------------------------------------------------


@dataclass(frozen=True)
class RaisedPurchaseOrder:
    """A draft raised for alerts: ``created`` is False when the lines went to an existing draft."""

    po: PurchaseOrder
    created: bool
    alerts: tuple


@dataclass(frozen=True)
class SkippedAlert:
    alert_id: UUID
    label: str
    reason: str


@dataclass(frozen=True)
class AlertPurchaseOrders:
    orders: tuple
    skipped: tuple


@dataclass(frozen=True)
class AlertSource:
    """Where an alert's item is bought, and on what terms: the preferred catalog entry of the
    item type, else the latest committed purchase (minimum 1, multiple 1)."""

    supplier_id: UUID
    currency: str
    unit_price: Decimal
    min_order_quantity: int = 1
    order_multiple: int = 1
    from_catalog: bool = False


def order_quantity(*, suggested, min_order_quantity=1, order_multiple=1):
    """The suggested quantity raised to the minimum order, then up to a multiple of the pack
    size: 7 suggested, minimum 10, multiple 4 -> 12."""
    quantity = max(suggested, min_order_quantity)
    return -(-quantity // order_multiple) * order_multiple


@retry_on_transient_conflict
def raise_purchase_orders_for_alerts(*, alert_ids, user):
    """Turn open reorder alerts into draft purchase orders, one per supplier (and currency), in
    one transaction.

    Each alert orders from the preferred catalog supplier of its item type (active suppliers
    only) at the catalog price and currency, its ``suggested_quantity`` raised to the entry's
    ``min_order_quantity`` and then to a multiple of its ``order_multiple``; without one, from the
    supplier of the item's last committed PO (approved, shipped or received; latest
    ``approved_at``) for the same item type and location, else for the same item type, at that
    line's unit price and currency. The lines go to the user's own newest draft for that supplier
    and currency if there is one, else to a new draft created by the user. Each alert is linked
    to its PO (``po_id``).

    One bad alert never fails the others: an alert that is resolved, already on an open PO (one
    that is not received, rejected or cancelled: an alert whose PO died may be raised again),
    needs nothing, has no known supplier, would order more than ``MAX_QUANTITY``, or no longer
    fits its draft (``MAX_LINES`` lines, ``MAX_TOTAL``) is skipped and reported with its reason.

    Locks the alerts, then the drafts, each in primary-key order. Needs
    ``procurement.add_purchaseorder`` (``PermissionDenied``).
    """
    if not user.has_perm(ADD_PERMISSION):
        raise PermissionDenied(f"Raising purchase orders needs the permission {ADD_PERMISSION}.")
    username = user.get_username()
    ids = sorted({_alert_uuid(alert_id) for alert_id in alert_ids})
    with transaction.atomic():
        alerts = list(
            list_open_alerts()
            .select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("alert_id")
        )
        found = {alert.alert_id for alert in alerts}
        skipped = [
            SkippedAlert(alert_id, f"alert {str(alert_id)[:8]}", "it is no longer open")
            for alert_id in ids
            if alert_id not in found
        ]
        linked_statuses = dict(
            PurchaseOrder.objects.filter(
                pk__in={alert.po_id for alert in alerts if alert.po_id is not None}
            ).values_list("po_id", "status")
        )
        wanted = []
        for alert in alerts:
            linked_status = linked_statuses.get(alert.po_id)
            if linked_status is not None and linked_status not in FINAL_STATUSES:
                skipped.append(
                    _skip(alert, f"it is already on purchase order {str(alert.po_id)[:8]}")
                )
            elif alert.suggested_quantity <= 0:
                skipped.append(_skip(alert, "nothing to order: enough is on order"))
            else:
                wanted.append(alert)

        sources = _alert_sources({(a.stock.item_type, a.stock.location_id) for a in wanted})
        groups = {}
        for alert in wanted:
            level = alert.stock
            source = sources.get((level.item_type, level.location_id)) or sources.get(
                level.item_type
            )
            if source is None:
                skipped.append(
                    _skip(
                        alert,
                        "no known supplier: no preferred catalog supplier and no earlier "
                        "purchase order for this item",
                    )
                )
                continue
            quantity = order_quantity(
                suggested=alert.suggested_quantity,
                min_order_quantity=source.min_order_quantity,
                order_multiple=source.order_multiple,
            )
            if quantity > MAX_QUANTITY:
                skipped.append(
                    _skip(
                        alert,
                        f"the quantity to order, {quantity}, exceeds the {MAX_QUANTITY} a "
                        "purchase order line holds",
                    )
                )
                continue
            line = {
                "item_type": level.item_type,
                "location_id": level.location_id,
                "quantity": quantity,
                "unit_price": source.unit_price,
            }
            groups.setdefault((source.supplier_id, source.currency), []).append((alert, line))

        drafts, draft_lines = _own_drafts(keys=set(groups), username=username)
        orders = []
        for key in sorted(groups, key=lambda k: (str(k[0]), k[1])):
            supplier_id, currency = key
            draft = drafts.get(key)
            lines = list(draft_lines.get(draft.po_id, [])) if draft is not None else []
            total = sum((line["quantity"] * line["unit_price"] for line in lines), Decimal(0))
            group_alerts = []
            for alert, line in groups[key]:
                line_total = line["quantity"] * line["unit_price"]
                if len(lines) >= MAX_LINES:
                    reason = f"its draft purchase order already has {MAX_LINES} lines"
                elif total + line_total > MAX_TOTAL:
                    reason = f"its draft purchase order's total would exceed {MAX_TOTAL} {currency}"
                else:
                    lines.append(line)
                    total += line_total
                    group_alerts.append(alert)
                    continue
                skipped.append(_skip(alert, reason))
            if not group_alerts:
                continue
            if draft is None:
                po = create_purchase_order(
                    supplier_id=supplier_id,
                    currency=currency,
                    line_items=lines,
                    created_by=username,
                )
            else:
                po = update_purchase_order(po_id=draft.po_id, user=user, line_items=lines)
            link_alerts_to_purchase_order(
                alert_ids=[alert.alert_id for alert in group_alerts], po_id=po.po_id
            )
            for alert in group_alerts:
                alert.po_id = po.po_id
            orders.append(
                RaisedPurchaseOrder(po=po, created=draft is None, alerts=tuple(group_alerts))
            )
    return AlertPurchaseOrders(orders=tuple(orders), skipped=tuple(skipped))


def _alert_uuid(alert_id):
    try:
        return alert_id if isinstance(alert_id, UUID) else UUID(str(alert_id))
    except ValueError:
        raise InvalidInput(f"'{alert_id}' is not an alert id.", field="alert_ids") from None


def _skip(alert, reason):
    level = alert.stock
    return SkippedAlert(alert.alert_id, f"{level.item_type} at {level.location_id}", reason)


def _alert_sources(keys):
    """Two queries: ``{(item_type, location_id): AlertSource, item_type: AlertSource}``. The
    preferred catalog entry of an item type with an active supplier wins, for every location;
    else the latest committed PO line with an active supplier, per pair and per item type."""
    if not keys:
        return {}
    item_types = {item_type for item_type, _ in keys}
    sources = {
        key: AlertSource(supplier_id=supplier_id, currency=currency, unit_price=unit_price)
        for key, (supplier_id, currency, unit_price) in latest_committed_lines(
            lines=POLineItem.objects.filter(
                item_type__in=item_types, purchase_order__supplier__active=True
            ),
            fields=["purchase_order__supplier_id", "purchase_order__currency", "unit_price"],
        ).items()
    }
    for entry in preferred_catalog_entries(item_types=item_types):
        catalog = AlertSource(
            supplier_id=entry.supplier_id,
            currency=entry.currency,
            unit_price=entry.unit_price,
            min_order_quantity=entry.min_order_quantity,
            order_multiple=entry.order_multiple,
            from_catalog=True,
        )
        sources[entry.item_type] = catalog
        for item_type, location_id in keys:
            if item_type == entry.item_type:
                sources[(item_type, location_id)] = catalog
    return sources


def _own_drafts(*, keys, username):
    """The user's newest draft per (supplier_id, currency) among ``keys``, locked in primary-key
    order, and the lines of those drafts as line-item dicts (two queries)."""
    if not keys:
        return {}, {}
    condition = Q(pk__in=[])
    for supplier_id, currency in keys:
        condition |= Q(supplier_id=supplier_id, currency=currency)
    candidates = list(
        PurchaseOrder.objects.select_for_update()
        .filter(condition, status=POStatus.DRAFT, created_by=username)
        .order_by("po_id")
    )
    drafts = {}
    for po in sorted(candidates, key=lambda po: (po.created_at, po.po_id)):
        drafts[(po.supplier_id, po.currency)] = po
    lines = {}
    chosen = [po.po_id for po in drafts.values()]
    for line in (
        POLineItem.objects.filter(purchase_order_id__in=chosen)
        .order_by("purchase_order_id", "line_number")
        .values("purchase_order_id", "item_type", "location_id", "quantity", "unit_price")
    ):
        lines.setdefault(line.pop("purchase_order_id"), []).append(line)
    return drafts, lines


# --- the purchase order sent to the supplier ---------------------------------------------------

# Statuses in which the supplier has (or should have) the PO: it may be sent (again).
SENDABLE_STATUSES = (POStatus.APPROVED, POStatus.SHIPPED, POStatus.RECEIVED)


def _send_to_supplier_on_commit(po_id):
    """Enqueue the e-mail to the supplier once the current transaction commits: a rolled-back
    approval sends nothing, and the approval never waits on the worker or the mail server."""
    from procurement import tasks  # the task module imports this one

    transaction.on_commit(lambda: tasks.enqueue_send_to_supplier(po_id=po_id))


def resend_purchase_order_to_supplier(*, po_id, user):
    """ "Send to supplier again": enqueue a new e-mail of an approved (or later) PO. Needs
    ``procurement.change_purchaseorder``; a draft, submitted, rejected or cancelled PO is a
    ``Conflict`` (``not_sendable``). Returns the PO."""
    if not user.has_perm(CHANGE_PERMISSION):
        raise PermissionDenied(
            f"Sending a purchase order to its supplier needs the permission {CHANGE_PERMISSION}."
        )
    with transaction.atomic():
        po = _lock(po_id)
        if po.status not in SENDABLE_STATUSES:
            raise Conflict(
                f"A {po.status} purchase order is not sent to the supplier; only an approved, "
                "shipped or received one is.",
                code="not_sendable",
                extra={"current_status": po.status},
            )
        _send_to_supplier_on_commit(po.po_id)
    return po


def send_purchase_order_to_supplier(*, po_id, now=None):
    """E-mail the PO's document (PDF) to its supplier's ``contact_email`` through Django's
    e-mail framework (``EMAIL_URL``), then set ``sent_to_supplier_at``. Called by the worker
    (``procurement.tasks``); a failure to send raises (the task retries). A PO that is no longer
    approved or later (cancelled meanwhile) is not sent: returns False."""
    from django.conf import settings
    from django.core.mail import EmailMessage

    from procurement.documents import purchase_order_filename, purchase_order_pdf
    from procurement.selectors import get_purchase_order

    po = get_purchase_order(po_id=po_id)
    if po.status not in SENDABLE_STATUSES:
        return False
    supplier = po.supplier
    message = EmailMessage(
        subject=f"Purchase order {po.po_id} from NovaTrek",
        body=(
            f"Dear {supplier.name},\n\n"
            f"Please find attached NovaTrek's purchase order {po.po_id} "
            f"({len(po.line_items.all())} line(s), total {po.total_amount} {po.currency}), "
            f"approved on {timezone.localdate(po.approved_at).isoformat()}.\n"
            "Please confirm it and tell us the shipping date.\n\n"
            "NovaTrek Procurement\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[supplier.contact_email],
    )
    message.attach(purchase_order_filename(po), purchase_order_pdf(po), "application/pdf")
    message.send(fail_silently=False)
    PurchaseOrder.objects.filter(pk=po.po_id).update(
        sent_to_supplier_at=now or timezone.now(), version=F("version") + 1
    )
    return True
