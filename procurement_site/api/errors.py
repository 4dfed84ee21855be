"""One JSON error shape for the whole API.

    {"status": 400, "code": "invalid", "message": "...", "fields": {"quantity_delta": ["..."]}}

``fields`` is present for field errors only; other keys (``allowed_transitions``, ...) may be
added by an error that has more to say.
"""

import logging
import sys

import psycopg
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from psycopg_pool import PoolTimeout
from rest_framework import exceptions, serializers, status
from rest_framework.views import exception_handler as drf_exception_handler

from common import errors as domain

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


# Errors meaning "the database cannot be reached right now": the pool gave no connection in time
# (``PoolTimeout``, which Django usually wraps in its ``OperationalError``), the server refused or
# dropped the connection. Retrying later can succeed, hence 503 rather than 500.
DATABASE_UNAVAILABLE_ERRORS = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
RETRY_AFTER_SECONDS = "5"


def is_database_unavailable(exc):
    return isinstance(exc, DATABASE_UNAVAILABLE_ERRORS)


def database_unavailable_body():
    return error_body(503, "database_unavailable", "The database is unavailable; retry shortly.")


def database_unavailable_response():
    """The 503 for Django views and middleware (DRF views get theirs from the handler below)."""
    response = JsonResponse(database_unavailable_body(), status=503)
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response


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
    elif is_database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        response = _response(database_unavailable_body(), 503)
        response["Retry-After"] = RETRY_AFTER_SECONDS
        return response
    elif isinstance(exc, DatabaseError):
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
    if is_database_unavailable(sys.exc_info()[1]):
        return database_unavailable_response()
    return JsonResponse(
        error_body(500, "server_error", "The server failed to process the request."), status=500
    )


def json_400(request, exception=None):
    return JsonResponse(error_body(400, "bad_request", "Bad request."), status=400)


def json_403(request, exception=None):
    return JsonResponse(error_body(403, "permission_denied", "Permission denied."), status=403)
