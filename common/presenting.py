"""Values written as DRF's serializer fields write them, for the presenters: bodies built from
database rows by plain functions (no serializer fields, no model instances), byte-identical to
what the serializers returned. The serializers stay as the schema of those bodies."""

from decimal import Decimal

from django.conf import settings
from django.utils import timezone

_QUANTUM = {places: Decimal(1).scaleb(-places) for places in range(0, 9)}


def text(value):
    """``UUIDField`` (hex with dashes) and ``CharField``: ``None`` stays ``None``."""
    return None if value is None else str(value)


def current_zone():
    """The time zone ``datetime_text`` writes in (``None`` without ``USE_TZ``): looked up once
    for a page of rows rather than for each value."""
    return timezone.get_current_timezone() if settings.USE_TZ else None


def datetime_text(value, zone=None):
    """``DateTimeField``: in the current time zone (``zone``, when the caller looked it up with
    ``current_zone``), ISO 8601, ``Z`` for UTC."""
    if value is None:
        return None
    if zone is None and settings.USE_TZ:
        zone = timezone.get_current_timezone()
    if zone is not None:
        aware = value.utcoffset() is not None
        value = value.astimezone(zone) if aware else timezone.make_aware(value, zone)
    value = value.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


def date_text(value):
    """``DateField``: ISO 8601."""
    return None if value is None else value.isoformat()


def decimal_text(value, places=2):
    """``DecimalField`` with ``COERCE_DECIMAL_TO_STRING``: ``places`` decimals, no exponent."""
    return None if value is None else f"{value.quantize(_QUANTUM[places]):f}"


# The same values written by the database, for bodies built in SQL (``jsonb``) where a batch
# writes too many of them to render in Python (a recalculation's events). Each takes the SQL of a
# column and returns ``(sql, params)`` of a value that, in a ``jsonb`` object, equals the JSON of
# the Python function's result as ``json.dumps`` writes it and ``jsonb`` stores it.


def datetime_text_sql(column):
    """``datetime_text`` of a ``timestamptz`` column (``USE_TZ``), in the current time zone: ISO
    8601 with the microseconds when there are any (six digits), the offset ``+HH:MM`` (``:SS``
    when it has seconds, as historic zones do), ``Z`` when it is zero. NULL stays NULL."""
    local = f"(({column}) AT TIME ZONE %s)"
    offset = f"({local} - (({column}) AT TIME ZONE 'UTC'))"
    size = f"(CASE WHEN {offset} < interval '0' THEN -{offset} ELSE {offset} END)"
    sql = (
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS')"
        f" || CASE WHEN to_char({local}, 'US') = '000000' THEN ''"
        f" ELSE '.' || to_char({local}, 'US') END"
        f" || CASE WHEN {offset} = interval '0' THEN 'Z'"
        f" ELSE CASE WHEN {offset} < interval '0' THEN '-' ELSE '+' END"
        f" || to_char({size}, 'HH24:MI')"
        f" || CASE WHEN date_part('second', {offset}) = 0 THEN '' ELSE to_char({size}, ':SS') END"
        " END"
    )
    return sql, [timezone.get_current_timezone_name()] * sql.count("%s")


def float_sql(column):
    """A ``float8`` column as the JSON number ``json.dumps`` writes: the shortest digits that
    give the float back (PostgreSQL's float text with ``extra_float_digits`` >= 1, its default,
    as Python's ``repr``), and ``.0`` on a whole number below 1e16, as ``repr`` writes it (``jsonb``
    keeps a number's scale: ``2.0`` stays ``2.0``). NULL stays NULL."""
    number = f"(({column})::text::numeric)"
    return (
        f"CASE WHEN scale({number}) = 0 AND abs({column}) < 1e16 "
        f"THEN round({number}, 1) ELSE {number} END"
    ), []
