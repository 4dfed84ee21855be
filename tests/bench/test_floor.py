"""The benchmark's floor (bench/floor.py) answers each scenario's request with the app's body and
the app's statements, on a small database seeded by bench/seed.py: if the app changes what it
returns or what it asks the database, these fail until the floor follows."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg import ClientCursor
from rest_framework.test import APIClient

from bench import floor, scenarios, seed
from procurement.replenishment import recalculate_reorder_points
from tests.conftest import database_conninfo, quantity_and_ledger

TRANSACTION_CONTROL = re.compile(r"^(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b")
# Quoted literals, numbers and savepoint names vary between two runs of one write.
LITERAL = re.compile(r"'(?:[^']|'')*'(?:::[a-z0-9 ]+(?:\[\])?)?|\b\d+(?:\.\d+)?\b")


@pytest.fixture
def bench_db(transactional_db, settings):
    """A small seeded database (some levels with a reorder-point calculation), the bench user's
    token, and the floor serving from it. No write limit, as in bench.run."""
    settings.API_WRITE_RATE = ""
    conninfo = database_conninfo()
    seed.seed(
        conninfo,
        stock_levels=120,
        locations=3,
        suppliers=4,
        adjustments=3_000,
        purchase_orders=28,
        receipt_pos=4,
        log=lambda line: None,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT location_id FROM stock_levels ORDER BY location_id LIMIT 1")
        [location] = cursor.fetchone()
    recalculate_reorder_points(location_id=location)
    token = seed.create_bench_user(conninfo)
    pool = floor.make_pool(conninfo)
    previous = floor.use_pool(pool)
    yield token
    floor.use_pool(previous)
    pool.close()


def call_app(token, method, path, body):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    with CaptureQueriesContext(connection) as queries:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.generic(method, path, body, content_type="application/json")
    captured = [query["sql"] for query in queries.captured_queries]
    statements = [sql for sql in captured if not TRANSACTION_CONTROL.match(sql)]
    return response.status_code, response.json(), statements


def call_floor(token, method, path, body):
    environ = scenarios.wsgi_environ(method, path, body, token=token, host="testserver")
    statements, started = [], []

    def record(cursor, sql, params):
        text = ClientCursor(cursor.connection).mogrify(sql, params)
        if not TRANSACTION_CONTROL.match(text):
            statements.append(text)

    def start_response(status, headers):
        started.append(int(status.split()[0]))

    floor.statement_hook = record
    try:
        [payload] = floor.application(environ, start_response)
    finally:
        floor.statement_hook = None
    return started[0], json.loads(payload), statements


def _shape(statements):
    return [LITERAL.sub("?", sql) for sql in statements]


def _sample(name):
    with connection.cursor() as cursor:
        if name == "po_receipt":
            first, second, *_ = scenarios.receipt_po_ids(cursor)
            return [scenarios.receipt_requests([po_id])[0] for po_id in (first, second)]
        [request, *_] = scenarios.READ_REQUESTS[name](cursor)
        return [request, request]


@pytest.mark.parametrize("name", ["stock_levels", "po_detail", "reorder_alerts"])
def test_reads_have_the_apps_body_and_statements(bench_db, name):
    [(method, path, body), _] = _sample(name)

    app_status, app_body, app_sql = call_app(bench_db, method, path, body)
    floor_status, floor_body, floor_sql = call_floor(bench_db, method, path, body)

    assert app_status == floor_status == 200
    assert floor_body == app_body
    assert floor_sql == app_sql


def test_stock_list_pages_link_alike(bench_db):
    with connection.cursor() as cursor:
        [(method, path, body), *_] = scenarios.stock_level_requests(cursor)
    path = path.replace("page_size=50", "page_size=7&page=2")

    app_status, app_body, app_sql = call_app(bench_db, method, path, body)
    floor_status, floor_body, floor_sql = call_floor(bench_db, method, path, body)

    assert app_status == floor_status == 200
    assert app_body["next"] and app_body["previous"]
    assert any(row["reorder_calculation"] for row in app_body["results"])
    assert floor_body == app_body
    assert floor_sql == app_sql


def test_every_po_status_has_the_apps_body(bench_db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (status) po_id FROM purchase_orders ORDER BY status, po_id"
        )
        ids = [str(row[0]) for row in cursor.fetchall()]
    assert len(ids) == len(floor.STATUS_ORDER)
    for po_id in ids:
        path = f"/purchase-orders/{po_id}"
        _, app_body, app_sql = call_app(bench_db, "GET", path, "")
        _, floor_body, floor_sql = call_floor(bench_db, "GET", path, "")
        assert floor_body == app_body
        assert floor_sql == app_sql


def test_consumption_has_the_apps_body_statements_and_effect(bench_db):
    [(method, path, body), _] = _sample("stock_adjustment")
    stock_id = json.loads(body)["stock_id"]
    quantity, ledger = quantity_and_ledger(stock_id)

    app_status, app_body, app_sql = call_app(bench_db, method, path, body)
    floor_status, floor_body, floor_sql = call_floor(bench_db, method, path, body)

    assert app_status == floor_status == 201
    assert app_body["quantity_on_hand"] == quantity - 1
    assert floor_body["quantity_on_hand"] == quantity - 2
    generated = {"adjustment_id", "created_at", "quantity_after", "quantity_on_hand"}
    assert {k: v for k, v in floor_body.items() if k not in generated} == {
        k: v for k, v in app_body.items() if k not in generated
    }
    assert floor_body.keys() == app_body.keys()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", floor_body["created_at"])
    assert _shape(floor_sql) == _shape(app_sql)
    assert quantity_and_ledger(stock_id) == (quantity - 2, ledger + 2)


def _twin_receipts():
    """Two shipped POs with the same lines, on levels that stay above their points, so that the
    app's receipt and the floor's send statements of one shape."""
    requests = _sample("po_receipt")
    [first, second] = [path.rsplit("/", 1)[1] for _, path, _ in requests]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM po_line_items WHERE po_id = %s", [second])
        cursor.execute(
            "INSERT INTO po_line_items (line_item_id, po_id, line_number, item_type, location_id, "
            "quantity, unit_price) SELECT gen_random_uuid(), %s, line_number, item_type, "
            "location_id, quantity, unit_price FROM po_line_items WHERE po_id = %s",
            [second, first],
        )
        cursor.execute(
            "UPDATE stock_levels SET quantity_on_hand = quantity_on_hand + 1000 "
            "WHERE (item_type, location_id) IN "
            "(SELECT item_type, location_id FROM po_line_items WHERE po_id = %s)",
            [first],
        )
        # Their stale open alerts too (the raw UPDATE above bypassed the alert sync): both
        # receipts then find no alert to resolve and send statements of one shape.
        cursor.execute(
            "UPDATE reorder_alerts SET resolved_at = now() WHERE resolved_at IS NULL AND "
            "stock_id IN (SELECT s.stock_id FROM stock_levels s JOIN po_line_items l ON "
            "(s.item_type, s.location_id) = (l.item_type, l.location_id) WHERE l.po_id = %s)",
            [first],
        )
    return requests


def test_receipt_has_the_apps_body_statements_and_effect(bench_db):
    [(method, app_path, body), (_, floor_path, _)] = _twin_receipts()

    app_status, app_body, app_sql = call_app(bench_db, method, app_path, body)
    floor_status, floor_body, floor_sql = call_floor(bench_db, method, floor_path, body)

    assert app_status == floor_status == 200
    assert app_body["status"] == floor_body["status"] == "received"
    assert _shape(floor_sql) == _shape(app_sql)
    # The floor's answer is what the app itself shows of the PO the floor received.
    _, app_view, _ = call_app(bench_db, "GET", floor_path, "")
    assert floor_body == app_view
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT po_id, count(*), sum(quantity_delta) FROM stock_adjustments "
            "WHERE reason = 'po_receipt' GROUP BY po_id ORDER BY po_id"
        )
        received = cursor.fetchall()
        cursor.execute(
            "SELECT po_id, sum(quantity) FROM po_line_items WHERE po_id IN (%s, %s) "
            "GROUP BY po_id ORDER BY po_id",
            [app_body["po_id"], floor_body["po_id"]],
        )
        ordered = cursor.fetchall()
    assert [(po, total) for po, _, total in received] == ordered
    assert [count for _, count, _ in received] == [10, 10]


def test_receiving_twice_is_a_conflict_on_both(bench_db):
    [(method, app_path, body), (_, floor_path, _)] = _sample("po_receipt")
    call_app(bench_db, method, app_path, body)
    call_floor(bench_db, method, floor_path, body)

    app_status, app_body, _ = call_app(bench_db, method, floor_path, body)
    floor_status, floor_body, _ = call_floor(bench_db, method, app_path, body)

    assert app_status == floor_status == 409
    assert app_body["code"] == floor_body["code"] == "invalid_transition"


def test_the_floors_encoders_write_drf_formats():
    from datetime import UTC, date, datetime
    from decimal import Decimal
    from uuid import UUID

    payload = {
        "id": UUID("6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10"),
        "at": datetime(2026, 5, 4, 9, 30, 0, 123456, tzinfo=UTC),
        "at_whole_second": datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
        "day": date(2026, 5, 4),
        "money": Decimal("1234.50"),
        "ratio": 0.1 + 0.2,
        "name": "Zelt für 4 — ü",
        "none": None,
    }
    expected = {
        "id": "6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10",
        "at": "2026-05-04T09:30:00.123456Z",
        "at_whole_second": "2026-05-04T09:30:00Z",
        "day": "2026-05-04",
        "money": "1234.50",
        "ratio": 0.30000000000000004,
        "name": "Zelt für 4 — ü",
        "none": None,
    }
    encoders = [floor.stdlib_dumps] + ([floor.orjson_dumps] if floor.orjson else [])
    for dumps in encoders:
        assert json.loads(dumps(payload)) == expected
