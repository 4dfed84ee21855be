"""The parts of the OpenAPI document (drf-spectacular) shared by every operation.

- ``error_responses``: the error statuses of an operation, each with the one ``Error`` body.
- Response headers: ``WWW-Authenticate`` on 401, ``Retry-After`` on 503, ``ETag``/``Location``.
- Extensions: the token scheme (``Authorization: Token <key>``), exact patterns for decimals and
  text (``procurement_site.api.fields``), query parameters of ``procurement_site.api.filters``.
- ``add_links``: OpenAPI links between operations (a supplier -> its purchase orders -> the next
  status), which clients and schemathesis' stateful tests follow.
"""

import copy

from django.conf import settings
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_parameter_type
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

from procurement.models import POStatus
from procurement_site.api.errors import ErrorSerializer
from procurement_site.api.fields import DecimalStringField, StrictEmailField

ERROR_DESCRIPTIONS = {
    400: "Malformed JSON, a missing or invalid field, a wrong type, an invalid query parameter.",
    401: "No or bad credentials.",
    403: "Authenticated, but lacking the permission.",
    404: "Unknown id (or not a UUID).",
    409: "Conflicts with the current state.",
    406: "The `Accept` header admits neither of the operation's media types.",
    412: "`If-Match` given and not matching the current `ETag`.",
    415: "The body is not `application/json`.",
    429: "Too many writes from this user (`API_WRITE_RATE`); retry after `Retry-After` seconds.",
    503: "The database is unavailable (code `database_unavailable`), or a statement took too long "
    "and was cancelled (code `database_timeout`); nothing was written. Retry after "
    "`Retry-After` seconds.",
}


@extend_schema_serializer(component_name="Error")
class ErrorBodySerializer(ErrorSerializer):
    """The body of every 4xx and 5xx response. Some errors add keys of their own, listed here."""

    status = serializers.IntegerField(
        min_value=400, max_value=599, help_text="The HTTP status code, repeated."
    )
    current_status = serializers.ChoiceField(
        choices=POStatus.choices,
        required=False,
        help_text="409 on a purchase order: its status now.",
    )
    allowed_transitions = serializers.ListField(
        child=serializers.ChoiceField(choices=POStatus.choices),
        required=False,
        help_text="409 `invalid_transition`: the statuses the purchase order may move to now.",
    )
    quantity_on_hand = serializers.IntegerField(
        required=False, help_text="409 `insufficient_stock`: the quantity on hand now."
    )
    stock_id = serializers.UUIDField(
        required=False, help_text="409 `insufficient_stock`: the stock level."
    )


def error_response(status, description=None):
    return OpenApiResponse(
        response=ErrorBodySerializer, description=description or ERROR_DESCRIPTIONS[status]
    )


def error_responses(*statuses):
    """The error responses of an operation, each with the one error body schema, and the 414 that
    any request may meet before it reaches the API."""
    return {**{status: error_response(status) for status in statuses}, **URI_TOO_LONG}


# gunicorn refuses a request line (method, path and query) over ``limit_request_line`` bytes with
# its own HTML page: the one error not in the Error shape, since the API never sees the request.
URI_TOO_LONG = {
    (414, "text/html"): OpenApiResponse(
        response={"type": "string"},
        description="The request line (method, path and query) is longer than the HTTP server "
        "takes (gunicorn: 4094 bytes). The server's own HTML page: the request never reached "
        "the API.",
    )
}


# --- Response headers ---------------------------------------------------------------------------

WWW_AUTHENTICATE_HEADER = OpenApiParameter(
    "WWW-Authenticate",
    {"type": "string"},
    OpenApiParameter.HEADER,
    response=[401],
    required=True,
    description="The scheme to authenticate with: `Token`.",
)
RETRY_AFTER_HEADER = OpenApiParameter(
    "Retry-After",
    {"type": "string", "pattern": "^[0-9]+$"},
    OpenApiParameter.HEADER,
    response=[503],
    required=True,
    description="Seconds to wait before retrying.",
)
# On every operation: any request may meet bad credentials or a database outage.
COMMON_HEADERS = [WWW_AUTHENTICATE_HEADER, RETRY_AFTER_HEADER]

ETAG_PATTERN = '^"[0-9]+"$'


