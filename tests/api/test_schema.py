"""The OpenAPI document (/api/schema) states what the API does: the facts clients rely on."""

import re

import pytest
from django.core.management import call_command

# Any request may meet bad credentials, an overlong request line or a database outage.
ALWAYS = {"401", "414", "503"}
# Every GET but the event feed and the PO document answers If-None-Match with 304
# (procurement_site/api/conditional.py).
READ = {"200", "304", "404", *ALWAYS}
# A paginated list: a bad query parameter, no such page.
LIST = {"200", "304", "400", "404", *ALWAYS}
# Every POST and PATCH: a bad body, no permission, too large, not JSON, the write limit; 409 and
# 422 are also the Idempotency-Key answers (docs/integrations.md).
WRITE = {"400", "403", "409", "413", "415", "422", "429", *ALWAYS}
CREATE = {"201", *WRITE}
# Each operation's statuses, pinned once (the app tests reuse them).
OPERATIONS = {
    ("/suppliers", "get"): LIST,
    ("/suppliers", "post"): CREATE,
    ("/purchase-orders", "get"): LIST,
    ("/purchase-orders", "post"): CREATE,
    ("/purchase-orders/{po_id}", "get"): READ,
    ("/purchase-orders/{po_id}", "patch"): {"200", "404", "412", *WRITE},
    ("/purchase-orders/{po_id}/receipts", "post"): {"201", "404", "412", *WRITE},
    ("/stock-levels", "get"): LIST,
    ("/stock-adjustments", "post"): {"404", *CREATE},
    ("/reorder-alerts", "get"): LIST,
    ("/events", "get"): {"200", "400", "403", *ALWAYS},
    ("/webhook-subscriptions", "get"): {"403", *LIST},
    ("/webhook-subscriptions", "post"): CREATE,
    ("/webhook-subscriptions/{subscription_id}", "delete"): {"204", "403", "404", "429", *ALWAYS},
    ("/purchase-orders/from-alerts", "post"): CREATE,
    ("/purchase-orders/{po_id}/document", "get"): {"200", "404", "406", *ALWAYS},
    ("/supplier-items", "get"): LIST,
    ("/supplier-items", "post"): CREATE,
    ("/supplier-items/{supplier_item_id}", "get"): READ,
    ("/supplier-items/{supplier_item_id}", "patch"): {"200", "404", *WRITE},
}
# The paginated lists (the event feed has its own shape: results and next_after).
LISTS = [
    path for path, method in OPERATIONS if method == "get" and "{" not in path and path != "/events"
]
BODIES = {
    ("/suppliers", "post"): "SupplierRequest",
    ("/purchase-orders", "post"): "PurchaseOrderCreateRequest",
    ("/purchase-orders/{po_id}", "patch"): "PatchedPurchaseOrderUpdateRequest",
    ("/purchase-orders/{po_id}/receipts", "post"): "ReceiptCreateRequest",
    ("/stock-adjustments", "post"): "StockAdjustmentRequest",
    ("/purchase-orders/from-alerts", "post"): "PurchaseOrdersFromAlertsRequest",
    ("/supplier-items", "post"): "SupplierItemCreateRequest",
    ("/supplier-items/{supplier_item_id}", "patch"): "PatchedSupplierItemUpdateRequest",
}
PO_STATUSES = ["draft", "submitted", "approved", "shipped", "received", "rejected", "cancelled"]


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def component(schema, ref_or_name):
    return schema["components"]["schemas"][ref_or_name.rsplit("/", 1)[-1]]


def operation(schema, path, method):
    return schema["paths"][path][method]


def parameter(op, name):
    [found] = [p for p in op["parameters"] if p["name"] == name]
    return found


def body_schema(schema, path, method):
    return component(
        schema, operation(schema, path, method)["requestBody"]["content"]["application/json"]
    )


def test_spectacular_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
    assert (tmp_path / "s.yml").read_text().startswith("openapi: 3.0.3")


