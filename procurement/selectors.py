"""Reads of purchase orders, and the quantity on order that reorder alerts report."""

from uuid import UUID

from django.db.models import IntegerField, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.errors import NotFound
from procurement.models import (
    AWAITING_DELIVERY_STATUSES,
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    in_machine_order,
)

# Statuses whose quantities are on their way: ordered and not yet received.
ON_ORDER_STATUSES = (POStatus.APPROVED, POStatus.SHIPPED)


def list_purchase_orders():
    """Every PO with its lines and history prefetched: a page costs the same number of queries
    whatever its number of lines."""
    return PurchaseOrder.objects.prefetch_related(
        Prefetch("line_items", queryset=POLineItem.objects.order_by("line_number")),
        Prefetch("status_history", queryset=POStatusChange.objects.order_by("changed_at", "id")),
    )


def overdue_condition():
    """POs past their expected delivery date and still awaiting delivery (see ``is_overdue``)."""
    return Q(
        status__in=AWAITING_DELIVERY_STATUSES,
        expected_delivery_date__lt=timezone.localdate(),
    )


def get_purchase_order(*, po_id):
    """One PO, as ``list_purchase_orders`` returns them; ``NotFound`` for an unknown or
    malformed id."""
    try:
        po_uuid = po_id if isinstance(po_id, UUID) else UUID(str(po_id))
    except ValueError:
        raise NotFound(f"No purchase order {po_id}.") from None
    po = list_purchase_orders().filter(pk=po_uuid).first()
    if po is None:
        raise NotFound(f"No purchase order {po_id}.")
    return po


def available_transitions(*, po, user):
    """The statuses ``user`` may move ``po`` to now (conditions and permissions met)."""
    return in_machine_order(t.target for t in po.get_available_user_status_transitions(user))


def quantity_on_order(stock_ref=""):
    """The quantity on approved or shipped POs for the stock level at ``stock_ref`` (a field
    path such as ``""`` or ``"stock__"``), as an expression; registered with ``stock.selectors``
    at start-up (see ``procurement.apps``)."""
    lines = (
        POLineItem.objects.filter(
            purchase_order__status__in=ON_ORDER_STATUSES,
            item_type=OuterRef(f"{stock_ref}item_type"),
            location_id=OuterRef(f"{stock_ref}location_id"),
        )
        .order_by()
        .values("item_type", "location_id")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=IntegerField()), 0)
