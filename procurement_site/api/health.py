from django.db import connection
from django.http import JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request):
    """The process is alive; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
def readyz(request):
    """The database answers; 503 with the error shape when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to reach the database means "not ready"
        return JsonResponse(
            {
                "status": 503,
                "code": "database_unavailable",
                "message": "The database is unreachable.",
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "database": "ok"})
