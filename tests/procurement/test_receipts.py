"""Receipts: goods arrive in parts (contract, second edition)."""

import random
import uuid

import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from procurement.models import POLineItem, POStatusChange, PurchaseOrder, Receipt, ReceiptLine
from stock.models import ReorderAlert, StockAdjustment, StockLevel
from stock.services import sync_alerts
from tests.factories import StockLevelFactory
from tests.procurement.conftest import LOCATION, line, move, patch

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def receive(client, po_id, lines=(), **extra):
    body = {"lines": [{"line_item_id": str(i), "quantity": q} for i, q in lines], **extra}
    return client.post(f"/purchase-orders/{po_id}/receipts", body, format="json")


def line_ids(po):
    return list(
        POLineItem.objects.filter(purchase_order=po)
        .order_by("line_number")
        .values_list("line_item_id", flat=True)
    )


def nothing_written(po, before):
    """The PO, its lines, receipts, stock and history are as they were."""
    assert snapshot(po) == before


def snapshot(po):
    stored = PurchaseOrder.objects.get(pk=po.pk)
    return (
        stored.status,
        stored.version,
        stored.receipt_status,
        list(POLineItem.objects.filter(purchase_order=po).values_list("quantity_received")),
        Receipt.objects.count(),
        ReceiptLine.objects.count(),
        StockAdjustment.objects.count(),
        list(StockLevel.objects.order_by("stock_id").values_list("quantity_on_hand")),
        POStatusChange.objects.filter(purchase_order=po).count(),
    )


def test_partial_then_rest_moves_the_po_to_received(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 100), line("stove", 5)])
    tent, stove = line_ids(po)

    response = receive(warehouse, po.po_id, [(tent, 80)], note="Pallet 1")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert list(body) == [
        "receipt_id",
        "po_id",
        "received_by",
        "received_at",
        "note",
        "lines",
        "purchase_order",
    ]
    assert body["po_id"] == str(po.po_id)
    assert (body["received_by"], body["note"]) == ("warehouse", "Pallet 1")
    assert body["lines"] == [
        {
            "line_item_id": str(tent),
            "item_type": "tent",
            "location_id": str(LOCATION),
            "quantity": 80,
        }
    ]
    order = body["purchase_order"]
    assert order == warehouse.get(f"/purchase-orders/{po.po_id}").json()
    assert (order["status"], order["receipt_status"]) == ("shipped", "partial")
    assert order["received_at"] is None
    assert [(li["quantity_received"], li["quantity_open"]) for li in order["line_items"]] == [
        (80, 20),
        (0, 5),
    ]
    assert [r["receipt_id"] for r in order["receipts"]] == [body["receipt_id"]]
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 80
    adjustment = StockAdjustment.objects.get(po_id=po.po_id)
    assert (adjustment.reason, adjustment.quantity_delta) == ("po_receipt", 80)
    assert str(adjustment.receipt_id) == body["receipt_id"]

    second = receive(warehouse, po.po_id, [(tent, 20), (stove, 5)])

    assert second.status_code == 201, second.json()
    order = second.json()["purchase_order"]
    assert (order["status"], order["receipt_status"]) == ("received", "full")
    assert order["received_at"] is not None
    assert [(li["quantity_received"], li["quantity_open"]) for li in order["line_items"]] == [
        (100, 0),
        (5, 0),
    ]
    assert [r["receipt_id"] for r in order["receipts"]] == [
        body["receipt_id"],
        second.json()["receipt_id"],
    ]
    assert order["status_history"][-1]["to_status"] == "received"
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert stored.received_at == stored.status_history.get(to_status="received").changed_at
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 100
    assert StockLevel.objects.get(item_type="stove").quantity_on_hand == 5
    assert StockAdjustment.objects.filter(po_id=po.po_id).count() == 3


