"""How long ``simulate_replenishment`` takes at scale: ``python -m bench.simulation``.

Drops and creates a database (default ``procurement_simbench``), migrates it, and fills it with
SQL alone: ``--levels`` stock levels (500 item types x locations), each consuming on about 70%
of the days for two years and a window (what the seasonal method needs), one supplier with 20
receipts behind every item type's latest committed purchase. Then times the replay of the last
``--days`` days with the ``stationary`` and the ``auto`` methods, and prints the figures (the
README's "Planning" section quotes them).
"""

import argparse
import os
import sys
import time

import psycopg

HISTORY_DAYS = 2 * 365 + 90


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description="Time the replenishment simulator at scale.")
    parser.add_argument(
        "--server-url",
        default=os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432"),
    )
    parser.add_argument("--database", default="procurement_simbench")
    parser.add_argument("--levels", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--methods", default="stationary,auto")
    parser.add_argument(
        "--reuse", action="store_true", help="Time again on the database a run filled."
    )
    return parser.parse_args(argv)


def create_database(server_url, name):
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


FILL_SQL = """
INSERT INTO suppliers (supplier_id, name, contact_email, lead_time_days, active, created_at,
                       receipts_count, expected_lead_time_days, lead_time_stddev_days)
VALUES ('00000000-0000-4000-8000-000000000001', 'Bench Gear', 'bench@example.com', 7, true,
        now(), 20, 7.5, 1.2);

INSERT INTO supplier_lead_times (observation_id, supplier_id, po_id, received_at,
    actual_lead_time_days, expected_lead_time_days, lead_time_stddev_days, receipts_count)
SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', gen_random_uuid(),
       now() - (40 * (21 - n)) * interval '1 day', 6 + n %% 4, 7 + n * 0.02, 1.2, n
FROM generate_series(1, 20) n;

INSERT INTO purchase_orders (po_id, supplier_id, status, total_amount, currency, created_by,
                             created_at, approved_at, approved_by, version)
VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001',
        'approved', 0, 'USD', 'bench', now(), now() - interval '30 days', 'bench', 1);

INSERT INTO stock_levels (stock_id, item_type, location_id, quantity_on_hand, reorder_point,
                          reorder_quantity)
SELECT gen_random_uuid(), 'item-' || (n %% 500), md5('location-' || (n / 500))::uuid, 100, 20,
       40 + n %% 60
FROM generate_series(0, %(levels)s - 1) n;

INSERT INTO po_line_items (line_item_id, po_id, line_number, item_type, location_id, quantity,
                           unit_price)
SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000002', n + 1, 'item-' || n,
       md5('location-0')::uuid, 1, 1
FROM generate_series(0, 499) n;

INSERT INTO stock_adjustments (adjustment_id, stock_id, reason, quantity_delta, quantity_after,
                               adjusted_by, note, created_at)
SELECT gen_random_uuid(), s.stock_id, 'consumption',
       -(1 + floor(random() * 4 * (1.2 + sin(2 * pi() * d / 365))))::int, 100, 'bench', '',
       now() - d * interval '1 day'
FROM stock_levels s, generate_series(1, %(history)s) d
WHERE random() < 0.7;
"""


def fill(args, call_command, connection):
    """Migrate, then fill the database with SQL alone (see the module's docstring)."""
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # The ledger's indexes and keys are dropped during the bulk insert and built after it.
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'stock_adjustments' AND indexname "
            "NOT IN (SELECT conname FROM pg_constraint)"
        )
        indexes = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
            "'stock_adjustments'::regclass AND contype IN ('p', 'f')"
        )
        keys = cursor.fetchall()
        for definition in indexes:
            cursor.execute(f"DROP INDEX {definition.split(' INDEX ')[1].split(' ON ')[0]}")
        for name, _ in keys:
            cursor.execute(f'ALTER TABLE stock_adjustments DROP CONSTRAINT "{name}"')
        for statement in FILL_SQL.split(";\n"):
            if statement.strip():
                cursor.execute(statement, {"levels": args.levels, "history": HISTORY_DAYS})
        for name, definition in sorted(keys, key=lambda key: "FOREIGN" in key[1]):
            cursor.execute(f'ALTER TABLE stock_adjustments ADD CONSTRAINT "{name}" {definition}')
        for definition in indexes:
            cursor.execute(definition)
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM stock_adjustments")
        rows = cursor.fetchone()[0]
    print(
        f"filled: {args.levels} levels, {rows} consumption rows over {HISTORY_DAYS} days "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )


def main(argv=None):
    args = parse_args(argv)
    if not args.reuse:
        create_database(args.server_url, args.database)
    os.environ["DATABASE_URL"] = f"{args.server_url}/{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement_site.settings")
    os.environ.setdefault("DJANGO_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from procurement.simulation import simulate_replenishment

    if not args.reuse:
        fill(args, call_command, connection)
    for method in args.methods.split(","):
        started, cpu = time.perf_counter(), time.process_time()
        report = simulate_replenishment(days=args.days, method=method)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        totals = report.totals
        print(
            f"{method}: {len(report.levels)} levels x {args.days} days replayed in "
            f"{elapsed:.1f} s ({cpu:.1f} s of this process's CPU; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) "
            f"(cycle service level {totals['cycle_service_level']}, "
            f"fill rate {totals['fill_rate']}, orders {totals['orders']})",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
