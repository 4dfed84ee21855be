"""Reads of purchase orders, and the quantity on order that reorder alerts report."""

from dataclasses import dataclass, field
from uuid import UUID

from django.db import router
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Sum,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, RowNumber
from django.utils import timezone

from common.errors import NotFound
from common.rows import Columns, ModelColumns, db_value
from procurement import queries
from procurement.models import (
    AWAITING_DELIVERY_STATUSES,
    POApproval,
    POEdit,
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    in_machine_order,
)
from suppliers.models import SupplierItem

# Statuses whose quantities are on their way: ordered and not yet received.
ON_ORDER_STATUSES = tuple(POStatus(status) for status in queries.ON_ORDER_STATUSES)
# Statuses of POs that committed to buy: approved, and possibly delivered since.
COMMITTED_STATUSES = (POStatus.APPROVED, POStatus.SHIPPED, POStatus.RECEIVED)


def _details():
    history, edits, approvals = _rule_relations()
    return (
        Prefetch("line_items", queryset=POLineItem.objects.order_by("line_number")),
        history,
        edits,
        Prefetch("receipts", queryset=Receipt.objects.order_by("received_at", "receipt_id")),
        Prefetch(
            "receipts__lines",
            queryset=ReceiptLine.objects.select_related("line_item").order_by("id"),
        ),
        approvals,
    )


def list_purchase_orders():
    """Every PO with its lines, history, edits, receipts and approvals prefetched (and
    ``has_lines``, which the state machine reads): a page costs the same number of queries
    whatever its number of lines and receipts. The API's reads use ``purchase_orders`` and
    ``read_details`` instead (rows, not instances)."""
    return PurchaseOrder.objects.annotate(
        has_lines=Exists(POLineItem.objects.filter(purchase_order=OuterRef("pk")))
    ).prefetch_related(*_details())


def purchase_orders():
    """The POs as the API lists them: their rows only; ``read_details`` reads the rest of a
    page."""
    return PurchaseOrder.objects.all()


def _rule_relations():
    """The relations that the state machine's rules read (``procurement.models``): the history
    and the edits (who shaped the PO: they may not approve it), the approvals (who may still
    approve it)."""
    return (
        Prefetch("status_history", queryset=POStatusChange.objects.order_by("changed_at", "id")),
        Prefetch("edits", queryset=POEdit.objects.order_by("edited_at", "id")),
        Prefetch("approvals", queryset=POApproval.objects.order_by("approved_at", "id")),
    )


LINE_COLUMNS = (
    "purchase_order_id",
    "line_item_id",
    "item_type",
    "location_id",
    "quantity",
    "unit_price",
    "line_total",
    "quantity_received",
)
RECEIPT_COLUMNS = ("purchase_order_id", "receipt_id", "received_by", "received_at", "note")
RECEIPT_LINE_COLUMNS = (
    "receipt_id",
    "line_item_id",
    "line_item__item_type",
    "line_item__location_id",
    "quantity",
)


# The API's reads of a PO and of its details send the statements of ``procurement.queries``
# (written out: the ORM would compile them anew on every request); these convert what they read.
_PO = ModelColumns(PurchaseOrder)
_LINES = Columns(POLineItem._meta.get_field(name) for name in LINE_COLUMNS)
_RECEIPTS = Columns(Receipt._meta.get_field(name) for name in RECEIPT_COLUMNS)
_HISTORY = Columns(
    POStatusChange._meta.get_field(name)
    for name in ("purchase_order", "from_status", "to_status", "changed_by", "changed_at", "reason")
)
_EDITORS = Columns(POEdit._meta.get_field(name) for name in ("purchase_order", "edited_by"))
_APPROVALS = Columns(
    POApproval._meta.get_field(name) for name in ("purchase_order", "approved_by", "approved_at")
)
_RECEIPT_LINES = Columns(
    [
        ReceiptLine._meta.get_field("receipt"),
        ReceiptLine._meta.get_field("line_item"),
        POLineItem._meta.get_field("item_type"),
        POLineItem._meta.get_field("location_id"),
        ReceiptLine._meta.get_field("quantity"),
    ]
)


