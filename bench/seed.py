"""Seed a benchmark database at scale with set-based SQL (no ORM row by row).

    python -m bench.seed --database-url postgres://.../bench [--stock-levels 100000]

Defaults: 1,000 suppliers, 100,000 stock levels over 500 locations, 3,000,000 consumption
adjustments over 90 days (plus one opening receipt per level, so that every level still equals the
sum of its ledger), open alerts for the levels at or below their point, 20,000 purchase orders of
10 lines in every status, with history rows, and ``receipt_pos`` more shipped POs of 10 lines
(created by ``RECEIPT_CREATOR``) for the receipt scenario to consume.

The secondary indexes of the seeded tables are dropped before the bulk inserts and rebuilt after
them (one sorted build each instead of millions of insertions), and foreign-key triggers are off
for the seeding session (``session_replication_role = replica``): every row references a row the
same run inserted.
"""

import argparse
import hashlib
import secrets
import time
import uuid

import psycopg

STATUSES = ["draft", "submitted", "approved", "shipped", "received", "rejected", "cancelled"]
SEEDED_TABLES = [
    "suppliers",
    "stock_levels",
    "stock_adjustments",
    "reorder_alerts",
    "purchase_orders",
    "po_line_items",
    "po_status_history",
]
# The creator of the extra shipped POs that the receipt scenario receives.
RECEIPT_CREATOR = "bench-receipts"
BENCH_USERNAME = "bench"

_SECONDARY_INDEXES = """
    SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'procurement' AND t.relname = ANY(%s) AND NOT i.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
    ORDER BY 1
"""


def _purchase_orders_sql(*, count, status_sql, created_by, suppliers, days):
    """``count`` POs, the i-th in the status ``status_sql`` gives for ``i``."""
    return f"""
        INSERT INTO purchase_orders (po_id, supplier_id, status, total_amount, currency,
                                     approved_by, submitted_at, approved_at, created_at,
                                     created_by, expected_delivery_date, received_at, version)
        SELECT gen_random_uuid(), s.supplier_id, st.status, 0, 'USD',
               CASE WHEN st.status IN ('approved', 'shipped', 'received') THEN 'approver' END,
               CASE WHEN st.status <> 'draft' THEN t.created + interval '1 hour' END,
               CASE WHEN st.status IN ('approved', 'shipped', 'received')
                    THEN t.created + interval '1 day' END,
               t.created, '{created_by}',
               CASE WHEN st.status <> 'draft'
                    THEN (t.created + make_interval(days => 1 + s.lead_time_days))::date END,
               CASE WHEN st.status = 'received'
                    THEN t.created + make_interval(days => 1 + s.lead_time_days) END,
               1
        FROM generate_series(1, {count}) AS i
        CROSS JOIN LATERAL (SELECT {status_sql} AS status) st
        CROSS JOIN LATERAL (SELECT now() - (random() * interval '{days} days') AS created) t
        JOIN (SELECT supplier_id, lead_time_days, row_number() OVER () AS rn FROM suppliers) s
          ON s.rn = 1 + i % {suppliers}
    """


