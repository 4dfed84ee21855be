"""The lean read path (``stock.presenters``, ``procurement.presenters``: plain functions over
rows) answers exactly the bytes that the serializers (``StockLevelSerializer``,
``ReorderAlertSerializer``, ``PurchaseOrderSerializer``, still the schema of these bodies) render
over model instances, on data with every status, nulls, decimals, receipts, calculations and
alerts on order; and its query count does not grow with the page."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework import generics
from rest_framework.test import APIRequestFactory, force_authenticate

from procurement import selectors as po_selectors
from procurement import services as po_services
from procurement.models import PurchaseOrder, in_machine_order
from procurement.serializers import PurchaseOrderSerializer, render_purchase_orders
from procurement.views import PurchaseOrderDetailView, PurchaseOrderListCreateView
from procurement_site.api.renderers import JSONRenderer
from stock import presenters as stock_presenters
from stock import selectors as stock_selectors
from stock import services as stock_services
from stock.models import (
    LeadTimeSource,
    ReorderAlert,
    ReorderPointCalculation,
    SkipReason,
    StockAdjustment,
)
from stock.serializers import StockAdjustmentSerializer
from stock.views import ReorderAlertListView, StockLevelListView
from tests.conftest import ALL_PERMS, client_for
from tests.factories import SupplierFactory, UserFactory
from tests.stock.factories import stocked_level

LOCATION = uuid.UUID("2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b")
ZONES = ["UTC", "America/St_Johns"]


class OldEventSerializer(PurchaseOrderSerializer):
    """How events rendered a PO: ``available_transitions`` whoever acts."""

    def get_available_transitions(self, po):
        return in_machine_order(t.target for t in po.get_available_status_transitions())


class OldStockLevels(StockLevelListView):
    """The list as it was rendered: the serializer over model instances (which predates the
    ETag, computed from the lean path's row tuples), filtered and ordered by the ORM."""

    etag_fields = ()

    def get_queryset(self):
        levels = stock_selectors.list_stock_levels()
        query = self.request.query_params
        if "location_id" in query:
            levels = levels.filter(location_id=query["location_id"])
        if query.get("below_reorder_point") == "true":
            levels = levels.filter(quantity_on_hand__lte=F("reorder_point"))
        return levels.order_by(*query.get("ordering", "item_type,location_id").split(","), "pk")

    def filter_queryset(self, queryset):
        return queryset

    def list(self, request, *args, **kwargs):
        return generics.ListAPIView.list(self, request, *args, **kwargs)


class OldAlerts(ReorderAlertListView):
    """The alerts as they were rendered: the serializer over the ORM's annotated instances."""

    etag_fields = ()

    def get_queryset(self):
        alerts = stock_selectors.list_open_alerts()
        query = self.request.query_params
        if "location_id" in query:
            alerts = alerts.filter(stock__location_id=query["location_id"])
        if "item_type" in query:
            alerts = alerts.filter(stock__item_type=query["item_type"])
        return alerts.order_by(*query.get("ordering", "created_at").split(","), "pk")

    def filter_queryset(self, queryset):
        return queryset

    def list(self, request, *args, **kwargs):
        return generics.ListAPIView.list(self, request, *args, **kwargs)


class OldPurchaseOrders(PurchaseOrderListCreateView):
    def get_queryset(self):
        return po_selectors.list_purchase_orders()

    def list(self, request, *args, **kwargs):
        return generics.ListCreateAPIView.list(self, request, *args, **kwargs)


def _get(view, path, user, **kwargs):
    request = APIRequestFactory().get(path)
    force_authenticate(request, user=user)
    response = view.as_view()(request, **kwargs)
    response.render()
    assert response.status_code == 200, response.content
    return response.content


def _old_detail(po_id, user):
    request = APIRequestFactory().get(f"/purchase-orders/{po_id}")
    request.user = user
    po = po_selectors.get_purchase_order(po_id=po_id)
    return JSONRenderer().render(PurchaseOrderSerializer(po, context={"request": request}).data)


def _calculation(level, **overrides):
    values = {
        "stock": level,
        "computed_at": timezone.now() - timedelta(hours=5, microseconds=123),
        "window_days": 90,
        "history_days": 60,
        "mean_daily_demand": 0.1,
        "demand_stddev": 1.0000001,
        "lead_time_days": 7.5,
        "lead_time_stddev_days": 0.0,
        "lead_time_source": LeadTimeSource.choices[0][0],
        "supplier_id": uuid.uuid4(),
        "review_days": 1,
        "service_level": 0.95,
        "z": 1.6448536269514722,
        "previous_reorder_point": 4,
        "reorder_point": 9,
        "seasonal_base_demand": 2.25,
        "seasonal_trend": 1.1,
        "seasonal_window_total": 31,
    }
    calculation = ReorderPointCalculation.objects.create(**{**values, **overrides})
    level.reorder_calculation = calculation
    level.save(update_fields=["reorder_calculation"])
    return calculation


@pytest.fixture
def world(db, settings):
    """Levels with and without a calculation (one skipped, with nulls), open alerts (some on
    order, one raised to a PO), and POs in every status: lines with cents, edits, one and two
    approvals, receipts (partial, full, closed short), a rejection with its reason, overdue."""
    settings.PO_SECOND_APPROVAL_ABOVE = Decimal("10000.00")
    clerk = UserFactory(username="clerk", perms=ALL_PERMS)
    editor = UserFactory(username="editor", perms=ALL_PERMS)
    approver = UserFactory(username="approver", perms=ALL_PERMS)
    second = UserFactory(username="second", perms=ALL_PERMS)
    operator = UserFactory(username="operator", perms=ALL_PERMS)
    reader = UserFactory(username="reader")
    supplier = SupplierFactory()

    levels = [
        stocked_level(quantity, item_type=f"tent-{index}", location_id=LOCATION, reorder_point=5)
        for index, quantity in enumerate([0, 3, 5, 6, 40, 0, 2])
    ]
    stocked_level(1, item_type="stove", reorder_point=2)
    _calculation(levels[0])
    _calculation(
        levels[1],
        reorder_point=None,
        skipped_reason=SkipReason.choices[0][0],
        supplier_id=None,
        seasonal_base_demand=None,
        seasonal_trend=None,
        seasonal_window_total=None,
    )
    _calculation(levels[4], mean_daily_demand=12345.678901, z=-0.5)

    def create(lines, **kwargs):
        return po_services.create_purchase_order(
            supplier_id=supplier.supplier_id,
            created_by="clerk",
            line_items=[
                {
                    "item_type": item,
                    "location_id": LOCATION,
                    "quantity": quantity,
                    "unit_price": Decimal(price),
                }
                for item, quantity, price in lines
            ],
            **kwargs,
        )

    def move(po, user, *statuses, **kwargs):
        for status in statuses:
            po_services.update_purchase_order(po_id=po.po_id, user=user, status=status, **kwargs)

    create([])
    edited = create([("tent-0", 1, "0.10")], currency="eur")
    po_services.update_purchase_order(
        po_id=edited.po_id,
        user=editor,
        line_items=[
            {
                "item_type": "tent-0",
                "location_id": str(LOCATION),
                "quantity": 2,
                "unit_price": "9.99",
            }
        ],
    )
    move(create([("tent-1", 12, "149.99"), ("kayak", 1, "0.00")]), clerk, "submitted")
    big = create([("tent-2", 100, "150.50")])
    move(big, clerk, "submitted")
    move(big, approver, "approved")
    approved = create([("tent-0", 7, "1.05"), ("tent-5", 3, "20.00")])
    move(approved, clerk, "submitted")
    move(approved, approver, "approved")
    PurchaseOrder.objects.filter(pk=approved.pk).update(
        expected_delivery_date=timezone.localdate() - timedelta(days=3)
    )
    partial = create([("tent-1", 10, "3.33"), ("tent-6", 4, "999.99")])
    move(partial, clerk, "submitted")
    move(partial, approver, "approved")
    lines = list(partial.line_items.order_by("line_number"))
    po_services.record_receipt(
        po_id=partial.po_id,
        user=operator,
        lines=[{"line_item_id": lines[0].line_item_id, "quantity": 4}],
        note="Pallet 1 of 2 \u2028 ok",
    )
    full = create([("stove", 2, "12.34")])
    move(full, clerk, "submitted")
    move(full, approver, "approved", "shipped", "received")
    short = create([("tent-3", 5, "1.00"), ("tent-4", 5, "2.00")])
    move(short, clerk, "submitted")
    move(short, approver, "approved")
    first = short.line_items.order_by("line_number").first()
    po_services.record_receipt(
        po_id=short.po_id,
        user=operator,
        lines=[{"line_item_id": first.line_item_id, "quantity": 2}],
    )
    po_services.record_receipt(po_id=short.po_id, user=operator, lines=[], close=True)
    rejected = create([("tent-0", 1, "5.00")])
    move(rejected, clerk, "submitted")
    move(rejected, approver, "rejected", reason="Over budget; \u00e9t\u00e9.")
    move(create([("tent-0", 1, "5.00")]), clerk, "cancelled")
    two = create([("tent-5", 1000, "10.01")])
    move(two, clerk, "submitted")
    move(two, second, "approved")
    ReorderAlert.objects.filter(stock=levels[5]).update(po_id=approved.po_id)
    return {"users": [operator, clerk, approver, second, reader], "operator": operator}


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?page_size=3&page=2",
        f"?location_id={LOCATION}&page_size=2&page=3",
        "?ordering=-quantity_on_hand&page_size=4&page=2",
        "?below_reorder_point=true",
    ],
)
def test_stock_levels_are_byte_identical(world, zone, query):
    with timezone.override(zone):
        new = _get(StockLevelListView, f"/stock-levels{query}", world["operator"])
        old = _get(OldStockLevels, f"/stock-levels{query}", world["operator"])
    assert new == old
    assert b'"reorder_calculation":null' in _get(
        StockLevelListView, "/stock-levels", world["operator"]
    )


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "query",
    ["", "?page_size=2&page=2", "?ordering=-suggested_quantity", f"?location_id={LOCATION}"],
)
def test_alerts_are_byte_identical(world, zone, query):
    with timezone.override(zone):
        new = _get(ReorderAlertListView, f"/reorder-alerts{query}", world["operator"])
        old = _get(OldAlerts, f"/reorder-alerts{query}", world["operator"])
    assert new == old
    assert b'"quantity_on_order":0' in new or query


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize(
    "query", ["", "?page_size=4&page=2", "?status=received", "?ordering=total_amount&overdue=true"]
)
def test_purchase_order_lists_are_byte_identical(world, zone, query):
    for user in world["users"]:
        with timezone.override(zone):
            new = _get(PurchaseOrderListCreateView, f"/purchase-orders{query}", user)
            old = _get(OldPurchaseOrders, f"/purchase-orders{query}", user)
        assert new == old