def test_every_operation_is_documented_with_exactly_its_statuses(schema):
    documented = {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert documented == set(OPERATIONS)
    for (path, method), statuses in OPERATIONS.items():
        op = operation(schema, path, method)
        assert set(op["responses"]) == statuses, (path, method)
        assert op["summary"]
        for status in statuses:
            assert op["responses"][status]["description"], (path, method, status)


def test_every_error_response_has_the_error_body_and_its_headers(schema):
    for (path, method), statuses in OPERATIONS.items():
        responses = operation(schema, path, method)["responses"]
        for status in statuses:
            if status.startswith("2") or status in ("304", "414"):
                continue
            content = responses[status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (path, status)
            headers = responses[status].get("headers", {})
            expected = {
                "401": {"WWW-Authenticate"},
                "429": {"Retry-After"},
                "503": {"Retry-After"},
            }.get(status, set())
            assert set(headers) == expected, (path, method, status)
            assert all(header["required"] for header in headers.values())


def test_an_overlong_request_line_is_the_http_servers_html_414(schema):
    for path, method in OPERATIONS:
        response = operation(schema, path, method)["responses"]["414"]
        assert response["content"] == {"text/html": {"schema": {"type": "string"}}}
        assert "gunicorn" in response["description"]


def test_error_schema(schema):
    error = component(schema, "Error")
    assert set(error["required"]) == {"status", "code", "message"}
    assert error["properties"]["status"] == {
        "type": "integer",
        "minimum": 400,
        "maximum": 599,
        "description": "The HTTP status code, repeated.",
    }
    assert error["properties"]["fields"]["additionalProperties"]["items"]["type"] == "string"
    assert {"current_status", "allowed_transitions", "quantity_on_hand", "stock_id"} <= set(
        error["properties"]
    )


def test_token_auth_scheme_and_every_operation_requires_it(schema):
    token = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (token["type"], token["in"], token["name"]) == ("apiKey", "header", "Authorization")
    assert "Token <key>" in token["description"]
    for path, method in OPERATIONS:
        assert {"tokenAuth": []} in operation(schema, path, method)["security"]


def test_etag_location_and_if_match_headers(schema):
    detail_get = operation(schema, "/purchase-orders/{po_id}", "get")
    patch = operation(schema, "/purchase-orders/{po_id}", "patch")
    create = operation(schema, "/purchase-orders", "post")
    for op, status in ((detail_get, "200"), (patch, "200"), (create, "201")):
        etag = op["responses"][status]["headers"]["ETag"]
        assert etag["required"] is True
        assert re.fullmatch(etag["schema"]["pattern"], '"12"')
    for op in (detail_get, patch, create):
        for status, response in op["responses"].items():
            if not status.startswith("2") and status != "304":
                assert "ETag" not in response.get("headers", {})
    assert (
        detail_get["responses"]["304"]["headers"]["ETag"]
        == detail_get["responses"]["200"]["headers"]["ETag"]
    )
    assert create["responses"]["201"]["headers"]["Location"]["required"] is True

    if_match = parameter(patch, "If-Match")
    assert if_match["in"] == "header"
    assert not if_match.get("required", False)
    pattern = re.compile(if_match["schema"]["pattern"])
    # The server's own test of the header is this pattern, matched as JSON Schema matches it.
    for value in ('"3"', "*", '"7", "3"', 'W/"3"', "", " , ", '"7", ,"3"'):
        assert pattern.fullmatch(value), value
    for value in ("3", "garbage", '"3', '"3"\n', "*\n", '* , "3"'):
        assert not pattern.fullmatch(value), value


def test_po_id_is_a_uuid_path_parameter(schema):
    for method in ("get", "patch"):
        po_id = parameter(operation(schema, "/purchase-orders/{po_id}", method), "po_id")
        assert (po_id["in"], po_id["required"]) == ("path", True)
        assert po_id["schema"] == {"type": "string", "format": "uuid"}


def test_request_bodies_required_fields(schema):
    required = {name: set(body.get("required", [])) for name, body in _bodies(schema)}
    assert required == {
        "SupplierRequest": {"name", "contact_email", "lead_time_days"},
        "PurchaseOrderCreateRequest": {"supplier_id", "line_items"},
        "PatchedPurchaseOrderUpdateRequest": set(),
        # One schema per reason (see test_stock_adjustment_request_constraints).
        "StockAdjustmentRequest": set(),
        "ReceiptCreateRequest": {"lines"},
        "PurchaseOrdersFromAlertsRequest": {"alert_ids"},
        "SupplierItemCreateRequest": {"supplier_id", "item_type", "unit_price"},
        "PatchedSupplierItemUpdateRequest": set(),
    }
    line = component(schema, "LineItemInputRequest")
    assert set(line["required"]) == {"item_type", "location_id", "quantity", "unit_price"}


def _bodies(schema):
    for (path, method), name in BODIES.items():
        ref = operation(schema, path, method)["requestBody"]["content"]["application/json"]
        assert ref["schema"]["$ref"].endswith(f"/{name}")
        yield name, component(schema, ref["schema"]["$ref"])


def test_supplier_request_constraints(schema):
    props = component(schema, "SupplierRequest")["properties"]
    assert (props["name"]["minLength"], props["name"]["maxLength"]) == (1, 200)
    assert re.search(props["name"]["pattern"], "Alpine")
    assert not re.search(props["name"]["pattern"], " \t ")
    assert (props["contact_email"]["format"], props["contact_email"]["maxLength"]) == ("email", 255)
    assert (props["lead_time_days"]["minimum"], props["lead_time_days"]["maximum"]) == (0, 3650)
    rating = props["rating"]
    assert (rating["type"], rating["nullable"]) == ("string", True)
    for value in ("0", "4.25", "5", "5.00", "0.5"):
        assert re.search(rating["pattern"], value), value
    for value in ("", "5.01", "-1", "4.255", "6", "1e0", ".5"):
        assert not re.search(rating["pattern"], value), value
    assert props["active"] == {"type": "boolean", "default": True}


def test_purchase_order_request_constraints(schema):
    create = component(schema, "PurchaseOrderCreateRequest")["properties"]
    assert create["supplier_id"]["format"] == "uuid"
    currency = component(schema, create["currency"]["allOf"][0]["$ref"])["enum"]
    assert {"USD", "usd", "EUR", "eur", "CHF"} <= set(currency)
    assert not {"XXX", "xxx", "XTS", "Usd", "ABC"} & set(currency)
    assert len(currency) == 2 * len({code.upper() for code in currency})
    assert create["line_items"]["maxItems"] == 500
    line = component(schema, "LineItemInputRequest")["properties"]
    assert line["location_id"]["format"] == "uuid"
    assert (line["quantity"]["minimum"], line["quantity"]["maximum"]) == (1, 1_000_000)
    assert line["item_type"]["maxLength"] == 50
    price = line["unit_price"]
    assert (price["type"], price["format"]) == ("string", "decimal")
    for value in ("0", "149.99", "99999999.99", "7.5"):
        assert re.search(price["pattern"], value), value
    for value in ("", "-1", "1.234", "100000000", "1e3", 149.99):
        assert not isinstance(value, str) or not re.search(price["pattern"], value), value

    patch = component(schema, "PatchedPurchaseOrderUpdateRequest")["properties"]
    status_ref = patch["status"].get("$ref") or patch["status"]["allOf"][0]["$ref"]
    assert component(schema, status_ref)["enum"] == PO_STATUSES
    assert _blank_or(patch["reason"])["maxLength"] == 2000


def test_stock_adjustment_request_constraints(schema):
    body = component(schema, "StockAdjustmentRequest")
    mapping = body["discriminator"]["mapping"]
    assert body["discriminator"]["propertyName"] == "reason"
    assert [ref["$ref"] for ref in body["oneOf"]] == list(mapping.values())
    amounts = {}
    for reason, ref in mapping.items():
        naming, fields = component(schema, ref)["allOf"]
        assert naming == {
            "oneOf": [
                {"$ref": "#/components/schemas/StockLevelById"},
                {"$ref": "#/components/schemas/StockLevelByPair"},
            ]
        }
        props = fields["properties"]
        assert props["reason"] == {"type": "string", "enum": [reason]}
        [amount] = set(fields["required"]) - {"reason"}
        prop = props[amount]
        amounts[reason] = (amount, prop["minimum"], prop["maximum"], prop.get("not"))
        other = ({"quantity_delta", "counted_quantity"} - {amount}).pop()
        assert props[other]["enum"] == [None]
        note = _blank_or(props["note"])
        assert note["maxLength"] == 1000
        assert not re.search(note["pattern"], "a\x00b")
    assert amounts == {
        "correction": ("quantity_delta", -1_000_000, 1_000_000, {"enum": [0]}),
        "damage": ("quantity_delta", -1_000_000, -1, None),
        "receipt": ("quantity_delta", 1, 1_000_000, None),
        "consumption": ("quantity_delta", -1_000_000, -1, None),
        "count": ("counted_quantity", 0, 1_000_000, None),
    }
    by_id = component(schema, "StockLevelById")
    by_pair = component(schema, "StockLevelByPair")
    assert (by_id["required"], by_pair["required"]) == (["stock_id"], ["item_type", "location_id"])
    assert by_id["properties"]["stock_id"]["format"] == "uuid"
    assert by_pair["properties"]["item_type"]["maxLength"] == 50


def _blank_or(prop):
    """A text that may be blank: one of the constrained text, or ""."""
    text, blank = prop["oneOf"]
    assert blank == {"type": "string", "maxLength": 0}
    assert not re.search(text["pattern"], "")
    return text


def test_money_in_responses_is_a_decimal_string_with_two_places(schema):
    for name, field, sample in (
        ("PurchaseOrder", "total_amount", "1234.50"),
        ("LineItem", "unit_price", "1234.50"),
        ("LineItem", "line_total", "1234.50"),
        ("Supplier", "rating", "4.50"),
    ):
        prop = component(schema, name)["properties"][field]
        assert (prop["type"], prop["format"]) == ("string", "decimal"), (name, field)
        assert re.search(prop["pattern"], sample), (name, field)
        assert not re.search(prop["pattern"], sample[:-1]), (name, field)


def test_purchase_order_response_enums(schema):
    po = component(schema, "PurchaseOrder")["properties"]
    assert po["status"]["allOf"][0]["$ref"].endswith("/PurchaseOrderStatusEnum")
    assert po["available_transitions"]["items"]["$ref"].endswith("/PurchaseOrderStatusEnum")
    assert component(schema, "PurchaseOrderStatusEnum")["enum"] == PO_STATUSES


def test_lists_are_paginated_with_the_envelope(schema):
    for path in LISTS:
        op = operation(schema, path, "get")
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = component(schema, ref)
        assert set(page["required"]) == {"count", "next", "previous", "results"}
        assert page["properties"]["next"]["nullable"] is True
        assert page["properties"]["results"]["type"] == "array"
        for name in ("page", "page_size"):
            assert parameter(op, name)["schema"] == {"type": "integer", "minimum": 1}
        ordering = parameter(op, "ordering")["schema"]
        assert ordering["type"] == "array"
        assert ordering["minItems"] == 1
        assert ordering["items"]["enum"]


def test_query_parameters(schema):
    pos = operation(schema, "/purchase-orders", "get")
    assert parameter(pos, "supplier_id")["schema"] == {"type": "string", "format": "uuid"}
    assert parameter(pos, "overdue")["schema"] == {"type": "boolean"}
    assert parameter(pos, "status")["schema"]["enum"] == sorted(PO_STATUSES)
    assert parameter(pos, "created_after")["schema"]["anyOf"] == [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
    ]
    suppliers = operation(schema, "/suppliers", "get")
    assert parameter(suppliers, "active")["schema"] == {"type": "boolean"}
    assert parameter(suppliers, "search")["schema"]["pattern"] == "^[^\\x00]*$"
    levels = operation(schema, "/stock-levels", "get")
    assert parameter(levels, "below_reorder_point")["schema"] == {"type": "boolean"}
    assert parameter(levels, "location_id")["schema"]["format"] == "uuid"


def test_main_operations_have_examples(schema):
    for path, method in BODIES:
        op = operation(schema, path, method)
        assert op["requestBody"]["content"]["application/json"]["examples"], (path, method)
        success = "201" if method == "post" else "200"
        assert op["responses"][success]["content"]["application/json"].get("examples"), path
    detail = operation(schema, "/purchase-orders/{po_id}", "get")
    assert detail["responses"]["200"]["content"]["application/json"]["examples"]


def test_links_chain_supplier_purchase_order_and_its_moves(schema):
    operation_ids = {op["operationId"] for item in schema["paths"].values() for op in item.values()}
    links = {
        (op["operationId"], status, name): link
        for item in schema["paths"].values()
        for op in item.values()
        for status, response in op["responses"].items()
        for name, link in response.get("links", {}).items()
    }
    assert {link["operationId"] for link in links.values()} <= operation_ids
    create_po = links[("suppliers_create", "201", "CreatePurchaseOrder")]
    assert create_po["requestBody"] == {"supplier_id": "$response.body#/supplier_id"}
    move = links[("purchase_orders_create", "201", "MovePurchaseOrder")]
    assert move["operationId"] == "purchase_orders_partial_update"
    assert move["parameters"] == {
        "path.po_id": "$response.body#/po_id",
        "header.If-Match": "$response.header.ETag",
    }
    assert move["requestBody"] == {"status": "$response.body#/available_transitions/0"}
    assert ("purchase_orders_partial_update", "200", "MovePurchaseOrder") in links


def test_the_receipt_operation_describes_its_body_and_answer(schema):
    op = operation(schema, "/purchase-orders/{po_id}/receipts", "post")
    body = component(schema, "ReceiptCreateRequest")
    assert set(body["properties"]) == {"lines", "note", "close"}
    assert body["required"] == ["lines"]
    answer = component(
        schema, op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    )
    assert list(answer["properties"]) == [
        "receipt_id",
        "po_id",
        "received_by",
        "received_at",
        "note",
        "lines",
        "purchase_order",
    ]
    po = component(schema, "PurchaseOrder")
    assert {"receipt_status", "receipts"} <= set(po["properties"])
    line = component(schema, po["properties"]["line_items"]["items"]["$ref"])
    assert {"quantity_received", "quantity_open"} <= set(line["properties"])
