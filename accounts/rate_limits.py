"""The per-user write counter behind ``API_WRITE_RATE``: fixed windows, counted in the database
that every server process shares, by one atomic statement per write (no read-modify-write, so
concurrent requests of one user cannot slip past the limit; DRF's cache throttles read the
history, append and write it back, so parallel requests overwrite each other's counts)."""

from django.db import connection

from accounts.models import WriteCount


def record_write(*, user_id, window_start):
    """Count one write of the user in the window starting at ``window_start`` (epoch seconds)
    and return the window's count, this write included. One statement: the user's row restarts
    at 1 when a later window begins; a write that computed an earlier window (a request racing
    the boundary) counts in the current one."""
    table = connection.ops.quote_name(WriteCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, window_start, writes) VALUES (%s, %s, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET "
            f"writes = CASE WHEN excluded.window_start > {table}.window_start THEN 1 "
            f"ELSE {table}.writes + 1 END, "
            f"window_start = CASE WHEN excluded.window_start > {table}.window_start "
            f"THEN excluded.window_start ELSE {table}.window_start END "
            "RETURNING writes",
            [user_id, window_start],
        )
        (writes,) = cursor.fetchone()
    return writes