@pytest.mark.parametrize("zone", ZONES)
def test_purchase_order_details_are_byte_identical(world, zone):
    for po_id in PurchaseOrder.objects.values_list("po_id", flat=True):
        for user in world["users"]:
            with timezone.override(zone):
                new = _get(
                    PurchaseOrderDetailView, f"/purchase-orders/{po_id}", user, po_id=str(po_id)
                )
                old = _old_detail(po_id, user)
            assert new == old


def test_events_carry_the_serializers_body(world):
    for po in PurchaseOrder.objects.all():
        old = OldEventSerializer(po_selectors.get_purchase_order(po_id=po.po_id)).data
        assert JSONRenderer().render(render_purchase_orders([po])[0]) == JSONRenderer().render(old)


def test_writes_answer_the_serializers_body(world):
    """PATCH, the receipt and the creation answer the body a GET renders with the serializer."""
    operator = world["operator"]
    client = client_for(operator)
    shipped = PurchaseOrder.objects.get(status="shipped")
    line = shipped.line_items.order_by("line_number").last()
    receipt = client.post(
        f"/purchase-orders/{shipped.po_id}/receipts",
        {"lines": [{"line_item_id": str(line.line_item_id), "quantity": 1}], "note": "x"},
        format="json",
    )
    assert receipt.status_code == 201
    assert receipt.content.endswith(
        b',"purchase_order":' + _old_detail(shipped.po_id, operator) + b"}"
    )
    submitted = PurchaseOrder.objects.get(total_amount=Decimal("1799.88"))
    patched = client.patch(
        f"/purchase-orders/{submitted.po_id}", {"status": "approved"}, format="json"
    )
    assert patched.status_code == 200
    assert patched.content == _old_detail(submitted.po_id, operator)
    created = client.post(
        "/purchase-orders",
        {"supplier_id": str(shipped.supplier_id), "line_items": []},
        format="json",
    )
    assert created.status_code == 201
    assert created.content == _old_detail(created.json()["po_id"], operator)