def read_purchase_order(*, po_id):
    """The PO ``po_id`` (a UUID): its row alone, as the API's detail reads it (its relations are
    ``read_details``'); ``NotFound`` for an unknown one."""
    found = _PO.read(queries.PO_SQL, [db_value(PurchaseOrder, "po_id", po_id)])
    if not found:
        raise NotFound(f"No purchase order {po_id}.")
    return found[0]


@dataclass
class Details:
    """A PO's lines and receipts as rows (``LINE_COLUMNS``, ``RECEIPT_COLUMNS``), and each
    receipt's lines (``RECEIPT_LINE_COLUMNS``) by receipt id."""

    lines: list = field(default_factory=list)
    receipts: list = field(default_factory=list)
    receipt_lines: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    approvals: list = field(default_factory=list)


def read_details(pos):
    """What the bodies of ``pos`` need beyond their rows, in one query per relation whatever
    the number of POs, as rows: the lines, receipts, receipt lines, status history, approvals and
    editors. What the state machine's rules read is set on each PO (``has_lines``,
    ``shaper_names``, ``approver_names``: see ``procurement.models``). Returns
    ``{po_id: Details}``."""
    details = {po.po_id: Details() for po in pos}
    if not details:
        return details
    ids = [db_value(PurchaseOrder, "po_id", po_id) for po_id in details]
    editors = {po_id: set() for po_id in details}
    for po_id, edited_by in _EDITORS.rows(queries.editors_sql(len(ids)), ids):
        editors[po_id].add(edited_by)
    for row in _HISTORY.rows(queries.history_sql(len(ids)), ids):
        details[row[0]].history.append(row)
    for row in _APPROVALS.rows(queries.approvals_sql(len(ids)), ids):
        details[row[0]].approvals.append(row)
    for row in _LINES.rows(queries.lines_sql(len(ids)), ids):
        details[row[0]].lines.append(row)
    po_of_receipt = {}
    for row in _RECEIPTS.rows(queries.receipts_sql(len(ids)), ids):
        details[row[0]].receipts.append(row)
        po_of_receipt[row[1]] = row[0]
    if po_of_receipt:
        receipt_ids = [db_value(Receipt, "receipt_id", receipt_id) for receipt_id in po_of_receipt]
        sql = queries.receipt_lines_sql(len(receipt_ids))
        for row in _RECEIPT_LINES.rows(sql, receipt_ids):
            details[po_of_receipt[row[0]]].receipt_lines.setdefault(row[0], []).append(row)
    for po in pos:
        found = details[po.po_id]
        po.has_lines = bool(found.lines)
        submitters = {row[3] for row in found.history if row[2] == POStatus.SUBMITTED}
        po.shaper_names = {po.created_by, *editors[po.po_id], *submitters}
        po.approver_names = {approved_by for _, approved_by, _ in found.approvals}
    return details


def fresh_copy(po):
    """``po`` as a service returned it (saved), ready for ``read_details``: a copy of its row,
    without the relations read into it before (a service reads them before its changes), and
    without reading the row again."""
    names = [f.attname for f in PurchaseOrder._meta.concrete_fields]
    return PurchaseOrder.from_db(
        router.db_for_read(PurchaseOrder, instance=po), names, [getattr(po, n) for n in names]
    )


def overdue_condition():
    """POs past their expected delivery date and still awaiting delivery (see ``is_overdue``)."""
    return Q(
        status__in=AWAITING_DELIVERY_STATUSES,
        expected_delivery_date__lt=timezone.localdate(),
    )


def revalidatable_version(*, po_id):
    """The PO's version, for a conditional GET (one light query): ``None`` for an unknown PO, and
    for an overdue one, whose body turned ``is_overdue`` with the date alone (the version a client
    holds may have been read before): only a PO that is not overdue shows what its version
    showed, since a PO never stops being overdue without a change."""
    row = (
        PurchaseOrder.objects.filter(pk=po_id)
        .annotate(overdue=ExpressionWrapper(overdue_condition(), output_field=BooleanField()))
        .values_list("version", "overdue")
        .first()
    )
    if row is None or row[1]:
        return None
    return row[0]


