"""Conditional GET (procurement_site.api.conditional): every list and detail read answers an
``ETag``; ``If-None-Match`` naming it is a 304 with no body, answered without building the body,
and any change that the body would show changes the ETag."""

import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.models import WebhookSubscription
from procurement.models import PurchaseOrder
from procurement.views import PurchaseOrderDetailView
from stock import services as stock_services
from stock.models import AdjustmentReason
from stock.views import StockLevelListView
from suppliers import services as supplier_services
from tests.api.test_schema import OPERATIONS
from tests.conftest import ALL_PERMS, client_for
from tests.factories import SupplierFactory, UserFactory
from tests.procurement.conftest import CLERK_PERMS, line, move
from tests.stock.factories import stocked_level

WEAK = re.compile(r'W/"[0-9a-f]{32}"')
WEBHOOK_PERMS = [*ALL_PERMS, "integrations.manage_webhooks"]


@pytest.fixture
def operator(make_client):
    return make_client("operator", perms=WEBHOOK_PERMS)


def get(client, path, if_none_match=None, **extra):
    if if_none_match is not None:
        extra["HTTP_IF_NONE_MATCH"] = if_none_match
    return client.get(path, **extra)


def etag_of(client, path):
    response = get(client, path)
    assert response.status_code == 200, response.content
    return response["ETag"]


def counted(client, path, if_none_match=None):
    with CaptureQueriesContext(connection) as queries:
        response = get(client, path, if_none_match)
    return response, len(queries)


