"""Site-wide middleware: request ids and the request log line, health probes, database outages."""

import logging
import re
import time
import uuid

from procurement_site.api import errors, health
from procurement_site.logging import request_id

logger = logging.getLogger(__name__)
request_logger = logging.getLogger("procurement_site.request")

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
HEALTH_PATHS = {"/healthz": health.healthz, "/readyz": health.readyz}


def _request_id_from(request):
    """The caller's id when it is safe to log and echo, else a fresh one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Gives each request an id (the caller's ``X-Request-ID`` or a new one), puts it on every log
    line written while the request runs and in the response header, and logs one line per request
    with its method, path, status and duration.

    The line replaces ``django.request``'s "Not Found: ..." warnings (so a 4xx is logged once);
    uncaught exceptions are still logged by Django, with their traceback and the request id.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = _request_id_from(request)
        request.request_id = rid
        token = request_id.set(rid)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = rid
            status = response.status_code
            if status >= 500:
                level = logging.ERROR
            elif status >= 400:
                level = logging.WARNING
            elif request.path_info in HEALTH_PATHS:
                level = logging.DEBUG  # probes every few seconds would drown the rest
            else:
                level = logging.INFO
            request_logger.log(
                level,
                "%s %s %s",
                request.method,
                request.path,
                status,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": status,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id.reset(token)


class HealthCheckMiddleware:
    """Answers ``/healthz`` and ``/readyz`` before host validation and the HTTPS redirect.

    Orchestrators probe the container directly (``Host: 10.0.3.7:8000``, plain HTTP), which
    ``ALLOWED_HOSTS`` and ``SECURE_SSL_REDIRECT`` would otherwise turn into a 400 or a 301.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = HEALTH_PATHS.get(request.path_info)
        if view is not None:
            return view(request)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A database outage in a non-DRF view (admin, ...) is a 503 with the API's error shape; a
    statement timeout a 503 ``database_timeout``, a deadlock a 409 ``conflict_retry`` (see
    ``common.db``).

    DRF views map them in ``procurement_site.api.errors.exception_handler``; one inside a
    middleware (e.g. saving the session) reaches ``handler500``, which maps it the same way.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return errors.database_error_response(exception)
