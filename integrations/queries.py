"""The event outbox's ``INSERT``, written out: every write sends it (``integrations.events``),
and the ORM would compile it anew each time. Pure, no Django import: the benchmark's floor
(``bench/floor.py``) sends it too. Portable SQL: ``make run``'s SQLite runs it as well.
"""

from common.sql import insert_sql

# An event's columns as ``record_events`` writes them: the model's (``Event``) but ``id`` (the
# insertion order, from its sequence) and ``sequence`` (null until the sequencer numbers it).
EVENT_INSERT_COLUMNS = ("event_id", "type", "source", "subject", "time", "actor", "data")


def insert_events_sql(count):
    """``count`` events (the values of ``EVENT_INSERT_COLUMNS``, event after event), written in
    that order (their ids follow it)."""
    return insert_sql("events", EVENT_INSERT_COLUMNS, count)