def test_a_receipt_against_an_approved_po_ships_it_first(warehouse, po_in):
    po = po_in("approved", line_items=[line("tent", 10)])
    [tent] = line_ids(po)

    response = receive(warehouse, po.po_id, [(tent, 4)])

    assert response.status_code == 201, response.json()
    order = response.json()["purchase_order"]
    assert order["status"] == "shipped"
    moves = [(h["from_status"], h["to_status"], h["changed_by"]) for h in order["status_history"]]
    assert moves[-1] == ("approved", "shipped", "warehouse")
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 4


def test_a_receipt_of_everything_against_an_approved_po_ships_and_receives_it(warehouse, po_in):
    po = po_in("approved", line_items=[line("tent", 10)])
    [tent] = line_ids(po)

    order = receive(warehouse, po.po_id, [(tent, 10)]).json()["purchase_order"]

    assert order["status"] == "received"
    assert [h["to_status"] for h in order["status_history"]][-2:] == ["shipped", "received"]


def test_over_receipt_is_409_naming_the_line_and_writes_nothing(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10), line("stove", 5)])
    tent, stove = line_ids(po)
    assert receive(warehouse, po.po_id, [(tent, 6)]).status_code == 201
    before = snapshot(po)

    response = receive(warehouse, po.po_id, [(stove, 2), (tent, 5)])

    assert response.status_code == 409
    body = response.json()
    assert (body["status"], body["code"]) == (409, "over_receipt")
    assert str(tent) in body["message"]
    assert "lines.1.quantity" in body["fields"]
    nothing_written(po, before)


def test_the_tolerance_setting_allows_some_over_receipt(warehouse, po_in, settings):
    settings.OVER_RECEIPT_TOLERANCE_PERCENT = 10
    po = po_in("shipped", line_items=[line("tent", 10), line("stove", 5)])
    tent, stove = line_ids(po)

    # 10 * 1.1 = 11 at most; 5 * 1.1 = 5.5: 5 at most.
    assert receive(warehouse, po.po_id, [(stove, 6)]).json()["code"] == "over_receipt"
    response = receive(warehouse, po.po_id, [(tent, 11)])

    assert response.status_code == 201, response.json()
    order = response.json()["purchase_order"]
    assert [(li["quantity_received"], li["quantity_open"]) for li in order["line_items"]] == [
        (11, 0),
        (0, 5),
    ]
    assert order["status"] == "shipped"
    assert receive(warehouse, po.po_id, [(tent, 1)]).json()["code"] == "over_receipt"


def test_close_short_ends_the_po_and_stops_counting_the_rest_on_order(
    warehouse, po_in, reader_client
):
    level = StockLevelFactory(
        item_type="tent", location_id=LOCATION, quantity_on_hand=0, reorder_point=500
    )
    sync_alerts(levels=[level])
    po = po_in("shipped", line_items=[line("tent", 100), line("tent", 30)])
    first, second = line_ids(po)

    def on_order():
        [alert] = reader_client.get("/reorder-alerts").json()["results"]
        return alert["quantity_on_order"]

    assert on_order() == 130
    assert receive(warehouse, po.po_id, [(first, 80)]).status_code == 201
    assert on_order() == 50

    response = receive(warehouse, po.po_id, [(second, 10)], close=True)

    assert response.status_code == 201, response.json()
    order = response.json()["purchase_order"]
    assert (order["status"], order["receipt_status"]) == ("received", "closed_short")
    assert [(li["quantity_received"], li["quantity_open"]) for li in order["line_items"]] == [
        (80, 0),
        (10, 0),
    ]
    assert order["status_history"][-1]["reason"] == "Closed short."
    assert on_order() == 0
    assert StockLevel.objects.get(pk=level.pk).quantity_on_hand == 90
    assert Receipt.objects.get(pk=response.json()["receipt_id"]).closes_short


def test_close_without_lines_closes_the_po(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10)])

    response = receive(warehouse, po.po_id, [], close=True, note="Supplier out of stock")

    assert response.status_code == 201, response.json()
    assert response.json()["lines"] == []
    order = response.json()["purchase_order"]
    assert (order["status"], order["receipt_status"]) == ("received", "closed_short")
    assert StockAdjustment.objects.count() == 0


