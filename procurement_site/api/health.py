import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET

from procurement_site.api.errors import database_unavailable_response

logger = logging.getLogger(__name__)


@require_GET
def healthz(request):
    """The process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """The database answers; 503 with the error shape when it does not.

    With the connection pool, an unreachable database takes up to ``DB_POOL_TIMEOUT_SECONDS``
    to be reported: a readiness probe's timeout must be longer.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to reach the database means "not ready"
        logger.warning("readiness check failed: %s", exc)
        return database_unavailable_response()
    return JsonResponse({"status": "ok", "database": "ok"})
