"""Domain events (the contract's "Events"): written by the services in the transaction of each
change, as CloudEvents 1.0 with the acting user as ``actor``, served by ``GET /events``."""

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations import events as events_module
from integrations.events import (
    EVENT_TYPES,
    assign_sequence_numbers,
    record_events,
    record_events_from_query,
    record_events_of_actions,
)
from integrations.models import Event
from procurement.replenishment import recalculate_reorder_points
from stock import services as stock_services
from stock.models import ReorderAlert
from stock.presenters import stock_level_sql
from stock.serializers import render_stock_levels
from suppliers import services as supplier_services
from tests.conftest import ALL_PERMS
from tests.factories import StockLevelFactory, SupplierFactory
from tests.integrations.conftest import events_of
from tests.replenishment.factories import consume
from tests.stock.factories import stocked_level

PO = "novatrek.procurement.purchase_order."
LEVEL = "novatrek.procurement.stock_level."
ALERT = "novatrek.procurement.reorder_alert."
SUPPLIER = "novatrek.procurement.supplier."


def types(prefix=""):
    return [event.type for event in events_of(prefix)]


@pytest.fixture
def operator(make_client):
    return make_client("operator", perms=ALL_PERMS)


@pytest.fixture
def approver(make_client):
    return make_client("approver", perms=ALL_PERMS)


def new_po(client, supplier, lines=1):
    body = {
        "supplier_id": str(supplier.supplier_id),
        "line_items": [
            {
                "item_type": f"tent-{n}",
                "location_id": str(uuid.uuid4()),
                "quantity": 4,
                "unit_price": "12.50",
            }
            for n in range(lines)
        ],
    }
    response = client.post("/purchase-orders", body, format="json")
    assert response.status_code == 201
    return response.json()