def etag_header(*statuses):
    return OpenApiParameter(
        "ETag",
        {"type": "string", "pattern": ETAG_PATTERN},
        OpenApiParameter.HEADER,
        response=list(statuses),
        required=True,
        description="The purchase order's version; send it back in `If-Match` to update only "
        "that version.",
    )


def location_header(description):
    return OpenApiParameter(
        "Location",
        {"type": "string", "format": "uri-reference"},
        OpenApiParameter.HEADER,
        response=[201],
        required=True,
        description=description,
    )


# --- Extensions ---------------------------------------------------------------------------------


class TokenAuthScheme(OpenApiAuthenticationExtension):
    target_class = "rest_framework.authentication.TokenAuthentication"
    name = "tokenAuth"
    match_subclasses = True
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: an API token (`manage.py create_api_token <username>`; "
            "stored hashed, named, revocable, may expire).",
        }


class DecimalFieldExtension(OpenApiSerializerFieldExtension):
    """Decimals are strings. Out: always ``decimal_places`` decimals (``"1234.50"``); in: the
    exact text form the field accepts (``DecimalStringField.pattern``)."""

    target_class = "rest_framework.fields.DecimalField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if direction == "request" and isinstance(field, DecimalStringField):
            schema["pattern"] = field.pattern
        elif direction == "response":
            sign = "" if field.min_value is not None and field.min_value >= 0 else "-?"
            whole = field.max_digits - field.decimal_places
            schema["pattern"] = rf"^{sign}[0-9]{{1,{whole}}}\.[0-9]{{{field.decimal_places}}}$"
        return schema


class StrictCharFieldExtension(OpenApiSerializerFieldExtension):
    """Text input: no NUL (PostgreSQL cannot store it), and something besides whitespace when
    blank is not allowed."""

    target_class = "procurement_site.api.fields.StrictCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if direction == "request" and not isinstance(field, StrictEmailField):
            schema["pattern"] = field.pattern
        return schema


class ListSerializerExtension(OpenApiSerializerFieldExtension):
    """A nested list's bounds (``max_length``, ``allow_empty``) as ``maxItems``/``minItems``."""

    target_class = "rest_framework.serializers.ListSerializer"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        field = self.target
        schema = auto_schema._map_serializer_field(field, direction, bypass_extensions=True)
        if direction == "request" and schema is not None:
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
            min_items = field.min_length or (0 if field.allow_empty else 1)
            if min_items:
                schema["minItems"] = min_items
        return schema


