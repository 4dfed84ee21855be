"""Procurement's part of the statements written out (``stock.queries``): pure, no Django
import, so that the benchmark's floor (``bench/floor.py``) sends them too."""

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
