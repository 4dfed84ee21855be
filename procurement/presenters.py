"""The body of a purchase order, built by plain functions from the PO and the rows that
``selectors.read_details`` reads for a whole page at once: what ``PurchaseOrderSerializer`` (the
schema of this body) returns, byte for byte, without serializer fields. Every response and event
that carries a PO builds it here."""

from common.presenting import date_text, datetime_text, decimal_text
from procurement import selectors
from procurement.models import in_machine_order


def purchase_orders(pos, *, user):
    """The bodies of ``pos`` (read by the selectors, or as a service saved them: see
    ``selectors.fresh_copy``), in one query per relation whatever their number.
    ``available_transitions``: what ``user`` may do now, or, for ``user=None`` (events, which
    have no requesting user), what the state machine allows whoever acts."""
    details = selectors.read_details(pos)
    return [_body(po, details[po.po_id], user) for po in pos]


def purchase_order(po, *, user):
    """The body of one PO (see ``purchase_orders``)."""
    return purchase_orders([po], user=user)[0]


def _transitions(po, user):
    if user is None:
        return in_machine_order(t.target for t in po.get_available_status_transitions())
    return selectors.available_transitions(po=po, user=user)


def _body(po, details, user):
    final = po.is_final
    return {
        "po_id": str(po.po_id),
        "supplier_id": str(po.supplier_id),
        "status": str(po.status),
        "total_amount": decimal_text(po.total_amount),
        "currency": str(po.currency),
        "approved_by": po.approved_by,
        "submitted_at": datetime_text(po.submitted_at),
        "approved_at": datetime_text(po.approved_at),
        "created_at": datetime_text(po.created_at),
        "created_by": po.created_by,
        "expected_delivery_date": date_text(po.expected_delivery_date),
        "received_at": datetime_text(po.received_at),
        "sent_to_supplier_at": datetime_text(po.sent_to_supplier_at),
        "is_overdue": po.is_overdue,
        "available_transitions": _transitions(po, user),
        "approvals": [
            {"approved_by": approved_by, "approved_at": datetime_text(approved_at)}
            for _, approved_by, approved_at in details.approvals
        ],
        "line_items": [
            {
                "line_item_id": str(line_item_id),
                "item_type": item_type,
                "location_id": str(location_id),
                "quantity": quantity,
                "unit_price": decimal_text(unit_price),
                "line_total": decimal_text(line_total),
                "quantity_received": received,
                "quantity_open": 0 if final else max(quantity - received, 0),
            }
            for (
                _,
                line_item_id,
                item_type,
                location_id,
                quantity,
                unit_price,
                line_total,
                received,
            ) in details.lines
        ],
        "status_history": [
            {
                "from_status": str(from_status),
                "to_status": str(to_status),
                "changed_by": changed_by,
                "changed_at": datetime_text(changed_at),
                "reason": reason,
            }
            for _, from_status, to_status, changed_by, changed_at, reason in details.history
        ],
        "receipt_status": str(po.receipt_status),
        "receipts": [
            {
                "receipt_id": str(receipt_id),
                "po_id": str(po_id),
                "received_by": received_by,
                "received_at": datetime_text(received_at),
                "note": note,
                "lines": [
                    {
                        "line_item_id": str(line_item_id),
                        "item_type": item_type,
                        "location_id": str(location_id),
                        "quantity": quantity,
                    }
                    for _, line_item_id, item_type, location_id, quantity in (
                        details.receipt_lines.get(receipt_id, ())
                    )
                ],
            }
            for po_id, receipt_id, received_by, received_at, note in details.receipts
        ],
    }
