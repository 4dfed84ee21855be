"""Constants and statements of the suppliers app that code without Django (``bench/floor.py``)
imports: pure, no Django import."""

from common.sql import placeholders

# Ten years: the longest lead time a supplier may declare (API, admin and database alike), so that
# delivery dates and the learned figures (numeric(8,3) columns) always stay in range.
MAX_LEAD_TIME_DAYS = 3650
# The on-time and in-full rates count the purchase orders completed in the last 365 days.
RATE_WINDOW_DAYS = 365

RECORD_COMPLETED_ORDER_SQL = (
    'INSERT INTO "supplier_delivery_days" AS d ("supplier_id", "day", "completed_count", '
    '"judged_count", "on_time_count", "in_full_count") VALUES (%s, %s, 1, %s, %s, %s) '
    'ON CONFLICT ("supplier_id", "day") DO UPDATE SET '
    '"completed_count" = d."completed_count" + 1, '
    '"judged_count" = d."judged_count" + excluded."judged_count", '
    '"on_time_count" = d."on_time_count" + excluded."on_time_count", '
    '"in_full_count" = d."in_full_count" + excluded."in_full_count"'
)


def _share(part, whole, rate_type):
    return (
        f'(SELECT (CAST(SUM(U0."{part}") AS {rate_type}) / CAST(NULLIF(SUM(U0."{whole}"), 0) AS '
        f'{rate_type})) AS "share" FROM "supplier_delivery_days" U0 WHERE (U0."day" > %s AND '
        'U0."supplier_id" = ("suppliers"."supplier_id")) GROUP BY U0."supplier_id")'
    )


def refresh_rates_sql(count=None, *, rate_type="numeric(12, 6)"):
    """Set the on-time and in-full rates of ``count`` suppliers (``IN`` their ids; all of them
    for ``None``) from their daily totals after a day (the two first parameters, then the ids).
    ``rate_type``: the type the shares are divided in (exact on PostgreSQL; SQLite's NUMERIC
    divides whole numbers as such, so there ``REAL``)."""
    where = "" if count is None else f' WHERE "suppliers"."supplier_id" IN ({placeholders(count)})'
    return (
        'UPDATE "suppliers" SET "on_time_rate" = '
        + _share("on_time_count", "judged_count", rate_type)
        + ', "in_full_rate" = '
        + _share("in_full_count", "completed_count", rate_type)
        + where
    )
