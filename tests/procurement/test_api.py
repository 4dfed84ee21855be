import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procurement.models import POLineItem, PurchaseOrder
from tests.api.test_schema import OPERATIONS
from tests.factories import SupplierFactory
from tests.procurement.conftest import LOCATION, line, move, patch

pytestmark = pytest.mark.django_db


# --- POST /purchase-orders ----------------------------------------------------------------


def test_create_returns_201_draft_with_computed_total(clerk, supplier):
    body = {
        "supplier_id": str(supplier.supplier_id),
        "currency": "eur",
        "line_items": [line("tent-2p", 12, "149.99"), line("sleeping-bag", 20, "89.50")],
    }
    response = clerk.post("/purchase-orders", body, format="json")

    assert response.status_code == 201, response.json()
    po = response.json()
    assert po["status"] == "draft"
    assert po["total_amount"] == "3589.88"
    assert po["currency"] == "EUR"
    assert po["created_by"] == "clerk"
    assert po["supplier_id"] == str(supplier.supplier_id)
    for name in ("approved_by", "submitted_at", "approved_at", "received_at"):
        assert po[name] is None
    assert po["expected_delivery_date"] is None
    assert po["available_transitions"] == ["submitted", "cancelled"]
    assert po["status_history"] == []
    assert [
        (li["item_type"], li["quantity"], li["unit_price"], li["line_total"])
        for li in po["line_items"]
    ] == [
        ("tent-2p", 12, "149.99", "1799.88"),
        ("sleeping-bag", 20, "89.50", "1790.00"),
    ]
    assert {li["location_id"] for li in po["line_items"]} == {str(LOCATION)}
    assert response["Location"] == f"/purchase-orders/{po['po_id']}"
    assert response["ETag"] == '"1"'
    stored = PurchaseOrder.objects.get(pk=po["po_id"])
    assert stored.total_amount == Decimal("3589.88")
    assert stored.currency == "EUR"
    assert stored.version == 1
    assert list(stored.line_items.values_list("line_number", flat=True)) == [1, 2]


def test_create_defaults_currency_to_usd_and_allows_an_empty_draft(clerk, supplier):
    response = clerk.post(
        "/purchase-orders",
        {"supplier_id": str(supplier.supplier_id), "line_items": []},
        format="json",
    )
    assert response.status_code == 201
    po = response.json()
    assert po["currency"] == "USD"
    assert po["total_amount"] == "0.00"
    assert po["available_transitions"] == ["cancelled"]


def test_create_total_may_reach_the_column_maximum(clerk, supplier):
    body = {
        "supplier_id": str(supplier.supplier_id),
        "line_items": [line(unit_price="99999999.99", quantity=1)],
    }
    response = clerk.post("/purchase-orders", body, format="json")
    assert response.status_code == 201
    assert response.json()["total_amount"] == "99999999.99"


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([line(quantity=1_000_000, unit_price="100.00")], "line_items"),
        (
            [line(quantity=1, unit_price="99999999.99"), line(quantity=1, unit_price="0.01")],
            "line_items",
        ),
        ([line(quantity=0)], "line_items.0.quantity"),
        ([line(quantity=-1)], "line_items.0.quantity"),
        ([line(quantity=1_000_001)], "line_items.0.quantity"),
        ([line(quantity=1.5)], "line_items.0.quantity"),
        ([line(quantity="many")], "line_items.0.quantity"),
        ([line(), line(unit_price="-0.01")], "line_items.1.unit_price"),
        ([line(unit_price="1.001")], "line_items.0.unit_price"),
        ([line(unit_price="cheap")], "line_items.0.unit_price"),
        ([line(unit_price="NaN")], "line_items.0.unit_price"),
        ([line(unit_price="100000000.00")], "line_items.0.unit_price"),
        ([line(item_type="")], "line_items.0.item_type"),
        ([line(item_type="   ")], "line_items.0.item_type"),
        ([line(item_type="x" * 51)], "line_items.0.item_type"),
        ([line(location_id="nowhere")], "line_items.0.location_id"),
        ([{"item_type": "tent", "quantity": 1, "unit_price": "1.00"}], "line_items.0.location_id"),
        (["tent"], "line_items.0.non_field_errors"),
        ("tent", "line_items.non_field_errors"),
        (None, "line_items"),
    ],
)
def test_create_rejects_bad_lines_naming_the_field(clerk, supplier, lines, field):
    body = {"supplier_id": str(supplier.supplier_id), "line_items": lines}
    response = clerk.post("/purchase-orders", body, format="json")

    assert response.status_code == 400, response.json()
    error = response.json()
    assert error["status"] == 400
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert PurchaseOrder.objects.count() == 0
    assert POLineItem.objects.count() == 0