def _count(client, path):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries.captured_queries)


@pytest.mark.parametrize(
    ("path", "most"),
    [
        ("/stock-levels?", 4),
        ("/reorder-alerts?", 4),
        # Received POs: every one on the page has receipts (their lines are one query more).
        ("/purchase-orders?status=received&", 10),
    ],
)
def test_lists_cost_the_same_queries_whatever_the_page_size(world, path, most):
    """Token, permissions, count, page, then one query per relation of the page."""
    client = client_for(world["operator"])
    client.get(f"{path}page_size=1")  # the token's first use
    small, large = _count(client, f"{path}page_size=1"), _count(client, f"{path}page_size=50")
    assert small == large <= most


def test_detail_costs_the_same_queries_whatever_its_lines_and_receipts(world):
    client = client_for(world["operator"])
    client.get("/stock-levels")
    partial = PurchaseOrder.objects.get(receipt_status="partial")
    before = _count(client, f"/purchase-orders/{partial.po_id}")
    for line in partial.line_items.all():
        po_services.record_receipt(
            po_id=partial.po_id,
            user=world["operator"],
            lines=[{"line_item_id": line.line_item_id, "quantity": 1}],
        )
    assert partial.receipts.count() == 3
    assert _count(client, f"/purchase-orders/{partial.po_id}") == before


