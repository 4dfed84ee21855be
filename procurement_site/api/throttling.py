"""The write limit per user (``API_WRITE_RATE``, contract "Tokens and limits"): a DRF throttle,
so an exceeded limit is DRF's ``Throttled``, answered 429 ``throttled`` in the error shape with
``Retry-After``. Reads are never counted."""

import math
import time

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.rate_limits import record_write
from accounts.rates import parse_rate

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteRateThrottle(BaseThrottle):
    """Fixed windows aligned on the epoch (``600/minute``: each UTC minute), counted per user in
    the database (``accounts.rate_limits``), so every process and server shares the count.
    ``Retry-After`` is the time left in the window."""

    def allow_request(self, request, view):
        if request.method not in WRITE_METHODS or not request.user.is_authenticated:
            return True
        rate = parse_rate(settings.API_WRITE_RATE)
        if rate is None:
            return True
        limit, window = rate
        now = time.time()
        window_start = int(now // window) * window
        if record_write(user_id=request.user.pk, window_start=window_start) <= limit:
            return True
        self.retry_after = max(1, math.ceil(window_start + window - now))
        return False

    def wait(self):
        return self.retry_after
