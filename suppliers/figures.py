"""Constants and statements of the suppliers app that code without Django (``bench/floor.py``)
imports: pure, no Django import."""

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
