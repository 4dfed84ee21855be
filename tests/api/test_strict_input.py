"""Input the OpenAPI document calls invalid is a 400 naming it (never coerced, never a 500).

Each case here is something the schemathesis run (tests/fuzz) found the service accepting, or
failing on, before it was fixed.
"""

import uuid

import pytest

from procurement.models import POStatus, PurchaseOrder
from stock.models import StockAdjustment
from suppliers.models import Supplier
from tests.factories import POLineItemFactory, PurchaseOrderFactory, SupplierFactory
from tests.stock.factories import stocked_level

pytestmark = pytest.mark.django_db

SUPPLIER = {
    "name": "Alpine Outfitters",
    "contact_email": "orders@alpine.example.com",
    "lead_time_days": 10,
    "rating": "4.25",
}


def line(**overrides):
    return {
        "item_type": "tent-2p",
        "location_id": str(uuid.uuid4()),
        "quantity": 2,
        "unit_price": "149.99",
        **overrides,
    }


def assert_400_naming(response, field):
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["status"], body["code"]) == (400, "invalid")
    assert field in body["fields"], body


# --- JSON types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 42),
        ("contact_email", ["orders@alpine.example.com"]),
        ("lead_time_days", "10"),
        ("lead_time_days", 10.0),
        ("lead_time_days", True),
        ("rating", 4.25),
        ("rating", 4),
        ("rating", ""),
        ("rating", " 4.25"),
        ("rating", "4.25e0"),
        ("rating", "5.5"),
        ("active", 0),
        ("active", "true"),
        ("name", "x" * 199 + "  "),
        ("name", "Alpine\x00"),
        ("name", "\x1c\u3000"),
    ],
)
def test_supplier_fields_take_only_the_documented_json(admin_client_api, field, value):
    response = admin_client_api.post("/suppliers", {**SUPPLIER, field: value}, format="json")

    assert_400_naming(response, field)
    assert not Supplier.objects.exists()


def test_supplier_documented_forms_are_accepted(admin_client_api):
    body = {**SUPPLIER, "rating": "5", "active": False, "name": "  Alpine  "}
    response = admin_client_api.post("/suppliers", body, format="json")

    assert response.status_code == 201, response.json()
    assert (response.json()["rating"], response.json()["name"]) == ("5.00", "Alpine")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unit_price": 0}, "line_items.0.unit_price"),
        ({"unit_price": 149.99}, "line_items.0.unit_price"),
        ({"unit_price": "1e2"}, "line_items.0.unit_price"),
        ({"unit_price": "1_000"}, "line_items.0.unit_price"),
        ({"quantity": "2"}, "line_items.0.quantity"),
        ({"item_type": 7}, "line_items.0.item_type"),
        (
            {"location_id": "{" + "0" * 8 + "-0000-0000-0000-" + "0" * 12 + "}"},
            "line_items.0.location_id",
        ),
        ({"location_id": "0" * 32}, "line_items.0.location_id"),
    ],
)
def test_line_item_fields_take_only_the_documented_json(admin_client_api, overrides, field):
    supplier = SupplierFactory()
    body = {"supplier_id": str(supplier.supplier_id), "line_items": [line(**overrides)]}

    assert_400_naming(admin_client_api.post("/purchase-orders", body, format="json"), field)
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("currency", [" usd", "usd ", 840, "US"])
def test_currency_is_three_letters_exactly(admin_client_api, currency):
    supplier = SupplierFactory()
    body = {"supplier_id": str(supplier.supplier_id), "currency": currency, "line_items": []}

    assert_400_naming(admin_client_api.post("/purchase-orders", body, format="json"), "currency")


@pytest.mark.parametrize(
    ("field", "value"),
    [("note", 0), ("quantity_delta", "3"), ("reason", 1), ("stock_id", 1), ("item_type", True)],
)
def test_adjustment_fields_take_only_the_documented_json(admin_client_api, field, value):
    level = stocked_level(5)
    body = {"stock_id": str(level.stock_id), "reason": "receipt", "quantity_delta": 3}
    if field == "item_type":
        body = {"location_id": str(level.location_id), "reason": "receipt", "quantity_delta": 3}
    response = admin_client_api.post("/stock-adjustments", {**body, field: value}, format="json")

    assert_400_naming(response, field)
    assert StockAdjustment.objects.count() == 1  # the stocking receipt only


def test_patch_status_must_be_a_string(admin_client_api):
    po = PurchaseOrderFactory()

    response = admin_client_api.patch(f"/purchase-orders/{po.po_id}", {"status": 1}, format="json")

    assert_400_naming(response, "status")


# --- Query parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/suppliers", "/purchase-orders", "/stock-levels"])
@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("page", "0"),
        ("page", "x"),
        ("page", "last"),
        ("page", " 1"),
        ("page_size", "0"),
        ("page_size", "null"),
        ("page_size", "-5"),
        ("ordering", ""),
        ("ordering", " -created_at"),
        ("ordering", "created_at,,created_at"),
        ("ordering", "created_at,"),
        ("ordering", "nope"),
    ],
)
def test_bad_paging_and_ordering_are_400_naming_them(reader_client, path, param, value):
    assert_400_naming(reader_client.get(path, {param: value}), param)


