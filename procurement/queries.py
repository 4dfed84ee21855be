"""Procurement's part of the statements written out (``stock.queries``): pure, no Django
import, so that the benchmark's floor (``bench/floor.py``) sends them too."""

from common.sql import placeholders

# What counts as on order: approved or shipped, not yet received (``POStatus`` values).
ON_ORDER_STATUSES = ("approved", "shipped")


def quantity_on_order_sql(level):
    """``procurement.selectors.quantity_on_order`` as SQL, of the stock level ``level`` (a quoted
    table name); registered beside it with ``stock.selectors``."""
    statuses = ", ".join(f"'{status}'" for status in ON_ORDER_STATUSES)
    open_quantity = '"po_line_items"."quantity" - "po_line_items"."quantity_received"'
    return (
        f"COALESCE((SELECT SUM(CASE WHEN {open_quantity} > 0 THEN {open_quantity} ELSE 0 END) "
        'FROM "po_line_items" INNER JOIN "purchase_orders" '
        'ON ("po_line_items"."po_id" = "purchase_orders"."po_id") '
        f'WHERE "po_line_items"."item_type" = {level}."item_type" '
        f'AND "po_line_items"."location_id" = {level}."location_id" '
        f'AND "purchase_orders"."status" IN ({statuses})), 0)'
    )


# --- A purchase order as the API shows it (``procurement.selectors``) --------------------------

# The table's columns, in the model's order.
PO_COLUMNS = (
    "po_id",
    "supplier_id",
    "status",
    "total_amount",
    "currency",
    "approved_by",
    "submitted_at",
    "approved_at",
    "created_at",
    "created_by",
    "expected_delivery_date",
    "received_at",
    "sent_to_supplier_at",
    "version",
    "receipt_status",
    "first_received_at",
)
PO_SQL = (
    "SELECT "
    + ", ".join(f'"purchase_orders"."{name}"' for name in PO_COLUMNS)
    + ' FROM "purchase_orders" WHERE "purchase_orders"."po_id" = %s'
)


def lines_sql(count):
    """The lines of ``count`` POs (``IN`` their ids), rows of ``selectors.LINE_COLUMNS``."""
    return (
        'SELECT "po_line_items"."po_id", "po_line_items"."line_item_id", '
        '"po_line_items"."item_type", "po_line_items"."location_id", "po_line_items"."quantity", '
        '"po_line_items"."unit_price", "po_line_items"."line_total", '
        '"po_line_items"."quantity_received" FROM "po_line_items" '
        f'WHERE "po_line_items"."po_id" IN ({placeholders(count)}) '
        'ORDER BY "po_line_items"."line_number"'
    )


def receipts_sql(count):
    """The receipts of ``count`` POs, rows of ``selectors.RECEIPT_COLUMNS``."""
    return (
        'SELECT "po_receipts"."po_id", "po_receipts"."receipt_id", "po_receipts"."received_by", '
        '"po_receipts"."received_at", "po_receipts"."note" FROM "po_receipts" '
        f'WHERE "po_receipts"."po_id" IN ({placeholders(count)}) '
        'ORDER BY "po_receipts"."received_at", "po_receipts"."receipt_id"'
    )


def receipt_lines_sql(count):
    """The lines of ``count`` receipts, rows of ``selectors.RECEIPT_LINE_COLUMNS``."""
    return (
        'SELECT "po_receipt_lines"."receipt_id", "po_receipt_lines"."line_item_id", '
        '"po_line_items"."item_type", "po_line_items"."location_id", "po_receipt_lines"."quantity" '
        'FROM "po_receipt_lines" INNER JOIN "po_line_items" '
        'ON ("po_receipt_lines"."line_item_id" = "po_line_items"."line_item_id") '
        f'WHERE "po_receipt_lines"."receipt_id" IN ({placeholders(count)}) '
        'ORDER BY "po_receipt_lines"."id"'
    )


def history_sql(count):
    """The status changes of ``count`` POs, in order: rows of ``selectors.HISTORY_COLUMNS``."""
    return (
        'SELECT "po_status_history"."po_id", "po_status_history"."from_status", '
        '"po_status_history"."to_status", "po_status_history"."changed_by", '
        '"po_status_history"."changed_at", "po_status_history"."reason" FROM "po_status_history" '
        f'WHERE "po_status_history"."po_id" IN ({placeholders(count)}) '
        'ORDER BY "po_status_history"."changed_at", "po_status_history"."id"'
    )


def editors_sql(count):
    """Who edited the content of ``count`` POs (``po_id, edited_by``; duplicates removed)."""
    return (
        'SELECT DISTINCT "po_edits"."po_id", "po_edits"."edited_by" FROM "po_edits" '
        f'WHERE "po_edits"."po_id" IN ({placeholders(count)})'
    )


def approvals_sql(count):
    """The approvals of ``count`` POs, in order: ``po_id, approved_by, approved_at``."""
    return (
        'SELECT "po_approvals"."po_id", "po_approvals"."approved_by", '
        '"po_approvals"."approved_at" FROM "po_approvals" '
        f'WHERE "po_approvals"."po_id" IN ({placeholders(count)}) '
        'ORDER BY "po_approvals"."approved_at", "po_approvals"."id"'
    )


# --- A receipt's writes (``procurement.services``) ---------------------------------------------


_RECEIVED_WHEN = (
    'WHEN ("po_line_items"."line_item_id" = %s) THEN ("po_line_items"."quantity_received" + %s)'
)


def add_received_sql(count):
    """Add to ``count`` lines' ``quantity_received``, relative to the rows: the parameters are
    each line's id and quantity, then the ids again (``IN``)."""
    whens = " ".join([_RECEIVED_WHEN] * count)
    return (
        f'UPDATE "po_line_items" SET "quantity_received" = CAST(CASE {whens} ELSE NULL END AS '
        f'integer) WHERE "po_line_items"."line_item_id" IN ({placeholders(count)})'
    )
