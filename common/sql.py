"""Pieces of the written-out statements (the ``queries`` modules): pure, no Django import, so
that the benchmark's floor (``bench/floor.py``) imports them with the statements."""


def placeholders(count):
    """``count`` parameter markers, comma-separated."""
    return ", ".join(["%s"] * count)


def insert_sql(table, columns, count, suffix=""):
    """An ``INSERT`` of ``count`` rows of ``columns`` into ``table``, then ``suffix``."""
    row = f"({placeholders(len(columns))})"
    names = ", ".join(f'"{name}"' for name in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES {", ".join([row] * count)} {suffix}'.rstrip()
