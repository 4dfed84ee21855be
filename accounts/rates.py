"""``API_WRITE_RATE``'s syntax (DRF's), parsed without touching the models: settings.py calls
it to refuse a bad value at start-up."""

import re

from django.core.exceptions import ImproperlyConfigured

# DRF's rate syntax: "<count>/<period>", the period's first letter deciding (s, m, h, d).
RATE_PATTERN = re.compile(r"(?P<count>[0-9]+)/(?P<period>[smhd])[a-z]*")
PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """``"600/minute"`` -> ``(600, 60)``; empty -> ``None`` (no limit)."""
    if not rate:
        return None
    match = RATE_PATTERN.fullmatch(rate.strip())
    if match is None or int(match["count"]) < 1:
        raise ImproperlyConfigured(
            f"API_WRITE_RATE={rate!r}: expected '<count>/<second|minute|hour|day>' "
            "with a count of at least 1 (e.g. '600/minute'), or empty for no limit."
        )
    return int(match["count"]), PERIOD_SECONDS[match["period"]]