def seed(
    conninfo,
    *,
    stock_levels=100_000,
    locations=500,
    suppliers=1_000,
    adjustments=3_000_000,
    purchase_orders=20_000,
    receipt_pos=0,
    lines_per_po=10,
    days=90,
    log=print,
):
    item_types = max(1, stock_levels // locations)
    per_level = max(1, adjustments // (item_types * locations))
    steps = [
        (
            "truncate",
            """
            TRUNCATE po_status_history, po_line_items, purchase_orders, reorder_alerts,
                     reorder_point_calculations, stock_adjustments, stock_levels, suppliers CASCADE
        """,
        ),
        (
            "suppliers",
            f"""
            INSERT INTO suppliers (supplier_id, name, contact_email, lead_time_days, rating, active,
                                   created_at, receipts_count)
            SELECT gen_random_uuid(), 'Supplier ' || i, 'orders' || i || '@supplier.example.com',
                   2 + (i % 20), round((random() * 5)::numeric, 2), i % 50 <> 0,
                   now() - interval '400 days', 0
            FROM generate_series(1, {suppliers}) AS i
        """,
        ),
        (
            "locations",
            f"""
            CREATE TEMP TABLE bench_locations AS
            SELECT i AS n, gen_random_uuid() AS location_id FROM generate_series(1, {locations}) i
        """,
        ),
        (
            "stock_levels",
            f"""
            INSERT INTO stock_levels (stock_id, item_type, location_id, quantity_on_hand,
                                      reorder_point, reorder_quantity)
            SELECT gen_random_uuid(), 'gear-' || lpad(j::text, 5, '0'), l.location_id,
                   (random() * 400)::int, 10 + (random() * 50)::int, 50 + (random() * 150)::int
            FROM bench_locations l CROSS JOIN generate_series(1, {item_types}) AS j
        """,
        ),
        (
            "consumption",
            f"""
            INSERT INTO stock_adjustments (adjustment_id, stock_id, reason, quantity_delta,
                                           quantity_after, note, adjusted_by, created_at)
            SELECT gen_random_uuid(), s.stock_id, 'consumption', -(1 + (random() * 4)::int),
                   s.quantity_on_hand, '', 'scanner',
                   now() - (random() * interval '{days} days')
            FROM stock_levels s CROSS JOIN generate_series(1, {per_level})
        """,
        ),
        (
            "opening receipts",
            f"""
            INSERT INTO stock_adjustments (adjustment_id, stock_id, reason, quantity_delta,
                                           quantity_after, note, adjusted_by, created_at)
            SELECT gen_random_uuid(), s.stock_id, 'receipt', s.quantity_on_hand - c.consumed,
                   s.quantity_on_hand - c.consumed, 'opening balance', 'seed',
                   now() - interval '{days + 1} days'
            FROM stock_levels s
            JOIN (SELECT stock_id, sum(quantity_delta) AS consumed
                  FROM stock_adjustments GROUP BY stock_id) c USING (stock_id)
        """,
        ),
        (
            "alerts",
            """
            INSERT INTO reorder_alerts (alert_id, stock_id, quantity_at_open, reorder_point_at_open,
                                        created_at)
            SELECT gen_random_uuid(), stock_id, quantity_on_hand, reorder_point,
                   now() - random() * interval '30 days'
            FROM stock_levels WHERE quantity_on_hand <= reorder_point
        """,
        ),
        (
            "purchase_orders",
            _purchase_orders_sql(
                count=purchase_orders,
                status_sql=f"(ARRAY{STATUSES!r})[1 + i % {len(STATUSES)}]",
                created_by="clerk",
                suppliers=suppliers,
                days=days,
            ),
        ),
        (
            "receipt POs",
            _purchase_orders_sql(
                count=receipt_pos,
                status_sql="'shipped'",
                created_by=RECEIPT_CREATOR,
                suppliers=suppliers,
                days=days,
            ),
        ),
        (
            "po_line_items",
            f"""
            INSERT INTO po_line_items (line_item_id, po_id, line_number, item_type, location_id,
                                       quantity, unit_price)
            SELECT gen_random_uuid(), p.po_id, k,
                   'gear-' || lpad((1 + (random() * ({item_types} - 1))::int)::text, 5, '0'),
                   l.location_id, 1 + (random() * 40)::int, round((5 + random() * 200)::numeric, 2)
            FROM purchase_orders p
            CROSS JOIN generate_series(1, {lines_per_po}) AS k
            JOIN bench_locations l ON l.n = 1 + (abs(hashtext(p.po_id::text || k)) % {locations})
        """,
        ),
        (
            "po totals",
            """
            UPDATE purchase_orders p SET total_amount = t.total
            FROM (SELECT po_id, sum(line_total) AS total FROM po_line_items GROUP BY po_id) t
            WHERE t.po_id = p.po_id
        """,
        ),
        (
            "po history",
            """
            INSERT INTO po_status_history (po_id, from_status, to_status, changed_by, changed_at,
                                           reason)
            SELECT po_id, 'draft', status, 'seed', created_at + interval '1 hour',
                   CASE WHEN status = 'rejected' THEN 'over budget' ELSE '' END
            FROM purchase_orders WHERE status <> 'draft'
        """,
        ),
    ]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET search_path = procurement, public")
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = conn.execute(_SECONDARY_INDEXES, [SEEDED_TABLES]).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        for name, sql in steps:
            _timed(log, name, conn.execute, sql)
        _timed(log, "indexes", _create_indexes, conn, [sql for _, sql in indexes])
        _timed(log, "vacuum analyze", conn.execute, "VACUUM ANALYZE")


def grow_stock_levels(conninfo, *, stock_levels, log=print):
    """Add item types at every location already seeded until there are ``stock_levels`` levels
    (no ledger rows: for measuring the stock list at a larger scale, not for recalculation)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET search_path = procurement, public")
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET maintenance_work_mem = '512MB'")
        locations, per_location = conn.execute(
            "SELECT count(DISTINCT location_id), max(substr(item_type, 6)::int) FROM stock_levels"
        ).fetchone()
        target = max(per_location, stock_levels // locations)
        indexes = conn.execute(_SECONDARY_INDEXES, [["stock_levels"]]).fetchall()
        for name, _ in indexes:
            conn.execute(f"DROP INDEX {name}")
        _timed(
            log,
            "more stock_levels",
            conn.execute,
            f"""
            INSERT INTO stock_levels (stock_id, item_type, location_id, quantity_on_hand,
                                      reorder_point, reorder_quantity)
            SELECT gen_random_uuid(), 'gear-' || lpad(j::text, 5, '0'), l.location_id,
                   100 + (random() * 300)::int, 10 + (random() * 50)::int,
                   50 + (random() * 150)::int
            FROM (SELECT DISTINCT location_id FROM stock_levels) l
            CROSS JOIN generate_series({per_location + 1}, {target}) AS j
            """,
        )
        _timed(log, "indexes", _create_indexes, conn, [sql for _, sql in indexes])
        _timed(log, "vacuum analyze", conn.execute, "VACUUM ANALYZE stock_levels")
        return conn.execute("SELECT count(*) FROM stock_levels").fetchone()[0]


def create_bench_user(conninfo):
    """A user holding every permission (not a superuser, so permission checks run as for
    staff) and a new API token of it; returns the token's key (only its hash is stored, so each
    call issues a token of its own: an existing bench user gets one more)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SET search_path = procurement, public")
        existing = conn.execute(
            "SELECT u.id FROM auth_user u WHERE u.username = %s", [BENCH_USERNAME]
        ).fetchone()
        key = secrets.token_urlsafe(32)
        if existing:
            # Only the key's hash is stored: a new token for this run's tools.
            _insert_token(conn, existing[0], key)
            return key
        with conn.transaction():
            [user_id] = conn.execute(
                """
                INSERT INTO auth_user (password, is_superuser, username, first_name, last_name,
                                       email, is_staff, is_active, date_joined)
                VALUES ('!', false, %s, '', '', '', true, true, now()) RETURNING id
                """,
                [BENCH_USERNAME],
            ).fetchone()
            conn.execute(
                "INSERT INTO auth_user_user_permissions (user_id, permission_id) "
                "SELECT %s, id FROM auth_permission",
                [user_id],
            )
            _insert_token(conn, user_id, key)
    return key


def _insert_token(conn, user_id, key):
    """An API token as accounts.services.create_api_token stores it: the key's SHA-256."""
    conn.execute(
        "INSERT INTO api_tokens (token_id, user_id, name, key_hash, key_prefix, created_at) "
        "VALUES (%s, %s, 'bench', %s, %s, now())",
        [uuid.uuid4(), user_id, hashlib.sha256(key.encode()).hexdigest(), key[:8]],
    )


def _create_indexes(conn, statements):
    for sql in statements:
        conn.execute(sql)


def _timed(log, name, function, *args):
    started = time.perf_counter()
    result = function(*args)
    log(f"  seeded {name:<18} {time.perf_counter() - started:7.1f} s")
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stock-levels", type=int, default=100_000)
    parser.add_argument("--adjustments", type=int, default=3_000_000)
    parser.add_argument("--receipt-pos", type=int, default=0)
    args = parser.parse_args()
    seed(
        args.database_url,
        stock_levels=args.stock_levels,
        adjustments=args.adjustments,
        receipt_pos=args.receipt_pos,
    )


if __name__ == "__main__":
    main()
