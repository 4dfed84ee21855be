"""Seed a benchmark database at scale with set-based SQL (no ORM row by row).

    python -m bench.seed --database-url postgres://.../bench [--stock-levels 100000]

Defaults: 1,000 suppliers, 100,000 stock levels over 500 locations, 3,000,000 consumption
adjustments over 90 days (plus one opening receipt per level, so that every level still equals the
sum of its ledger), open alerts for the levels at or below their point, and 20,000 purchase orders
of 10 lines in every status, with history rows.
"""

import argparse
import time

import psycopg

STATUSES = ["draft", "submitted", "approved", "shipped", "received", "rejected", "cancelled"]


def seed(
    conninfo,
    *,
    stock_levels=100_000,
    locations=500,
    suppliers=1_000,
    adjustments=3_000_000,
    purchase_orders=20_000,
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
                     stock_adjustments, stock_levels, suppliers CASCADE
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
            SELECT gen_random_uuid(), stock_id, quantity_on_hand, reorder_point, now()
            FROM stock_levels WHERE quantity_on_hand <= reorder_point
        """,
        ),
        (
            "purchase_orders",
            f"""
            INSERT INTO purchase_orders (po_id, supplier_id, status, total_amount, currency,
                                         approved_by, submitted_at, approved_at, created_at,
                                         created_by, expected_delivery_date, received_at, version)
            SELECT gen_random_uuid(), s.supplier_id, st.status, 0, 'USD',
                   CASE WHEN st.status IN ('approved', 'shipped', 'received') THEN 'approver' END,
                   CASE WHEN st.status <> 'draft' THEN t.created + interval '1 hour' END,
                   CASE WHEN st.status IN ('approved', 'shipped', 'received')
                        THEN t.created + interval '1 day' END,
                   t.created, 'clerk',
                   CASE WHEN st.status <> 'draft'
                        THEN (t.created + make_interval(days => 1 + s.lead_time_days))::date END,
                   CASE WHEN st.status = 'received'
                        THEN t.created + make_interval(days => 1 + s.lead_time_days) END,
                   1
            FROM generate_series(1, {purchase_orders}) AS i
            CROSS JOIN LATERAL (SELECT (ARRAY{STATUSES!r})[1 + i % {len(STATUSES)}] AS status) st
            CROSS JOIN LATERAL (SELECT now() - (random() * interval '{days} days') AS created) t
            JOIN (SELECT supplier_id, lead_time_days, row_number() OVER () AS rn FROM suppliers) s
              ON s.rn = 1 + i % {suppliers}
        """,
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
        for name, sql in steps:
            started = time.perf_counter()
            conn.execute(sql)
            log(f"  seeded {name:<18} {time.perf_counter() - started:7.1f} s")
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        log(f"  vacuum analyze       {time.perf_counter() - started:7.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stock-levels", type=int, default=100_000)
    parser.add_argument("--adjustments", type=int, default=3_000_000)
    args = parser.parse_args()
    seed(args.database_url, stock_levels=args.stock_levels, adjustments=args.adjustments)


if __name__ == "__main__":
    main()