def test_page_size_above_500_is_served_as_500_and_a_huge_page_is_404(reader_client):
    SupplierFactory.create_batch(2)

    assert reader_client.get("/suppliers", {"page_size": "9" * 30}).json()["count"] == 2
    response = reader_client.get("/suppliers", {"page": "9" * 5000})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/purchase-orders", "supplier_id"),
        ("/purchase-orders", "status"),
        ("/purchase-orders", "created_after"),
        ("/purchase-orders", "overdue"),
        ("/suppliers", "active"),
        ("/stock-levels", "location_id"),
        ("/stock-levels", "below_reorder_point"),
        ("/reorder-alerts", "location_id"),
    ],
)
def test_an_empty_filter_value_is_400_not_no_filter(reader_client, path, param):
    assert_400_naming(reader_client.get(path, {param: ""}), param)


def test_free_text_filters_may_be_empty_but_not_hold_nul(reader_client):
    SupplierFactory(name="Alpine")

    assert reader_client.get("/suppliers", {"search": ""}).json()["count"] == 1
    assert reader_client.get("/stock-levels", {"item_type": ""}).status_code == 200
    assert_400_naming(reader_client.get("/suppliers", {"search": "a\x00"}), "search")


@pytest.mark.parametrize(
    "value",
    [
        "{" + str(uuid.uuid4()) + "}",
        uuid.uuid4().hex,
        f"urn:uuid:{uuid.uuid4()}",
        f" {uuid.uuid4()}",
    ],
)
def test_uuid_filters_take_the_canonical_form_only(reader_client, value):
    assert_400_naming(reader_client.get("/purchase-orders", {"supplier_id": value}), "supplier_id")


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("2020-01-01", 1),
        ("2020-01-01T00:00:00Z", 1),
        ("2020-01-01t00:00:00.5z", 1),
        # RFC 3339 allows offsets up to 23:59; PostgreSQL only to 15:59 (was a 500).
        ("4244-05-07T21:32:17.0944-17:05", 0),
        ("0634-11-01T05:18:44+20:38", 1),
        ("0001-01-01T00:00:00+05:00", 1),
        ("9999-12-31T23:59:59-23:59", 0),
    ],
)
def test_created_after_takes_rfc3339_date_times_and_dates(reader_client, value, count):
    PurchaseOrderFactory()

    response = reader_client.get("/purchase-orders", {"created_after": value})

    assert response.status_code == 200, response.json()
    assert response.json()["count"] == count


@pytest.mark.parametrize(
    "value", ["2020-01-01T00:00:00", "2020-01-01 00:00Z", "20200101", "2020-02-30"]
)
def test_created_after_without_offset_or_malformed_is_400(reader_client, value):
    assert_400_naming(
        reader_client.get("/purchase-orders", {"created_after": value}), "created_after"
    )


# --- Purchase order ids, If-Match, error bodies --------------------------------------------------


@pytest.mark.parametrize(
    "form",
    [lambda i: "{" + str(i) + "}", lambda i: i.hex, lambda i: f"urn:uuid:{i}"],
    ids=["braces", "hex", "urn"],
)
def test_a_po_id_not_in_canonical_form_is_404(reader_client, form):
    po = PurchaseOrderFactory()

    response = reader_client.get(f"/purchase-orders/{form(po.po_id)}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert reader_client.get(f"/purchase-orders/{str(po.po_id).upper()}").status_code == 200


def test_an_if_match_with_a_huge_number_is_412_not_500(admin_client_api):
    po = PurchaseOrderFactory()
    POLineItemFactory(purchase_order=po)

    response = admin_client_api.patch(
        f"/purchase-orders/{po.po_id}",
        {"status": "submitted"},
        format="json",
        HTTP_IF_MATCH=f'"{"9" * 5000}"',
    )

    assert response.status_code == 412
    assert PurchaseOrder.objects.get(pk=po.po_id).status == POStatus.DRAFT


def test_not_editable_409_keeps_its_status_and_names_the_current_one(admin_client_api):
    po = PurchaseOrderFactory()
    POLineItemFactory(purchase_order=po)
    admin_client_api.patch(f"/purchase-orders/{po.po_id}", {"status": "cancelled"}, format="json")

    response = admin_client_api.patch(
        f"/purchase-orders/{po.po_id}", {"currency": "EUR"}, format="json"
    )

    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "code": "not_editable",
        "message": "A cancelled purchase order cannot be edited; only a draft can.",
        "current_status": "cancelled",
    }


def test_a_body_that_is_not_json_is_415_with_the_error_shape(admin_client_api):
    response = admin_client_api.post(
        "/suppliers", data="name=Alpine", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    assert not Supplier.objects.exists()


# --- Full-match patterns: what the OpenAPI pattern refuses, the server refuses --------------------


@pytest.mark.parametrize("currency", ["usd\n", "USD\n", "\nusd"])
def test_a_currency_with_a_newline_is_400(admin_client_api, currency):
    supplier = SupplierFactory()
    body = {"supplier_id": str(supplier.supplier_id), "currency": currency, "line_items": []}

    assert_400_naming(admin_client_api.post("/purchase-orders", body, format="json"), "currency")
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("price", ["1.50\n", "1.50\r\n", "1.50 "])
def test_a_price_with_a_trailing_newline_is_400(admin_client_api, price):
    supplier = SupplierFactory()
    body = {"supplier_id": str(supplier.supplier_id), "line_items": [line(unit_price=price)]}

    assert_400_naming(
        admin_client_api.post("/purchase-orders", body, format="json"), "line_items.0.unit_price"
    )
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("rating", ["4.25\n", "5\n"])
def test_a_rating_with_a_trailing_newline_is_400(admin_client_api, rating):
    response = admin_client_api.post("/suppliers", {**SUPPLIER, "rating": rating}, format="json")

    assert_400_naming(response, "rating")
    assert not Supplier.objects.exists()
