"""One JSON error shape for the whole API.

    {"status": 400, "code": "invalid", "message": "...", "fields": {"quantity_delta": ["..."]}}

``fields`` is present for field errors only; other keys (``allowed_transitions``, ...) may be
added by an error that has more to say.
"""

import logging
import sys

import psycopg
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.db import Error as DjangoDatabaseError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from common import db
from common import errors as domain
from procurement_site.api.parsers import RequestTooLarge

logger = logging.getLogger(__name__)

DOMAIN_STATUS = {
    domain.InvalidInput: status.HTTP_400_BAD_REQUEST,
    domain.NotFound: status.HTTP_404_NOT_FOUND,
    domain.PermissionDenied: status.HTTP_403_FORBIDDEN,
    domain.Conflict: status.HTTP_409_CONFLICT,
    domain.PreconditionFailed: status.HTTP_412_PRECONDITION_FAILED,
}

DRF_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.ValidationError: "invalid",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
}


RETRY_AFTER_SECONDS = "5"


def is_database_unavailable(exc):
    """The database cannot be reached right now (see ``common.db``): the pool gave no connection
    in time, the server refused or dropped the connection. Retrying later can succeed, hence 503
    rather than 500. Deadlocks and timeouts are ``OperationalError``s too, but not outages."""
    return db.is_connection_failure(exc)


def database_unavailable_body():
    return error_body(503, "database_unavailable", "The database is unavailable; retry shortly.")


def database_unavailable_response():
    """The 503 for Django views and middleware (DRF views get theirs from the handler below)."""
    response = JsonResponse(database_unavailable_body(), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def database_timeout_body():
    return error_body(
        503,
        "database_timeout",
        "A database statement took too long and was cancelled; nothing was written. Retry shortly.",
    )


def conflict_retry_body():
    return error_body(409, "conflict_retry", db.CONFLICT_RETRY_MESSAGE)


def database_error_response(exc):
    """The answer to a database error that is not a bug, for Django views and middleware, or
    ``None``: a connection failure (503 ``database_unavailable``, a warning without traceback),
    a timeout (503 ``database_timeout``, an error with traceback), a deadlock or serialization
    failure that reached the view (409 ``conflict_retry``, a warning with traceback)."""
    status_code, body = _database_error_answer(exc)
    if body is None:
        return None
    response = JsonResponse(body, status=status_code)
    if status_code == 503:
        response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def _database_error_answer(exc):
    if is_database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        return 503, database_unavailable_body()
    if db.is_timeout(exc):
        logger.error("database statement timed out (SQLSTATE %s)", db.sqlstate(exc), exc_info=exc)
        return 503, database_timeout_body()
    if db.is_transient_conflict(exc):
        logger.warning("transient database conflict (SQLSTATE %s)", db.sqlstate(exc), exc_info=exc)
        return 409, conflict_retry_body()
    return None, None


RESERVED_KEYS = frozenset({"status", "code", "message", "fields"})


def error_body(status_code, code, message, fields=None, **extra):
    """The error shape. ``extra`` adds keys (``allowed_transitions``, ...) but can never replace
    the four every consumer relies on."""
    clashes = RESERVED_KEYS & extra.keys()
    if clashes:
        raise ValueError(f"error extra keys clash with the error shape: {sorted(clashes)}")
    body = {"status": status_code, "code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    return body


def _flatten_fields(detail, prefix=""):
    """Turn DRF's nested error detail into ``{"a.0.b": ["message", ...]}``."""
    out = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten_fields(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    out.update(_flatten_fields(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _validation_message(fields):
    name, messages = next(iter(fields.items()))
    if name == "non_field_errors":
        return messages[0]
    return f"{name}: {messages[0]}"


def exception_handler(exc, context):
    if isinstance(exc, domain.DomainError):
        status_code = next(s for cls, s in DOMAIN_STATUS.items() if isinstance(exc, cls))
        fields = {exc.field: [exc.message]} if exc.field else None
        body = error_body(status_code, exc.code, exc.message, fields, **exc.extra)
        return _response(body, status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = RequestTooLarge()
    elif isinstance(exc, DjangoDatabaseError | psycopg.Error):
        status_code, body = _database_error_answer(exc)
        if body is not None:
            response = _response(body, status_code)
            if status_code == 503:
                response["Retry-After"] = RETRY_AFTER_SECONDS
            return response

    if isinstance(exc, DatabaseError | psycopg.Error):
        logger.exception("database error")
        body = error_body(500, "server_error", "The server failed to process the request.")
        return _response(body, 500)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = DRF_CODES.get(type(exc), getattr(exc, "default_code", "error"))
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, list | str):
            detail = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
        fields = _flatten_fields(detail)
        response.data = error_body(response.status_code, code, _validation_message(fields), fields)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = error_body(response.status_code, code, str(detail))
    return response


def _response(body, status_code):
    from rest_framework.response import Response

    return Response(body, status=status_code)


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx and 5xx response."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="Machine-readable error code, e.g. `invalid`.")
    message = serializers.CharField(help_text="What went wrong, for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field errors: the offending field (dotted path for nested input) to messages.",
    )


def json_404(request, exception=None):
    return JsonResponse(error_body(404, "not_found", "No such resource."), status=404)


def json_500(request):
    """Django's handler500; it runs while the exception is being handled, so ``sys.exc_info``
    tells a database outage (e.g. in a middleware loading the session) from a bug."""
    response = database_error_response(sys.exc_info()[1])
    if response is not None:
        return response
    return JsonResponse(
        error_body(500, "server_error", "The server failed to process the request."), status=500
    )


def json_400(request, exception=None):
    """Django's handler400 (a ``SuspiciousOperation`` outside DRF): a body over
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is a 413, like in the API."""
    if isinstance(exception, RequestDataTooBig):
        too_large = RequestTooLarge()
        return JsonResponse(
            error_body(413, too_large.default_code, str(too_large.detail)), status=413
        )
    return JsonResponse(error_body(400, "bad_request", "Bad request."), status=400)


def json_403(request, exception=None):
    return JsonResponse(error_body(403, "permission_denied", "Permission denied."), status=403)