def test_close_with_everything_in_is_full_not_short(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10)])
    [tent] = line_ids(po)

    order = receive(warehouse, po.po_id, [(tent, 10)], close=True).json()["purchase_order"]

    assert (order["status"], order["receipt_status"]) == ("received", "full")


def test_no_lines_without_close_is_400(warehouse, po_in):
    po = po_in("shipped")
    before = snapshot(po)

    response = receive(warehouse, po.po_id, [])

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "lines" in response.json()["fields"]
    nothing_written(po, before)


def test_a_line_of_another_po_is_400(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10)])
    other = po_in("shipped", line_items=[line("tent", 10)])
    [own] = line_ids(po)
    [foreign] = line_ids(other)
    before = snapshot(po)

    for stranger in (foreign, uuid.uuid4()):
        response = receive(warehouse, po.po_id, [(own, 1), (stranger, 1)])
        assert response.status_code == 400
        assert "lines.1.line_item_id" in response.json()["fields"]
        assert str(stranger) in response.json()["message"]
    nothing_written(po, before)


@pytest.mark.parametrize(
    "lines",
    [
        [{"quantity": 1}],
        [{"line_item_id": "nope", "quantity": 1}],
        [{"line_item_id": "LINE", "quantity": 0}],
        [{"line_item_id": "LINE", "quantity": "3"}],
        [{"line_item_id": "LINE", "quantity": 1}, {"line_item_id": "LINE", "quantity": 1}],
        "LINE",
    ],
)
def test_malformed_lines_are_400(warehouse, po_in, lines):
    po = po_in("shipped")
    [own] = line_ids(po)
    if isinstance(lines, list):
        lines = [{k: v if v != "LINE" else str(own) for k, v in item.items()} for item in lines]
    before = snapshot(po)

    response = warehouse.post(
        f"/purchase-orders/{po.po_id}/receipts", {"lines": lines}, format="json"
    )

    assert response.status_code == 400, response.json()
    assert response.json()["code"] in ("invalid", "validation_error")
    nothing_written(po, before)


@pytest.mark.parametrize("status", ["draft", "submitted", "received", "rejected", "cancelled"])
def test_a_receipt_in_another_status_is_409(warehouse, po_in, status):
    po = po_in(status, line_items=[line("tent", 10)])
    [tent] = line_ids(po)
    before = snapshot(po)

    response = receive(warehouse, po.po_id, [(tent, 1)])

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["current_status"] == status
    nothing_written(po, before)


def test_receiving_needs_the_change_permission(anon_client, reader_client, make_client, po_in):
    po = po_in("shipped", line_items=[line("tent", 10)])
    [tent] = line_ids(po)
    adder = make_client("adder", perms=["procurement.add_purchaseorder"])
    before = snapshot(po)

    assert receive(anon_client, po.po_id, [(tent, 1)]).status_code == 401
    for client in (reader_client, adder):
        response = receive(client, po.po_id, [(tent, 1)])
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    nothing_written(po, before)


def test_unknown_po_is_404(warehouse):
    for po_id in (uuid.uuid4(), "not-a-uuid"):
        response = receive(warehouse, po_id, [(uuid.uuid4(), 1)])
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_a_stale_if_match_is_412(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10)])
    [tent] = line_ids(po)
    before = snapshot(po)

    response = warehouse.post(
        f"/purchase-orders/{po.po_id}/receipts",
        {"lines": [{"line_item_id": str(tent), "quantity": 1}]},
        format="json",
        HTTP_IF_MATCH=f'"{po.version + 5}"',
    )

    assert response.status_code == 412
    nothing_written(po, before)


