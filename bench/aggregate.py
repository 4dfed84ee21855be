"""Time the demand aggregate of ``recalculate_reorder_points`` alone, over all stock levels.

    DATABASE_URL=... python -m bench.aggregate

Calls the recalculation's own aggregate (``procurement.replenishment.demand_rows``, the SQL of
``_demand_sql``, not a copy of it) and times its one statement with
``connection.execute_wrapper``: the database's work and the transfer of its rows, without
Django's start-up or the Python that turns rows into objects. On PostgreSQL the recalculation
runs the same SQL, for each of its parts' ranges of levels (``--workers``: on as many
connections and cores), into the table its points are computed from; the command over this
one-process time is what the rest costs, with the aggregate shared out over the parts.
Prints one JSON line: ``{"rows", "sql_seconds", "call_seconds"}``.
"""

import json
import os
import time


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procurement_site.settings")
    import django

    django.setup()
    from django.db import connection
    from django.utils import timezone

    from procurement.replenishment import demand_rows

    timings = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.append(time.perf_counter() - started)

    connection.ensure_connection()
    started = time.perf_counter()
    with connection.execute_wrapper(timed):
        rows = demand_rows(now=timezone.now(), window_days=90, location_id=None, item_type=None)
    call = time.perf_counter() - started
    print(json.dumps({"rows": len(rows), "sql_seconds": sum(timings), "call_seconds": call}))


if __name__ == "__main__":
    main()