@pytest.mark.parametrize("zone", ZONES)
def test_adjustments_answer_the_serializers_body(world, zone):
    """``POST /stock-adjustments`` and the adjustment events: ``stock.presenters.adjustments``,
    byte for byte what ``StockAdjustmentSerializer`` renders, whatever the reason, note and
    count."""
    level = stocked_level(40, item_type="tent-x", location_id=LOCATION)
    recorded = [
        stock_services.record_adjustment(
            stock_id=level.stock_id, reason="consumption", quantity_delta=-2, adjusted_by="ana"
        ),
        stock_services.record_adjustment(
            stock_id=level.stock_id,
            reason="count",
            counted_quantity=7,
            note="Shelf B \u2028 \u00e9t\u00e9",
            adjusted_by="bo",
        ),
        stock_services.record_adjustment(
            item_type="stove-new",
            location_id=LOCATION,
            reason="receipt",
            quantity_delta=3,
            adjusted_by="cy",
        ),
    ]
    with timezone.override(zone):
        for adjustment in recorded:
            [body] = stock_presenters.adjustments([adjustment])
            old = StockAdjustmentSerializer(adjustment).data
            assert JSONRenderer().render(body) == JSONRenderer().render(old)
    response = client_for(world["operator"]).post(
        "/stock-adjustments",
        {"stock_id": str(level.stock_id), "reason": "damage", "quantity_delta": -1},
        format="json",
    )
    assert response.status_code == 201
    adjustment = StockAdjustment.objects.get(pk=response.json()["adjustment_id"])
    assert response.content == JSONRenderer().render(StockAdjustmentSerializer(adjustment).data)