def create_po(client, supplier, **overrides):
    body = {"supplier_id": str(supplier.supplier_id), "line_items": [line()], **overrides}
    response = client.post("/purchase-orders", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def add_rows(kind, n):
    """``n`` more rows of the list ``kind``."""
    for _ in range(n):
        if kind == "/suppliers":
            SupplierFactory()
        elif kind == "/supplier-items":
            supplier_services.create_supplier_item(
                supplier_id=SupplierFactory().supplier_id,
                item_type=f"tent-{uuid.uuid4().hex[:8]}",
                unit_price=Decimal("10.00"),
            )
        elif kind in ("/stock-levels", "/reorder-alerts"):
            stocked_level(quantity=1)  # below its point of 5: an open alert
        elif kind == "/purchase-orders":
            supplier = SupplierFactory()
            clerk = UserFactory(perms=CLERK_PERMS)
            po = create_po(client_for(clerk), supplier)
            move(client_for(clerk), po["po_id"], "submitted")
        else:
            WebhookSubscription.objects.create(
                url=f"https://hooks.example.com/{uuid.uuid4()}", event_types=["novatrek."]
            )


LISTS = [
    "/suppliers",
    "/supplier-items",
    "/stock-levels",
    "/reorder-alerts",
    "/purchase-orders",
    "/webhook-subscriptions",
]


# --- Every list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", LISTS)
def test_a_list_answers_a_stable_weak_etag_and_304_on_it(operator, path):
    add_rows(path, 2)
    first = get(operator, path)
    assert first.status_code == 200
    assert WEAK.fullmatch(first["ETag"])
    assert first["Cache-Control"] == "private, no-cache"
    assert get(operator, path)["ETag"] == first["ETag"]

    not_modified = get(operator, path, first["ETag"])
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == first["ETag"]
    assert not_modified["Cache-Control"] == "private, no-cache"
    assert "Content-Type" not in not_modified


@pytest.mark.parametrize("path", LISTS)
def test_star_lists_and_weak_comparison(operator, path):
    add_rows(path, 1)
    tag = etag_of(operator, path)
    opaque = tag.removeprefix("W/")
    assert get(operator, path, "*").status_code == 304
    assert get(operator, path, f'"nope", {tag}').status_code == 304
    assert get(operator, path, f'W/"nope" ,{opaque}').status_code == 304  # weak comparison
    mismatch = get(operator, path, 'W/"0123456789abcdef0123456789abcdef", "1"')
    assert mismatch.status_code == 200
    assert mismatch.json()["count"] == 1
    assert mismatch["ETag"] == tag
    # Not an entity tag: it names none, and the GET is answered in full.
    assert get(operator, path, "garbage").status_code == 200
    assert get(operator, path, "").status_code == 200


@pytest.mark.parametrize("path", LISTS)
def test_a_304_costs_fewer_queries_than_the_200_whatever_the_page(operator, path):
    add_rows(path, 2)
    small, small_queries = counted(operator, path)
    _, small_304 = counted(operator, path, small["ETag"])
    add_rows(path, 6)
    large, large_queries = counted(operator, path)
    not_modified, large_304 = counted(operator, path, large["ETag"])
    assert not_modified.status_code == 304
    assert large.json()["count"] == 8
    assert small_304 == large_304 < min(small_queries, large_queries)


@pytest.mark.parametrize("path", LISTS)
def test_a_new_row_the_page_size_and_page_2_change_the_etag(operator, path):
    add_rows(path, 3)
    seen = {
        etag_of(operator, path),
        etag_of(operator, f"{path}?page_size=2"),
        etag_of(operator, f"{path}?page_size=2&page=2"),
    }
    assert len(seen) == 3
    page_2 = etag_of(operator, f"{path}?page_size=2&page=2")
    add_rows(path, 1)
    # Page 2 now holds the new row (or one pushed onto it), and every page's count changed.
    assert etag_of(operator, f"{path}?page_size=2&page=2") != page_2
    assert etag_of(operator, path) not in seen


@pytest.mark.parametrize("path", LISTS)
def test_a_page_past_the_last_and_a_bad_page_are_errors_not_304(operator, path):
    add_rows(path, 1)
    assert get(operator, f"{path}?page=2", "*").status_code == 404
    assert get(operator, f"{path}?page=99999999999999999999", "*").status_code == 404
    assert get(operator, f"{path}?page=zero", "*").status_code == 400
    assert get(operator, f"{path}?ordering=nonsense", "*").status_code == 400


def test_an_empty_list_has_an_etag_and_304s(operator):
    first = get(operator, "/suppliers")
    assert first.json()["count"] == 0
    assert get(operator, "/suppliers", first["ETag"]).status_code == 304
    SupplierFactory()
    assert get(operator, "/suppliers", first["ETag"]).status_code == 200


def test_filters_and_ordering_are_part_of_the_etag(operator):
    add_rows("/suppliers", 2)
    tags = {
        etag_of(operator, "/suppliers"),
        etag_of(operator, "/suppliers?ordering=-name"),
        etag_of(operator, "/suppliers?active=true"),
    }
    assert len(tags) == 3
    assert (
        get(operator, "/suppliers?ordering=-name", etag_of(operator, "/suppliers")).status_code
        == 200
    )


def test_no_304_before_authentication_or_permission(anon_client, reader_client):
    assert get(anon_client, "/suppliers", "*").status_code == 401
    # Reading webhook subscriptions needs integrations.manage_webhooks.
    forbidden = get(reader_client, "/webhook-subscriptions", "*")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "permission_denied"


def test_a_304_never_runs_the_handler(operator, monkeypatch):
    add_rows("/stock-levels", 3)
    tag = etag_of(operator, "/stock-levels")

    def fail(*args, **kwargs):
        raise AssertionError("the body was built")

    monkeypatch.setattr(StockLevelListView, "get", fail)
    monkeypatch.setattr(StockLevelListView, "get_serializer", fail)
    assert get(operator, "/stock-levels", tag).status_code == 304


def test_head_answers_the_same_etag(operator):
    add_rows("/stock-levels", 1)
    tag = etag_of(operator, "/stock-levels")
    assert operator.head("/stock-levels")["ETag"] == tag
    assert operator.head("/stock-levels", HTTP_IF_NONE_MATCH=tag).status_code == 304


# --- What changes a list's ETag ------------------------------------------------------------------


def test_editing_a_supplier_changes_the_etag(operator):
    supplier = SupplierFactory()
    before = etag_of(operator, "/suppliers")
    supplier_services.update_supplier(supplier_id=supplier.supplier_id, lead_time_days=12)
    assert get(operator, "/suppliers", before).status_code == 200
    after = etag_of(operator, "/suppliers")
    supplier_services.update_supplier(supplier_id=supplier.supplier_id, lead_time_days=12)
    assert etag_of(operator, "/suppliers") == after  # nothing changed


def test_a_catalog_entry_shows_its_suppliers_name(operator):
    add_rows("/supplier-items", 1)
    before = etag_of(operator, "/supplier-items")
    [item] = operator.get("/supplier-items").json()["results"]
    supplier_services.update_supplier(supplier_id=item["supplier_id"], name="Renamed Outfitters")
    assert get(operator, "/supplier-items", before).status_code == 200


def test_a_stock_adjustment_changes_the_levels_and_the_alerts(operator):
    level = stocked_level(quantity=1)
    levels, alerts = etag_of(operator, "/stock-levels"), etag_of(operator, "/reorder-alerts")
    stock_services.record_adjustment(
        reason=AdjustmentReason.CONSUMPTION,
        adjusted_by="clerk",
        stock_id=level.stock_id,
        quantity_delta=-1,
    )
    assert get(operator, "/stock-levels", levels).status_code == 200
    assert get(operator, "/reorder-alerts", alerts).status_code == 200


def test_an_alert_opened_or_resolved_changes_the_alerts_etag(operator):
    level = stocked_level(quantity=50)
    none_open = etag_of(operator, "/reorder-alerts")
    stock_services.update_reorder_settings(stock_id=level.stock_id, reorder_point=60)
    opened = get(operator, "/reorder-alerts", none_open)
    assert opened.status_code == 200
    assert opened.json()["count"] == 1
    stock_services.update_reorder_settings(stock_id=level.stock_id, reorder_point=5)
    resolved = get(operator, "/reorder-alerts", opened["ETag"])
    assert resolved.status_code == 200
    assert resolved.json()["count"] == 0
    assert resolved["ETag"] == none_open


def test_goods_ordered_change_the_alerts_quantity_on_order(operator, make_client):
    level = stocked_level(quantity=1)
    before = etag_of(operator, "/reorder-alerts")
    clerk, approver = make_client("clerk", CLERK_PERMS), operator
    po = create_po(
        clerk,
        SupplierFactory(),
        line_items=[line(item_type=level.item_type, location_id=level.location_id, quantity=4)],
    )
    move(clerk, po["po_id"], "submitted")
    assert get(operator, "/reorder-alerts", before).status_code == 304  # not on order yet
    move(approver, po["po_id"], "approved")
    after = get(operator, "/reorder-alerts", before)
    assert after.status_code == 200
    assert after.json()["results"][0]["quantity_on_order"] == 4


def test_a_po_patch_changes_the_po_lists_etag(operator, make_client):
    clerk = make_client("clerk", CLERK_PERMS)
    po = create_po(clerk, SupplierFactory())
    before = etag_of(operator, "/purchase-orders")
    move(clerk, po["po_id"], "submitted")
    assert get(operator, "/purchase-orders", before).status_code == 200


def test_the_po_list_differs_by_user(operator, make_client):
    clerk = make_client("clerk", CLERK_PERMS)
    create_po(clerk, SupplierFactory())
    theirs = get(operator, "/purchase-orders")
    assert theirs["Vary"] == "Authorization, Cookie"
    # Another user's page shows other available_transitions: their ETag is not this one's.
    assert get(clerk, "/purchase-orders", theirs["ETag"]).status_code == 200
    assert get(operator, "/purchase-orders", theirs["ETag"]).status_code == 304


def test_the_po_list_changes_with_a_users_permissions(operator):
    user = UserFactory(perms=["procurement.change_purchaseorder"])
    client = client_for(user)
    add_rows("/purchase-orders", 1)
    before = etag_of(client, "/purchase-orders")
    user.user_permissions.clear()
    assert get(client_for(user), "/purchase-orders", before).status_code == 200


def test_the_po_list_changes_with_the_day(operator, monkeypatch):
    add_rows("/purchase-orders", 1)
    before = etag_of(operator, "/purchase-orders")
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr(timezone, "now", lambda: tomorrow)
    assert get(operator, "/purchase-orders", before).status_code == 200


# --- Details ------------------------------------------------------------------------------------


def test_the_po_detail_keeps_its_version_etag_and_304s_on_it(operator, make_client):
    clerk = make_client("clerk", CLERK_PERMS)
    po = create_po(clerk, SupplierFactory())
    path = f"/purchase-orders/{po['po_id']}"
    first = get(operator, path)
    assert first["ETag"] == '"1"'
    assert first["Cache-Control"] == "private, no-cache"
    assert first["Vary"] == "Authorization, Cookie"
    not_modified = get(operator, path, '"1"')
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert not_modified["ETag"] == '"1"'
    assert not_modified["Vary"] == "Authorization, Cookie"
    assert get(operator, path, 'W/"1"').status_code == 304
    assert get(operator, path, "*").status_code == 304

    move(clerk, po["po_id"], "submitted")
    changed = get(operator, path, '"1"')
    assert changed.status_code == 200
    assert changed["ETag"] == '"2"'
    assert changed.json()["status"] == "submitted"


def test_the_po_detail_304_costs_one_light_query(operator, make_client):
    clerk = make_client("clerk", CLERK_PERMS)
    po = create_po(clerk, SupplierFactory(), line_items=[line(), line(item_type="kayak")])
    path = f"/purchase-orders/{po['po_id']}"
    full, full_queries = counted(operator, path)
    not_modified, few = counted(operator, path, full["ETag"])
    assert not_modified.status_code == 304
    _, unconditional = counted(operator, f"/purchase-orders/{uuid.uuid4()}")
    # Authentication, then the version: one query more than an unknown id's 404.
    assert few == unconditional < full_queries


def test_an_unknown_po_is_404_whatever_if_none_match(operator):
    assert get(operator, f"/purchase-orders/{uuid.uuid4()}", "*").status_code == 404
    assert get(operator, "/purchase-orders/not-a-uuid", "*").status_code == 404


def test_an_overdue_po_is_answered_in_full(operator, make_client, monkeypatch):
    clerk = make_client("clerk", CLERK_PERMS)
    po = create_po(clerk, SupplierFactory())
    for status in ("submitted", "approved"):
        move(operator if status == "approved" else clerk, po["po_id"], status)
    path = f"/purchase-orders/{po['po_id']}"
    tag = etag_of(operator, path)
    assert get(operator, path, tag).status_code == 304
    expected = PurchaseOrder.objects.get(pk=po["po_id"]).expected_delivery_date
    # Past the expected date the body says is_overdue with the same version: no 304 any more.
    later = timezone.now() + (expected - timezone.localdate()) + timedelta(days=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    overdue = get(operator, path, tag)
    assert overdue.status_code == 200
    assert overdue.json()["is_overdue"] is True
    assert overdue["ETag"] == tag


def test_the_po_detail_304_never_builds_the_body(operator, make_client, monkeypatch):
    po = create_po(make_client("clerk", CLERK_PERMS), SupplierFactory())

    def fail(*args, **kwargs):
        raise AssertionError("the body was built")

    monkeypatch.setattr(PurchaseOrderDetailView, "get", fail)
    assert get(operator, f"/purchase-orders/{po['po_id']}", '"1"').status_code == 304


def test_a_catalog_entry_detail(operator):
    add_rows("/supplier-items", 1)
    [item] = operator.get("/supplier-items").json()["results"]
    path = f"/supplier-items/{item['supplier_item_id']}"
    first, full_queries = counted(operator, path)
    assert WEAK.fullmatch(first["ETag"])
    assert first["Cache-Control"] == "private, no-cache"
    not_modified, few = counted(operator, path, first["ETag"])
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert few < full_queries
    supplier_services.update_supplier_item(
        supplier_item_id=item["supplier_item_id"], unit_price=Decimal("11.00")
    )
    assert get(operator, path, first["ETag"]).status_code == 200
    assert get(operator, f"/supplier-items/{uuid.uuid4()}", "*").status_code == 404


def test_the_event_feed_and_the_document_have_no_etag(operator, make_client):
    assert "ETag" not in operator.get("/events")
    po = create_po(make_client("clerk", CLERK_PERMS), SupplierFactory())
    assert "ETag" not in operator.get(f"/purchase-orders/{po['po_id']}/document")


# --- The OpenAPI document -----------------------------------------------------------------------


def test_the_schema_documents_if_none_match_the_etag_and_the_304(db):
    schema = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    conditional = [
        (path, method)
        for path, method in OPERATIONS
        if method == "get" and path not in ("/events", "/purchase-orders/{po_id}/document")
    ]
    assert len(conditional) == 8
    for path, method in conditional:
        op = schema["paths"][path][method]
        [header] = [p for p in op["parameters"] if p["name"] == "If-None-Match"]
        assert (header["in"], header.get("required", False)) == ("header", False)
        etag = op["responses"]["200"]["headers"]["ETag"]
        assert etag["required"] is True
        assert op["responses"]["304"]["headers"]["ETag"] == etag
        assert "content" not in op["responses"]["304"]
        example = '"12"' if path == "/purchase-orders/{po_id}" else f'W/"{"0" * 32}"'
        assert re.fullmatch(etag["schema"]["pattern"], example), path


def test_a_pages_rows_may_be_instances_or_row_tuples_with_named_columns(db):
    from procurement_site.api.conditional import row_values

    level = stocked_level(quantity=3)
    alert_fields = ["stock_id", "stock__item_type"]
    columns = ("alert_id", "stock__item_type", "stock_id")
    alert = level.alerts.select_related("stock").get()
    row = (alert.alert_id, level.item_type, level.stock_id)
    assert (
        row_values(alert_fields)(alert)
        == row_values(alert_fields, columns=columns)(row)
        == (level.stock_id, level.item_type)
    )
    assert row_values(["stock_id"], columns=columns)(row) == (level.stock_id,)