def get_purchase_order(*, po_id, queryset=None):
    """One PO of ``queryset`` (default: as ``list_purchase_orders`` returns them; the API's
    detail reads its row only, ``purchase_orders()``); ``NotFound`` for an unknown or malformed
    id."""
    try:
        po_uuid = po_id if isinstance(po_id, UUID) else UUID(str(po_id))
    except ValueError:
        raise NotFound(f"No purchase order {po_id}.") from None
    if queryset is None:
        queryset = list_purchase_orders()
    po = queryset.filter(pk=po_uuid).first()
    if po is None:
        raise NotFound(f"No purchase order {po_id}.")
    return po


def available_transitions(*, po, user):
    """The statuses ``user`` may move ``po`` to now (conditions and permissions met)."""
    return in_machine_order(t.target for t in po.get_available_user_status_transitions(user))


def quantity_on_order(stock_ref=""):
    """The open quantity (ordered, not yet received) on approved or shipped POs for the stock
    level at ``stock_ref`` (a field path such as ``""`` or ``"stock__"``), as an expression;
    registered with ``stock.selectors`` at start-up (see ``procurement.apps``). A PO closed short
    is ``received``: its missing quantities no longer count."""
    lines = (
        POLineItem.objects.filter(
            purchase_order__status__in=ON_ORDER_STATUSES,
            item_type=OuterRef(f"{stock_ref}item_type"),
            location_id=OuterRef(f"{stock_ref}location_id"),
        )
        .order_by()
        .values("item_type", "location_id")
        .annotate(total=Sum(Greatest(F("quantity") - F("quantity_received"), 0)))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=IntegerField()), 0)


def latest_committed_lines(*, lines, fields):
    """The latest committed purchase (by ``approved_at``) of each item, in one query.

    ``lines``: a ``POLineItem`` queryset the caller narrows (item types, active suppliers, ...).
    Returns ``{(item_type, location_id): values, item_type: values}``, ``values`` being the tuple
    of ``fields`` (paths from the line) of the latest committed line for that item at that
    location, and for that item anywhere.
    """
    order = [
        F("purchase_order__approved_at").desc(),
        F("purchase_order_id").desc(),
        F("line_number").desc(),
    ]
    rows = (
        lines.filter(
            purchase_order__status__in=COMMITTED_STATUSES,
            purchase_order__approved_at__isnull=False,
        )
        .annotate(
            pair_rank=Window(
                RowNumber(), partition_by=[F("item_type"), F("location_id")], order_by=order
            ),
            type_rank=Window(RowNumber(), partition_by=[F("item_type")], order_by=order),
        )
        .filter(Q(pair_rank=1) | Q(type_rank=1))
        .order_by()
        .values_list("item_type", "location_id", "pair_rank", "type_rank", *fields)
    )
    found = {}
    for item_type, location_id, pair_rank, type_rank, *values in rows:
        if pair_rank == 1:
            found[(item_type, location_id)] = tuple(values)
        if type_rank == 1:
            found[item_type] = tuple(values)
    return found


def preferred_catalog_entries(*, item_types=None):
    """The preferred catalog entry (``suppliers.SupplierItem``) of each item type whose supplier
    is active, with its supplier's lead-time figures (one query)."""
    entries = SupplierItem.objects.filter(preferred=True, supplier__active=True).select_related(
        "supplier"
    )
    if item_types is not None:
        entries = entries.filter(item_type__in=item_types)
    return entries


def awaiting_approval_by(queryset, *, username):
    """The submitted POs of ``queryset`` that ``username`` may still approve as far as duties go:
    not created, edited, submitted or already approved by them (the permission aside)."""
    return queryset.filter(status=POStatus.SUBMITTED).exclude(
        Q(created_by=username)
        | Exists(POEdit.objects.filter(purchase_order=OuterRef("pk"), edited_by=username))
        | Exists(
            POStatusChange.objects.filter(
                purchase_order=OuterRef("pk"),
                to_status=POStatus.SUBMITTED,
                changed_by=username,
            )
        )
        | Exists(POApproval.objects.filter(purchase_order=OuterRef("pk"), approved_by=username))
    )