class StrictFilterExtension(DjangoFilterExtension):
    """A filter with an ``openapi_schema`` (``procurement_site.api.filters``) is documented with
    exactly that schema."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        schema = getattr(filter_field, "openapi_schema", None)
        if schema is None:
            return super().resolve_filter_field(
                auto_schema, model, filterset_class, field_name, filter_field
            )
        return [
            build_parameter_type(
                name=field_name,
                schema=copy.deepcopy(schema),
                location=OpenApiParameter.QUERY,
                required=filter_field.extra.get("required", False),
                description=filter_field.extra.get("help_text"),
                **({"style": "form", "explode": False} if schema.get("type") == "array" else {}),
            )
        ]


# --- Links --------------------------------------------------------------------------------------

NEXT_STATUS = "$response.body#/available_transitions/0"


def _move_link(description=None):
    """The link that PATCHes a PO (the one in the response) to its next status, as that
    version."""
    link = {
        "operationId": "purchase_orders_partial_update",
        "parameters": {
            "path.po_id": "$response.body#/po_id",
            "header.If-Match": "$response.header.ETag",
        },
        "requestBody": {"status": NEXT_STATUS},
    }
    if description:
        link["description"] = description
    return link


LINKS = {
    ("suppliers_create", "201"): {
        "CreatePurchaseOrder": {
            "operationId": "purchase_orders_create",
            "requestBody": {"supplier_id": "$response.body#/supplier_id"},
            "description": "Order from the new supplier.",
        },
        "ListPurchaseOrders": {
            "operationId": "purchase_orders_list",
            "parameters": {"query.supplier_id": "$response.body#/supplier_id"},
            "description": "The supplier's purchase orders.",
        },
    },
    ("purchase_orders_create", "201"): {
        "GetPurchaseOrder": {
            "operationId": "purchase_orders_retrieve",
            "parameters": {"path.po_id": "$response.body#/po_id"},
        },
        "MovePurchaseOrder": _move_link(
            "Move the new purchase order to its first available status."
        ),
    },
    ("purchase_orders_list", "200"): {
        "GetFirstPurchaseOrder": {
            "operationId": "purchase_orders_retrieve",
            "parameters": {"path.po_id": "$response.body#/results/0/po_id"},
            "description": "The first purchase order of the page (when there is one).",
        },
    },
    ("purchase_orders_retrieve", "200"): {
        "MovePurchaseOrder": _move_link(),
    },
    ("purchase_orders_partial_update", "200"): {
        "GetPurchaseOrder": {
            "operationId": "purchase_orders_retrieve",
            "parameters": {"path.po_id": "$response.body#/po_id"},
        },
        "MovePurchaseOrder": _move_link("Move the purchase order on to its next available status."),
    },
    ("webhook_subscriptions_create", "201"): {
        "DeleteSubscription": {
            "operationId": "webhook_subscriptions_destroy",
            "parameters": {"path.subscription_id": "$response.body#/subscription_id"},
            "description": "Unsubscribe.",
        },
    },
    ("stock_adjustments_create", "201"): {
        "AdjustTheSameLevel": {
            "operationId": "stock_adjustments_create",
            # By id: the pair, if the adjustment at hand named the level by it, is left out
            # (null), as StockLevelById requires.
            "requestBody": {
                "stock_id": "$response.body#/stock_id",
                "item_type": None,
                "location_id": None,
            },
        },
        "ListTheLevel": {
            "operationId": "stock_levels_list",
            "parameters": {
                "query.item_type": "$response.body#/item_type",
                "query.location_id": "$response.body#/location_id",
            },
        },
        "ListAlertsAtTheLocation": {
            "operationId": "reorder_alerts_list",
            "parameters": {"query.location_id": "$response.body#/location_id"},
        },
    },
}


WRITE_METHODS = ("post", "put", "patch", "delete")


def add_write_limit_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: every write operation may be answered 429
    ``throttled`` (``API_WRITE_RATE``, procurement_site.api.throttling), with ``Retry-After``."""
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in WRITE_METHODS or not isinstance(operation, dict):
                continue
            operation["responses"]["429"] = {
                "description": ERROR_DESCRIPTIONS[429],
                "headers": {
                    "Retry-After": {
                        "schema": {"type": "string", "pattern": "^[0-9]+$"},
                        "description": "Seconds until the user's current window ends.",
                        "required": True,
                    }
                },
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            }
            operation["responses"] = dict(
                sorted(operation["responses"].items(), key=lambda item: item[0])
            )
    return result


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: the ``LINKS`` on their responses."""
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                links = LINKS.get((operation.get("operationId"), status))
                if links:
                    response["links"] = copy.deepcopy(links)
    return result


# --- Body limits --------------------------------------------------------------------------------


CONFLICT_RETRY_DESCRIPTION = (
    " Or the write collided with concurrent writes twice, a deadlock or serialization failure "
    "(code `conflict_retry`): nothing was written; retry."
)


def add_body_limits(result, generator, request, public):
    """drf-spectacular postprocessing hook: every operation with a request body documents the
    413 of a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and, in its 400, the nesting limit (see
    ``procurement_site.api.parsers``)."""
    size, depth = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.API_MAX_JSON_DEPTH
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            responses["413"] = {
                "description": f"The body is larger than {size} bytes (code `request_too_large`).",
                "content": copy.deepcopy(error),
            }
            if "400" in responses:
                responses["400"]["description"] += (
                    f" A body nested deeper than {depth} levels of arrays and objects (code "
                    "`too_deep`)."
                )
            # Every write is a transaction that a deadlock or serialization failure can abort; it
            # is retried once on the server, then answered 409 `conflict_retry`.
            conflict = responses.setdefault(
                "409",
                {
                    "description": "Conflicts with concurrent changes.",
                    "content": copy.deepcopy(error),
                },
            )
            conflict["description"] += CONFLICT_RETRY_DESCRIPTION
            operation["responses"] = dict(sorted(responses.items()))
    return result
