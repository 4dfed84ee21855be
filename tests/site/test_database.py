"""The migrated database holds the service page's tables, in schema ``procurement``."""

import pytest
from django.db import IntegrityError, connection, transaction

from tests.factories import POLineItemFactory, StockLevelFactory, SupplierFactory

pytestmark = pytest.mark.django_db

PAGE_COLUMNS = {
    "purchase_orders": {
        "po_id": ("uuid", "NO", None),
        "supplier_id": ("uuid", "NO", None),
        "status": ("character varying(20)", "NO", "'draft'::character varying"),
        "total_amount": ("numeric(10,2)", "NO", None),
        "currency": ("character(3)", "NO", "'USD'::bpchar"),
        "approved_by": ("character varying(100)", "YES", None),
        "submitted_at": ("timestamp with time zone", "YES", None),
        "approved_at": ("timestamp with time zone", "YES", None),
        "created_at": ("timestamp with time zone", "NO", "statement_timestamp()"),
    },
    "suppliers": {
        "supplier_id": ("uuid", "NO", None),
        "name": ("character varying(200)", "NO", None),
        "contact_email": ("character varying(255)", "NO", None),
        "lead_time_days": ("integer", "NO", None),
        "rating": ("numeric(3,2)", "YES", None),
        "active": ("boolean", "NO", "true"),
    },
    "stock_levels": {
        "stock_id": ("uuid", "NO", None),
        "item_type": ("character varying(50)", "NO", None),
        "location_id": ("uuid", "NO", None),
        "quantity_on_hand": ("integer", "NO", None),
        "reorder_point": ("integer", "NO", None),
        "reorder_quantity": ("integer", "NO", None),
        "last_counted_at": ("timestamp with time zone", "YES", None),
    },
}


def _columns(table):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                   CASE WHEN a.attnotnull THEN 'NO' ELSE 'YES' END,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = 'procurement' AND c.relname = %s AND a.attnum > 0
              AND NOT a.attisdropped
            """,
            [table],
        )
        return {name: (type_, nullable, default) for name, type_, nullable, default in cursor}


def _indexes(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'procurement' "
            "AND tablename = %s",
            [table],
        )
        return dict(cursor.fetchall())


def test_every_table_lives_in_schema_procurement():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        )
        rows = cursor.fetchall()
    schemas = {schema for schema, _ in rows}
    tables = {table for _, table in rows}
    assert schemas == {"procurement"}
    for table in (
        "purchase_orders",
        "po_line_items",
        "suppliers",
        "stock_levels",
        "stock_adjustments",
        "reorder_alerts",
        "django_migrations",
        "auth_user",
    ):
        assert table in tables


def test_search_path_puts_procurement_first():
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        assert cursor.fetchone()[0].startswith("procurement")


@pytest.mark.parametrize("table", sorted(PAGE_COLUMNS))
def test_page_columns_types_nullability_and_defaults(table):
    actual = _columns(table)
    for column, expected in PAGE_COLUMNS[table].items():
        assert actual[column] == expected, column


def test_page_indexes():
    po = _indexes("purchase_orders")
    assert "(supplier_id)" in po["idx_po_supplier"]
    assert "(status)" in po["idx_po_status"]
    assert "(active)" in _indexes("suppliers")["idx_supplier_active"]
    stock = _indexes("stock_levels")
    assert stock["idx_stock_item_loc"].startswith("CREATE UNIQUE INDEX")
    assert "(item_type, location_id)" in stock["idx_stock_item_loc"]
    assert (
        "(quantity_on_hand) WHERE (quantity_on_hand <= reorder_point)"
        in (stock["idx_stock_reorder"])
    )


def test_plain_sql_insert_gets_database_defaults():
    supplier = SupplierFactory()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO purchase_orders (po_id, supplier_id, total_amount, created_by) "
            "VALUES (gen_random_uuid(), %s, 0, 'sql') RETURNING status, currency, created_at",
            [supplier.pk],
        )
        status, currency, created_at = cursor.fetchone()
    assert (status, currency) == ("draft", "USD")
    assert created_at is not None


def _violates(sql, params):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_database_rejects_negative_stock_and_lead_time_and_bad_rating():
    level = StockLevelFactory(quantity_on_hand=1)
    _violates("UPDATE stock_levels SET quantity_on_hand = -1 WHERE stock_id = %s", [level.pk])
    _violates("UPDATE stock_levels SET reorder_point = -1 WHERE stock_id = %s", [level.pk])
    supplier = SupplierFactory()
    _violates("UPDATE suppliers SET lead_time_days = -1 WHERE supplier_id = %s", [supplier.pk])
    _violates("UPDATE suppliers SET rating = 5.01 WHERE supplier_id = %s", [supplier.pk])


def test_database_rejects_line_quantity_below_one():
    line = POLineItemFactory()
    _violates("UPDATE po_line_items SET quantity = 0 WHERE line_item_id = %s", [line.pk])


def test_database_allows_one_open_alert_per_stock_level():
    level = StockLevelFactory()
    sql = (
        "INSERT INTO reorder_alerts (alert_id, stock_id, quantity_at_open, reorder_point_at_open) "
        "VALUES (gen_random_uuid(), %s, 0, 5)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [level.pk])
    _violates(sql, [level.pk])


def test_database_rejects_second_stock_level_for_same_pair():
    level = StockLevelFactory()
    _violates(
        "INSERT INTO stock_levels (stock_id, item_type, location_id, quantity_on_hand, "
        "reorder_point, reorder_quantity) VALUES (gen_random_uuid(), %s, %s, 0, 0, 0)",
        [level.item_type, level.location_id],
    )