def move(client, po, status):
    response = client.patch(f"/purchase-orders/{po['po_id']}", {"status": status}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_purchase_order_lifecycle_writes_an_event_per_change(operator, approver):
    supplier = SupplierFactory()
    po = new_po(operator, supplier)
    operator.patch(
        f"/purchase-orders/{po['po_id']}",
        {"currency": "EUR"},
        format="json",
    )
    move(operator, po, "submitted")
    move(approver, po, "approved")
    move(operator, po, "shipped")
    received = move(operator, po, "received")

    assert types(PO) == [
        PO + "created",
        PO + "updated",
        PO + "submitted",
        PO + "approved",
        PO + "shipped",
        # Receiving in one go records its receipt, then the PO is received.
        PO + "receipt_recorded",
        PO + "received",
    ]
    events = events_of(PO)
    assert all(event.subject == po["po_id"] for event in events)
    assert [event.actor for event in events] == [
        "operator",
        "operator",
        "operator",
        "approver",
        "operator",
        "operator",
        "operator",
    ]
    # The entity as the API returns it, except available_transitions (the machine's, whoever
    # asks: an event has no requesting user).
    last = events[-1].data
    assert {k: v for k, v in last.items() if k != "available_transitions"} == {
        k: v for k, v in received.items() if k != "available_transitions"
    }
    assert events[0].data["status"] == "draft"
    assert events[0].data["available_transitions"] == ["submitted", "cancelled"]
    assert events[1].data["currency"] == "EUR"
    # Receiving added stock: one adjustment event per line.
    assert types(LEVEL + "adjusted") == [LEVEL + "adjusted"]


@pytest.mark.parametrize("target", ["rejected", "cancelled"])
def test_rejected_and_cancelled_purchase_orders_write_their_event(operator, approver, target):
    po = new_po(operator, SupplierFactory())
    move(operator, po, "submitted")
    body = (
        {"status": target, "reason": "Over budget."} if target == "rejected" else {"status": target}
    )
    client = approver if target == "rejected" else operator
    assert client.patch(f"/purchase-orders/{po['po_id']}", body, format="json").status_code == 200

    assert types(PO)[-1] == PO + target


def test_a_failed_change_writes_no_event(operator):
    po = new_po(operator, SupplierFactory())
    before = Event.objects.count()

    refused = operator.patch(
        f"/purchase-orders/{po['po_id']}", {"status": "received"}, format="json"
    )

    assert refused.status_code == 409
    assert Event.objects.count() == before


def test_an_adjustment_event_carries_the_adjustment_as_post_returns_it(operator):
    level = stocked_level(10, reorder_point=2)
    Event.objects.all().delete()

    response = operator.post(
        "/stock-adjustments",
        {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": -3},
        format="json",
    )

    [event] = events_of()
    assert event.type == LEVEL + "adjusted"
    assert event.subject == str(level.stock_id)
    assert event.actor == "operator"
    assert event.data == response.json()


def test_alerts_opening_and_resolving_write_events(operator):
    level = stocked_level(10, reorder_point=5)
    Event.objects.all().delete()

    def adjust(delta):
        return operator.post(
            "/stock-adjustments",
            {"stock_id": str(level.stock_id), "reason": "correction", "quantity_delta": delta},
            format="json",
        )

    adjust(-6)
    alert = ReorderAlert.objects.get(stock=level)
    adjust(+1)  # still at or below: no alert event
    adjust(+10)

    assert types() == [
        LEVEL + "adjusted",
        ALERT + "opened",
        LEVEL + "adjusted",
        LEVEL + "adjusted",
        ALERT + "resolved",
    ]
    opened, resolved = events_of(ALERT)
    assert opened.subject == resolved.subject == str(alert.alert_id)
    assert opened.data["quantity_on_hand"] == 4
    assert opened.data["reorder_point"] == 5
    assert resolved.data["quantity_on_hand"] == 15
    assert set(opened.data) == {
        "alert_id",
        "stock_id",
        "item_type",
        "location_id",
        "quantity_on_hand",
        "reorder_point",
        "reorder_quantity",
        "suggested_quantity",
        "quantity_on_order",
        "created_at",
    }


def test_reorder_settings_edits_write_reorder_point_changed(db):
    level = stocked_level(3, reorder_point=1)
    Event.objects.all().delete()

    stock_services.update_reorder_settings(stock_id=level.stock_id, reorder_point=1, actor="ana")
    stock_services.update_reorder_settings(stock_id=level.stock_id, reorder_point=4, actor="ana")

    assert types() == [LEVEL + "reorder_point_changed", ALERT + "opened"]
    changed = events_of(LEVEL)[0]
    assert changed.actor == "ana"
    assert changed.data["reorder_point"] == 4
    assert changed.data["stock_id"] == str(level.stock_id)


def test_a_recalculation_writes_reorder_point_changed_for_the_levels_it_moved(db):
    now = timezone.now()
    moved = StockLevelFactory(reorder_point=5, quantity_on_hand=10)
    unchanged = StockLevelFactory(reorder_point=24, quantity_on_hand=30)
    for level in (moved, unchanged):
        consume(level, {days_ago: 3 for days_ago in range(1, 31)}, now=now)  # -> point 24

    recalculate_reorder_points(now=now)

    changed = events_of(LEVEL + "reorder_point_changed")
    assert [event.subject for event in changed] == [str(moved.stock_id)]
    assert changed[0].data["reorder_point"] == 24
    assert changed[0].data["reorder_calculation"]["reorder_point"] == 24
    assert changed[0].actor == "system"
    # 10 on hand, now at or below 24: its alert opened, in the same batch.
    assert [event.subject for event in events_of(ALERT + "opened")] == [
        str(ReorderAlert.objects.get(stock=moved).alert_id)
    ]


def test_suppliers_write_created_and_updated(operator):
    response = operator.post(
        "/suppliers",
        {"name": "Alpine", "contact_email": "a@alpine.example.com", "lead_time_days": 4},
        format="json",
    )
    supplier_id = response.json()["supplier_id"]
    supplier_services.update_supplier(supplier_id=supplier_id, actor="ana", lead_time_days=9)

    created, updated = events_of(SUPPLIER)
    assert (created.type, created.actor, created.data) == (
        SUPPLIER + "created",
        "operator",
        response.json(),
    )
    assert (updated.type, updated.actor, updated.data["lead_time_days"]) == (
        SUPPLIER + "updated",
        "ana",
        9,
    )


def test_events_cost_a_constant_number_of_queries(operator, approver):
    """A receipt of 1 or of 20 lines writes its events with the same number of statements."""

    def receive(lines):
        po = new_po(operator, SupplierFactory(), lines=lines)
        move(operator, po, "submitted")
        move(approver, po, "approved")
        move(operator, po, "shipped")
        with CaptureQueriesContext(connection) as queries:
            move(operator, po, "received")
        return len(queries)

    assert receive(1) == receive(20)


def test_event_types_are_the_contracts():
    assert len(EVENT_TYPES) == 16
    assert PO + "receipt_recorded" in EVENT_TYPES
    assert PO + "approval_recorded" in EVENT_TYPES


# --- GET /events --------------------------------------------------------------------------------


def test_the_feed_serves_cloudevents_in_order(integrator, operator):
    supplier = SupplierFactory()
    po = new_po(operator, supplier)
    move(operator, po, "submitted")

    body = integrator.get("/events").json()

    assert [event["type"] for event in body["results"]] == [PO + "created", PO + "submitted"]
    assert body["next_after"] == body["results"][-1]["sequence"]
    first = body["results"][0]
    assert set(first) == {
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "sequence",
        "actor",
        "data",
    }
    assert first["specversion"] == "1.0"
    assert first["source"] == "/procurement"
    assert first["datacontenttype"] == "application/json"
    assert first["subject"] == po["po_id"]
    assert first["actor"] == "operator"
    assert first["time"].endswith("Z")
    uuid.UUID(first["id"])
    assert [e["sequence"] for e in body["results"]] == [1, 2]


def test_the_feed_pages_with_after_and_limit_and_filters_by_type(integrator, operator):
    level = stocked_level(10, reorder_point=0)
    po = new_po(operator, SupplierFactory())
    for _ in range(3):
        operator.post(
            "/stock-adjustments",
            {"stock_id": str(level.stock_id), "reason": "correction", "quantity_delta": 1},
            format="json",
        )
    all_events = integrator.get("/events?limit=1000").json()["results"]

    page = integrator.get("/events?after=1&limit=2").json()
    rest = integrator.get(f"/events?after={page['next_after']}&limit=1000").json()
    only_pos = integrator.get("/events?type=novatrek.procurement.purchase_order").json()
    empty = integrator.get(f"/events?after={rest['next_after']}").json()

    assert [e["sequence"] for e in page["results"]] == [2, 3]
    assert page["next_after"] == 3
    assert page["results"] + rest["results"] == all_events[1:]
    assert [e["subject"] for e in only_pos["results"]] == [po["po_id"]]
    assert empty == {"results": [], "next_after": rest["next_after"]}


@pytest.mark.parametrize(
    "query", ["after=-1", "after=x", "limit=0", "limit=1001", "type=Not%20A%20Type", "type="]
)
def test_bad_feed_queries_are_400(integrator, query):
    response = integrator.get(f"/events?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_the_feed_needs_its_permission(anon_client, reader_client, superuser):
    from tests.conftest import client_for

    assert anon_client.get("/events").status_code == 401
    refused = reader_client.get("/events")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert client_for(superuser).get("/events").status_code == 200


def test_numbers_go_to_committed_events_only_in_the_order_they_were_written(db):
    """In one transaction nothing is "committed by another": the sequencer numbers what it sees,
    in writing order, after the last number it gave."""
    supplier_services.register_supplier(name="A", contact_email="a@x.example", lead_time_days=1)
    supplier_services.register_supplier(name="B", contact_email="b@x.example", lead_time_days=1)

    first = assign_sequence_numbers()
    supplier_services.register_supplier(name="C", contact_email="c@x.example", lead_time_days=1)
    second = assign_sequence_numbers()

    assert [e.data["name"] for e in first] == ["A", "B"]
    assert [e.sequence for e in first] == [1, 2]
    assert [(e.data["name"], e.sequence) for e in second] == [("C", 3)]
    assert assign_sequence_numbers() == []


def test_an_unknown_event_type_is_refused(db):
    with pytest.raises(ValueError):
        record_events(entity="supplier", action="deleted", objects=[object()], actor="x")


def test_a_partial_receipt_against_an_approved_po_writes_shipped_then_receipt_recorded(
    operator, approver
):
    """A receipt moves an approved PO to shipped first; a partial one leaves it shipped; the
    receipt that brings the rest completes it."""
    supplier = SupplierFactory()
    po = new_po(operator, supplier)
    move(operator, po, "submitted")
    move(approver, po, "approved")
    [line] = operator.get(f"/purchase-orders/{po['po_id']}").json()["line_items"]
    receipts = f"/purchase-orders/{po['po_id']}/receipts"

    def receive(quantity):
        body = {"lines": [{"line_item_id": line["line_item_id"], "quantity": quantity}]}
        response = operator.post(receipts, body, format="json")
        assert response.status_code == 201, response.json()

    receive(1)
    receive(line["quantity"] - 1)

    assert types(PO)[3:] == [
        PO + "shipped",
        PO + "receipt_recorded",
        PO + "receipt_recorded",
        PO + "received",
    ]
    assert events_of(PO)[-2].data["receipt_status"] == "full"


def test_several_actions_on_unchanged_objects_render_them_once_and_write_them_in_order(
    db, monkeypatch
):
    """``record_events_of_actions``: each action's events in turn, with the data of one
    rendering, in one statement."""
    suppliers = sorted((SupplierFactory() for _ in range(2)), key=lambda s: s.pk)
    rendered = []

    def render(objects):
        rendered.append(list(objects))
        return [{"name": supplier.name} for supplier in objects]

    monkeypatch.setitem(events_module._representations, "supplier", render)
    Event.objects.all().delete()

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        written = record_events_of_actions(
            entity="supplier", actions=["created", "updated"], objects=suppliers, actor="ops"
        )

    assert rendered == [suppliers]
    inserts = [q["sql"] for q in queries if q["sql"].startswith('INSERT INTO "events"')]
    assert len(inserts) == 1
    stored = list(Event.objects.order_by("id"))
    assert [(event.type.rsplit(".", 1)[1], event.subject) for event in stored] == [
        ("created", str(suppliers[0].pk)),
        ("created", str(suppliers[1].pk)),
        ("updated", str(suppliers[0].pk)),
        ("updated", str(suppliers[1].pk)),
    ]
    assert [event.data for event in stored] == [{"name": s.name} for s in suppliers] * 2
    assert [event.event_id for event in written] == [event.event_id for event in stored]
    assert stored[0].time <= stored[2].time


@pytest.mark.parametrize("copy_above", [1000, 10, 2])
def test_many_events_at_once_are_written_alike_by_copy(db, monkeypatch, copy_above):
    """A large batch goes through PostgreSQL's COPY: the same rows as the INSERT writes, in the
    same order, numbered by the sequencer like any other."""
    monkeypatch.setattr("integrations.events.COPY_ABOVE", copy_above)
    levels = sorted(
        (StockLevelFactory(quantity_on_hand=n, reorder_point=2) for n in range(3)),
        key=lambda level: level.stock_id,
    )

    with transaction.atomic():
        record_events(
            entity="stock_level", action="reorder_point_changed", objects=levels, actor="ops"
        )

    written = list(Event.objects.order_by("id"))
    assert [event.subject for event in written] == [str(level.stock_id) for level in levels]
    assert {(event.type, event.source, event.actor) for event in written} == {
        (LEVEL + "reorder_point_changed", "/procurement", "ops")
    }
    assert [event.data for event in written] == render_stock_levels(levels)
    assert len({event.event_id for event in written}) == 3
    assert [event.sequence for event in assign_sequence_numbers()] == [1, 2, 3]


@pytest.mark.postgresql
def test_events_built_by_a_query_are_written_in_its_order_as_record_events_writes_them(db):
    """``record_events_from_query``: one event per row, in the query's order, with the type,
    source, actor and numbering of ``record_events``; ``data`` as the query built it."""
    levels = sorted(
        (StockLevelFactory(quantity_on_hand=n, reorder_point=2) for n in range(3)),
        key=lambda level: level.stock_id,
        reverse=True,
    )
    Event.objects.all().delete()
    body, params = stock_level_sql("s", "c")
    query = (
        f"SELECT s.stock_id::text AS subject, {body} AS data FROM stock_levels s "
        "LEFT JOIN reorder_point_calculations c ON c.calculation_id = s.reorder_calculation_id "
        "WHERE s.stock_id = ANY(%s::uuid[]) ORDER BY s.stock_id DESC"
    )

    with transaction.atomic():
        written = record_events_from_query(
            entity="stock_level",
            action="reorder_point_changed",
            query=query,
            params=[*params, [level.stock_id for level in levels]],
            actor="ops",
        )

    assert written == 3
    events = events_of()
    assert [event.subject for event in events] == [str(level.stock_id) for level in levels]
    assert {(event.type, event.source, event.actor) for event in events} == {
        (LEVEL + "reorder_point_changed", "/procurement", "ops")
    }
    assert [event.data for event in events] == render_stock_levels(levels)
    assert len({event.event_id for event in events}) == 3
    assert [event.sequence for event in assign_sequence_numbers()] == [1, 2, 3]


@pytest.mark.postgresql
def test_events_built_by_a_query_need_the_transaction_of_the_change(transactional_db):
    with pytest.raises(RuntimeError):
        record_events_from_query(
            entity="stock_level",
            action="reorder_point_changed",
            query="SELECT 'x' AS subject, '{}'::jsonb AS data",
            actor="ops",
        )
    assert not Event.objects.exists()
