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


def datetime_text(value):
    """``DateTimeField``: in the current time zone, ISO 8601, ``Z`` for UTC."""
    if value is None:
        return None
    if settings.USE_TZ:
        zone = timezone.get_current_timezone()
        value = value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value)
    value = value.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


def date_text(value):
    """``DateField``: ISO 8601."""
    return None if value is None else value.isoformat()


def decimal_text(value, places=2):
    """``DecimalField`` with ``COERCE_DECIMAL_TO_STRING``: ``places`` decimals, no exponent."""
    return None if value is None else f"{value.quantize(_QUANTUM[places]):f}"