def test_create_rejects_more_than_500_lines(clerk, supplier):
    body = {"supplier_id": str(supplier.supplier_id), "line_items": [line()] * 501}
    response = clerk.post("/purchase-orders", body, format="json")
    assert response.status_code == 400
    assert any(name.startswith("line_items") for name in response.json()["fields"])
    assert PurchaseOrder.objects.count() == 0


def test_create_requires_supplier_and_line_items(clerk):
    response = clerk.post("/purchase-orders", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"supplier_id", "line_items"}


@pytest.mark.parametrize("case", ["unknown", "inactive", "not-a-uuid"])
def test_create_rejects_unknown_or_inactive_supplier(clerk, case):
    supplier_id = {
        "unknown": str(uuid.uuid4()),
        "inactive": str(SupplierFactory(active=False).supplier_id),
        "not-a-uuid": "acme",
    }[case]
    response = clerk.post(
        "/purchase-orders", {"supplier_id": supplier_id, "line_items": [line()]}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["supplier_id"]
    assert PurchaseOrder.objects.count() == 0


@pytest.mark.parametrize("currency", ["ZZZ", "US", "USDD", "XXX", "", "€", 840, None])
def test_create_rejects_a_currency_that_is_not_iso_4217(clerk, supplier, currency):
    body = {"supplier_id": str(supplier.supplier_id), "currency": currency, "line_items": []}
    response = clerk.post("/purchase-orders", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["currency"]
    assert PurchaseOrder.objects.count() == 0


def test_create_ignores_server_computed_fields(clerk, supplier):
    body = {
        "supplier_id": str(supplier.supplier_id),
        "line_items": [line(quantity=2, unit_price="5.00")],
        "total_amount": "1.00",
        "status": "approved",
        "created_by": "someone-else",
    }
    po = clerk.post("/purchase-orders", body, format="json").json()
    assert (po["total_amount"], po["status"], po["created_by"]) == ("10.00", "draft", "clerk")


def test_create_needs_credentials_and_the_add_permission(
    anon_client, reader_client, approver, supplier
):
    body = {"supplier_id": str(supplier.supplier_id), "line_items": [line()]}
    assert anon_client.post("/purchase-orders", body, format="json").status_code == 401
    for client in (reader_client, approver):
        response = client.post("/purchase-orders", body, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert PurchaseOrder.objects.count() == 0


def test_create_malformed_json_is_400(clerk):
    response = clerk.post("/purchase-orders", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


# --- GET /purchase-orders/{po_id} -----------------------------------------------------------


def test_get_returns_the_po_with_an_etag(create_po, reader_client):
    created = create_po()
    response = reader_client.get(f"/purchase-orders/{created['po_id']}")

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["po_id"] == created["po_id"]
    assert list(body) == [
        "po_id",
        "supplier_id",
        "status",
        "total_amount",
        "currency",
        "approved_by",
        "submitted_at",
        "approved_at",
        "created_at",
        "created_by",
        "expected_delivery_date",
        "received_at",
        "sent_to_supplier_at",
        "is_overdue",
        "available_transitions",
        "approvals",
        "line_items",
        "status_history",
        "receipt_status",
        "receipts",
    ]
    assert list(body["line_items"][0])[-2:] == ["quantity_received", "quantity_open"]
    assert (body["receipt_status"], body["receipts"]) == ("none", [])
    # A reader may change nothing.
    assert body["available_transitions"] == []


@pytest.mark.parametrize("po_id", [None, "not-a-uuid", "123", "0" * 33])
def test_get_unknown_or_malformed_id_is_json_404(reader_client, po_id):
    response = reader_client.get(f"/purchase-orders/{po_id or uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["status"] == 404
    assert response.json()["code"] == "not_found"


def test_get_needs_credentials(anon_client, create_po):
    po = create_po()
    assert anon_client.get(f"/purchase-orders/{po['po_id']}").status_code == 401


def test_get_accepts_an_upper_case_id(create_po, reader_client):
    po = create_po()
    assert reader_client.get(f"/purchase-orders/{po['po_id'].upper()}").status_code == 200


def test_get_query_count_equal_for_2_and_200_lines(approver, po_in):
    small, large = po_in("submitted", lines=2), po_in("submitted", lines=200)
    counts = []
    for po in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert approver.get(f"/purchase-orders/{po.po_id}").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_available_transitions_depend_on_the_user(make_client, po_in, clerk, approver):
    po = po_in("submitted")
    own = po_in("submitted", created_by="approver")

    def transitions(client, p):
        return client.get(f"/purchase-orders/{p.po_id}").json()["available_transitions"]

    assert transitions(clerk, po) == ["cancelled"]
    assert transitions(approver, po) == ["approved", "rejected", "cancelled"]
    # Nobody approves their own PO.
    assert transitions(approver, own) == ["cancelled"]


# --- GET /purchase-orders -----------------------------------------------------------------


def test_list_is_paginated_and_newest_first(reader_client, po_in):
    pos = [po_in("draft") for _ in range(3)]
    for offset, po in enumerate(pos):
        PurchaseOrder.objects.filter(pk=po.pk).update(
            created_at=datetime(2025, 1, 1 + offset, tzinfo=UTC)
        )
    body = reader_client.get("/purchase-orders", {"page_size": 2}).json()
    assert body["count"] == 3
    assert [p["po_id"] for p in body["results"]] == [str(pos[2].po_id), str(pos[1].po_id)]
    assert body["next"] is not None
    second = reader_client.get("/purchase-orders", {"page_size": 2, "page": 2}).json()
    assert [p["po_id"] for p in second["results"]] == [str(pos[0].po_id)]


@pytest.mark.parametrize("value", ["submitted", "SUBMITTED", "Submitted"])
def test_list_filters_by_status_in_any_case(reader_client, po_in, value):
    po_in("draft")
    submitted = po_in("submitted")
    results = reader_client.get("/purchase-orders", {"status": value}).json()["results"]
    assert [p["po_id"] for p in results] == [str(submitted.po_id)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"supplier_id": "acme"}, "supplier_id"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2025-13-01"}, "created_before"),
    ],
)
def test_list_rejects_bad_filters(reader_client, params, field):
    response = reader_client.get("/purchase-orders", params)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_list_filters_by_supplier(reader_client, po_in, supplier, clerk):
    other = SupplierFactory()
    po_in("draft")
    response = clerk.post(
        "/purchase-orders",
        {"supplier_id": str(other.supplier_id), "line_items": []},
        format="json",
    )
    results = reader_client.get("/purchase-orders", {"supplier_id": str(other.supplier_id)})
    assert [p["po_id"] for p in results.json()["results"]] == [response.json()["po_id"]]


def test_list_filters_by_creation_range(reader_client, po_in):
    by_day = {}
    for day in (1, 2, 3):
        po = po_in("draft")
        PurchaseOrder.objects.filter(pk=po.pk).update(
            created_at=datetime(2025, 3, day, 12, tzinfo=UTC)
        )
        by_day[day] = str(po.po_id)

    def ids(**params):
        return [p["po_id"] for p in reader_client.get("/purchase-orders", params).json()["results"]]

    assert ids(created_after="2025-03-02") == [by_day[3], by_day[2]]
    assert ids(created_before="2025-03-02T12:00:00Z") == [by_day[1]]
    assert ids(created_after="2025-03-02", created_before="2025-03-03") == [by_day[2]]


def test_list_ordering(reader_client, clerk, supplier):
    for price in ("5.00", "1.00", "3.00"):
        clerk.post(
            "/purchase-orders",
            {
                "supplier_id": str(supplier.supplier_id),
                "line_items": [line(quantity=1, unit_price=price)],
            },
            format="json",
        )
    results = reader_client.get("/purchase-orders", {"ordering": "total_amount"}).json()["results"]
    assert [p["total_amount"] for p in results] == ["1.00", "3.00", "5.00"]


def test_list_query_count_does_not_grow_with_orders_or_lines(approver, po_in):
    po_in("submitted", lines=2)
    with CaptureQueriesContext(connection) as few:
        assert approver.get("/purchase-orders").status_code == 200
    for _ in range(10):
        po_in("submitted", lines=30)
    with CaptureQueriesContext(connection) as many:
        body = approver.get("/purchase-orders").json()
    assert body["count"] == 11
    assert all(p["available_transitions"] for p in body["results"])
    assert len(many) == len(few)


# --- PATCH: edits --------------------------------------------------------------------------


def test_patch_edits_a_draft_and_recomputes_the_total(clerk, create_po):
    po = create_po()
    other = SupplierFactory()
    old_line_ids = {li["line_item_id"] for li in po["line_items"]}
    response = patch(
        clerk,
        po["po_id"],
        {
            "supplier_id": str(other.supplier_id),
            "currency": "gbp",
            "line_items": [line("kayak", 2, "799.00"), line("paddle", 4, "45.25")],
        },
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["supplier_id"] == str(other.supplier_id)
    assert body["currency"] == "GBP"
    assert body["total_amount"] == "1779.00"
    assert [li["item_type"] for li in body["line_items"]] == ["kayak", "paddle"]
    assert not old_line_ids & {li["line_item_id"] for li in body["line_items"]}
    assert response["ETag"] == '"2"'
    stored = PurchaseOrder.objects.get(pk=po["po_id"])
    assert (stored.total_amount, stored.version) == (Decimal("1779.00"), 2)
    assert POLineItem.objects.filter(purchase_order=stored).count() == 2
    assert stored.status_history.count() == 0


def test_patch_edits_and_submits_in_one_request(clerk, create_po):
    po = create_po(line_items=[])
    body = move(clerk, po["po_id"], "submitted", line_items=[line(quantity=2)])
    assert body["status"] == "submitted"
    assert body["total_amount"] == "20.00"


def test_patch_is_all_or_nothing(clerk, create_po):
    """Emptying the lines and submitting fails on the submission; the edit is undone too."""
    po = create_po(line_items=[line()])
    response = patch(
        clerk, po["po_id"], {"currency": "EUR", "line_items": [], "status": "submitted"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    stored = PurchaseOrder.objects.get(pk=po["po_id"])
    assert (stored.status, stored.currency, stored.version) == ("draft", "USD", 1)
    assert stored.line_items.count() == 1


@pytest.mark.parametrize(
    "status", ["submitted", "approved", "shipped", "received", "rejected", "cancelled"]
)
@pytest.mark.parametrize(
    "edit",
    [{"currency": "EUR"}, {"line_items": [line(quantity=9)]}, {"supplier_id": "SUPPLIER"}],
)
def test_patch_edits_after_draft_are_409(clerk, po_in, supplier, status, edit):
    po = po_in(status)
    if "supplier_id" in edit:
        edit = {"supplier_id": str(SupplierFactory().supplier_id)}
    response = patch(clerk, po.po_id, edit)

    assert response.status_code == 409
    assert response.json()["code"] == "not_editable"
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.currency, stored.supplier_id, stored.version) == (
        "USD",
        supplier.supplier_id,
        po.version,
    )
    assert [li.quantity for li in stored.line_items.all()] == [1]


def test_patch_edit_validates_like_create(clerk, create_po):
    po = create_po()
    for body, field in [
        ({"currency": "ABC"}, "currency"),
        ({"supplier_id": str(uuid.uuid4())}, "supplier_id"),
        ({"supplier_id": str(SupplierFactory(active=False).supplier_id)}, "supplier_id"),
        ({"line_items": [line(quantity=0)]}, "line_items.0.quantity"),
        ({"line_items": [line(quantity=1_000_000, unit_price="1000.00")]}, "line_items"),
    ]:
        response = patch(clerk, po["po_id"], body)
        assert response.status_code == 400, body
        assert field in response.json()["fields"]
    assert PurchaseOrder.objects.get(pk=po["po_id"]).version == 1


def test_patch_with_nothing_to_change_is_400(clerk, create_po):
    po = create_po()
    for body in ({}, {"total_amount": "1.00"}, {"reason": "just because"}):
        response = patch(clerk, po["po_id"], body)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid"
    assert PurchaseOrder.objects.get(pk=po["po_id"]).version == 1


@pytest.mark.parametrize("status", ["lost", "", "APPROVE", 3, None])
def test_patch_unknown_status_is_400(clerk, create_po, status):
    po = create_po()
    response = patch(clerk, po["po_id"], {"status": status})
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["status"]
    assert PurchaseOrder.objects.get(pk=po["po_id"]).status == "draft"


@pytest.mark.parametrize("po_id", ["not-a-uuid", str(uuid.uuid4())])
def test_patch_unknown_or_malformed_id_is_json_404(clerk, po_id):
    response = patch(clerk, po_id, {"status": "submitted"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_patch_needs_the_change_permission(reader_client, anon_client, create_po):
    po = create_po()
    assert patch(anon_client, po["po_id"], {"status": "cancelled"}).status_code == 401
    response = patch(reader_client, po["po_id"], {"status": "cancelled"})
    assert response.status_code == 403
    assert PurchaseOrder.objects.get(pk=po["po_id"]).status == "draft"


# --- ETag / If-Match -------------------------------------------------------------------------


def test_etag_changes_with_every_change(clerk, approver, warehouse, create_po, reader_client):
    po = create_po()
    po_id = po["po_id"]
    seen = [reader_client.get(f"/purchase-orders/{po_id}")["ETag"]]
    steps = [
        (clerk, {"currency": "EUR"}),
        (clerk, {"line_items": [line(quantity=5)]}),
        (clerk, {"status": "submitted"}),
        (approver, {"status": "approved"}),
        (warehouse, {"status": "shipped"}),
        (warehouse, {"status": "received"}),
    ]
    for client, body in steps:
        response = patch(client, po_id, body, if_match=seen[-1])
        assert response.status_code == 200, response.json()
        assert response["ETag"] == reader_client.get(f"/purchase-orders/{po_id}")["ETag"]
        seen.append(response["ETag"])
    assert len(set(seen)) == len(seen) == 7


def test_stale_if_match_is_412_and_changes_nothing(clerk, create_po):
    po = create_po()
    first = clerk.get(f"/purchase-orders/{po['po_id']}")["ETag"]
    assert patch(clerk, po["po_id"], {"currency": "EUR"}, if_match=first).status_code == 200

    response = patch(clerk, po["po_id"], {"line_items": [], "status": "cancelled"}, if_match=first)

    assert response.status_code == 412
    assert response.json()["code"] == "precondition_failed"
    stored = PurchaseOrder.objects.get(pk=po["po_id"])
    assert (stored.status, stored.currency, stored.version) == ("draft", "EUR", 2)
    assert stored.line_items.count() == 1
    assert stored.status_history.count() == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"1"', 200),
        ("*", 200),
        ('"7", "1"', 200),
        ('"7", ,"1"', 200),
        (' \t"1" ', 200),
        ('W/"1"', 412),
        ('"2"', 412),
        # RFC 9110's #entity-tag list may be empty: valid, naming no version, so never matching.
        ("", 412),
        (" , ", 412),
        # Not the list syntax at all: a 400 naming the header.
        ("1", 400),
        ("garbage", 400),
        ('"1" "2"', 400),
        ('*, "1"', 400),
    ],
)
def test_if_match_forms(clerk, create_po, header, expected):
    po = create_po()
    response = patch(clerk, po["po_id"], {"status": "submitted"}, if_match=header)
    assert response.status_code == expected
    if expected == 400:
        assert response.json()["code"] == "invalid_header"
        assert "If-Match" in response.json()["fields"]
    if expected != 200:
        assert PurchaseOrder.objects.get(pk=po["po_id"]).status == "draft"


def test_if_match_on_an_unknown_po_is_404(clerk):
    assert patch(clerk, uuid.uuid4(), {"status": "submitted"}, if_match='"1"').status_code == 404


# --- OpenAPI -------------------------------------------------------------------------------


def test_openapi_documents_the_purchase_order_operations(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    listing = schema["paths"]["/purchase-orders"]
    detail = schema["paths"]["/purchase-orders/{po_id}"]

    # The statuses of each operation are pinned once, in tests/api/test_schema.py.
    assert set(listing["post"]["responses"]) == OPERATIONS[("/purchase-orders", "post")]
    assert set(detail["patch"]["responses"]) == OPERATIONS[("/purchase-orders/{po_id}", "patch")]
    assert set(detail["get"]["responses"]) == OPERATIONS[("/purchase-orders/{po_id}", "get")]
    for operation in (listing["post"], detail["patch"]):
        assert operation["requestBody"]["content"]["application/json"]["examples"]
    assert "ETag" in detail["get"]["responses"]["200"]["headers"]
    assert "ETag" in detail["patch"]["responses"]["200"]["headers"]
    if_match = [p for p in detail["patch"]["parameters"] if p["name"] == "If-Match"]
    assert if_match and if_match[0]["in"] == "header"
    error = detail["patch"]["responses"]["412"]["content"]["application/json"]["schema"]
    assert error["$ref"].endswith("/Error")

    request_ref = detail["patch"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schema["components"]["schemas"][request_ref.rsplit("/", 1)[1]]
    status = request["properties"]["status"]
    enum_ref = status.get("$ref") or status["allOf"][0]["$ref"]
    enum = schema["components"]["schemas"][enum_ref.rsplit("/", 1)[1]]["enum"]
    assert set(enum) == {
        "draft",
        "submitted",
        "approved",
        "shipped",
        "received",
        "rejected",
        "cancelled",
    }
    assert set(
        listing["get"]["parameters"][i]["name"] for i in range(len(listing["get"]["parameters"]))
    ) >= {
        "status",
        "supplier_id",
        "created_after",
        "created_before",
        "ordering",
        "page",
        "page_size",
    }