def test_patch_received_receives_the_open_quantities_in_one_receipt(warehouse, po_in):
    po = po_in("shipped", line_items=[line("tent", 10), line("stove", 4)])
    tent, _ = line_ids(po)
    receive(warehouse, po.po_id, [(tent, 7)])

    body = move(warehouse, po.po_id, "received")

    assert (body["status"], body["receipt_status"]) == ("received", "full")
    assert [len(r["lines"]) for r in body["receipts"]] == [1, 2]
    assert [(li["item_type"], li["quantity"]) for li in body["receipts"][-1]["lines"]] == [
        ("tent", 3),
        ("stove", 4),
    ]
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 10
    assert StockLevel.objects.get(item_type="stove").quantity_on_hand == 4


def test_patch_received_still_refuses_an_approved_po(warehouse, po_in):
    po = po_in("approved", line_items=[line("tent", 10)])
    before = snapshot(po)

    response = patch(warehouse, po.po_id, {"status": "received"})

    assert response.status_code == 409
    nothing_written(po, before)


@pytest.mark.postgresql
def test_a_receipt_of_2_and_of_200_lines_run_the_same_statements(warehouse, po_in):
    counts = []
    for lines in (2, 200):
        po = po_in("shipped", line_items=[line(f"item-{n}", 5) for n in range(lines)])
        ids = line_ids(po)
        with CaptureQueriesContext(connection) as queries:
            response = receive(warehouse, po.po_id, [(i, 2) for i in ids])
        assert response.status_code == 201
        assert ReceiptLine.objects.filter(receipt_id=response.json()["receipt_id"]).count() == lines
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_ledger_matches_stock_after_a_random_mix_of_receipts(warehouse, po_in, settings):
    settings.OVER_RECEIPT_TOLERANCE_PERCENT = 20
    rng = random.Random(12)
    items = ["tent", "stove", "lantern"]
    pos = [
        po_in(
            rng.choice(["approved", "shipped"]),
            line_items=[line(rng.choice(items), rng.randint(1, 20)) for _ in range(3)],
        )
        for _ in range(6)
    ]
    codes = set()
    for _ in range(60):
        po = rng.choice(pos)
        ids = line_ids(po)
        picked = rng.sample(ids, rng.randint(1, len(ids)))
        response = receive(
            warehouse,
            po.po_id,
            [(i, rng.randint(1, 12)) for i in picked],
            close=rng.random() < 0.05,
        )
        codes.add(response.status_code)
    assert {201, 409} <= codes

    for level in StockLevel.objects.all():
        total = level.adjustments.aggregate(total=Sum("quantity_delta"))["total"]
        assert level.quantity_on_hand == total
    for po_line in POLineItem.objects.filter(purchase_order__in=pos):
        received = po_line.receipt_lines.aggregate(total=Sum("quantity"))["total"] or 0
        assert po_line.quantity_received == received
        assert received <= int(po_line.quantity * 1.2)
    received_total = ReceiptLine.objects.aggregate(total=Sum("quantity"))["total"]
    po_receipts = StockAdjustment.objects.filter(reason="po_receipt")
    assert po_receipts.aggregate(total=Sum("quantity_delta"))["total"] == received_total
    for po in PurchaseOrder.objects.filter(pk__in=[p.pk for p in pos]):
        lines = list(po.line_items.all())
        if all(li.quantity_received >= li.quantity for li in lines):
            assert (po.status, po.receipt_status) == ("received", "full")
        elif po.status == "received":
            assert po.receipt_status == "closed_short"
        else:
            assert po.receipt_status in ("none", "partial")


def test_receiving_opens_and_resolves_alerts(warehouse, po_in):
    level = StockLevelFactory(
        item_type="tent", location_id=LOCATION, quantity_on_hand=0, reorder_point=5
    )
    sync_alerts(levels=[level])
    po = po_in("shipped", line_items=[line("tent", 10)])
    [tent] = line_ids(po)

    receive(warehouse, po.po_id, [(tent, 3)])
    assert ReorderAlert.objects.filter(stock=level, resolved_at__isnull=True).exists()
    receive(warehouse, po.po_id, [(tent, 7)])
    assert not ReorderAlert.objects.filter(stock=level, resolved_at__isnull=True).exists()
