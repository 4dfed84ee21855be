"""The benchmark's scenarios and the requests each one sends.

A scenario's requests are written one a line (``METHOD<TAB>PATH<TAB>BODY``) to a file that
``bench/wrk.lua`` reads: a read picks lines at random, a receipt walks its own slice of them (each
receipt consumes a shipped purchase order, so each server gets its own POs).
"""

import io
import json
from dataclasses import dataclass
from wsgiref.util import setup_testing_defaults

from bench.seed import RECEIPT_CREATOR

# Adjustments are drawn from levels with at least this much stock, so that a run of -1
# consumptions never takes one below zero (a 409).
MIN_STOCK_FOR_CONSUMPTION = 100
SAMPLE = 20_000
# Shipped POs kept out of the load runs for bench.profile --cpu (the last ones by id).
RECEIPT_RESERVE = 400


def wsgi_environ(method, path, body, *, token, host="localhost"):
    """The WSGI environ of one scenario request, to call a server's application in process
    (``bench.profile``, the floor's test)."""
    target, _, query = path.partition("?")
    payload = body.encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": target,
        "QUERY_STRING": query,
        "HTTP_HOST": host,
        "HTTP_AUTHORIZATION": f"Token {token}",
        "CONTENT_LENGTH": str(len(payload)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(payload),
    }
    setup_testing_defaults(environ)
    return environ


@dataclass(frozen=True)
class Scenario:
    name: str
    label: str
    kind: str  # "read" or "write"
    mode: str  # "random" or "walk"


SCENARIOS = [
    Scenario("stock_levels", "GET /stock-levels?location_id (50)", "read", "random"),
    Scenario("po_detail", "GET /purchase-orders/{id} (10 lines)", "read", "random"),
    Scenario("reorder_alerts", "GET /reorder-alerts (50)", "read", "random"),
    Scenario("stock_adjustment", "POST /stock-adjustments consumption", "write", "random"),
    Scenario("po_receipt", "PATCH /purchase-orders/{id} received", "write", "walk"),
]
BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def _column(cursor, sql, params=()):
    cursor.execute(sql, params)
    return [str(row[0]) for row in cursor.fetchall()]


def stock_level_requests(cursor):
    locations = _column(cursor, "SELECT DISTINCT location_id FROM stock_levels ORDER BY 1")
    return [("GET", f"/stock-levels?location_id={loc}&page_size=50", "") for loc in locations]


def po_detail_requests(cursor):
    ids = _column(
        cursor,
        "SELECT po_id FROM purchase_orders WHERE created_by <> %s ORDER BY random() LIMIT %s",
        [RECEIPT_CREATOR, SAMPLE],
    )
    return [("GET", f"/purchase-orders/{po_id}", "") for po_id in ids]


def reorder_alert_requests(cursor):
    return [("GET", "/reorder-alerts?page_size=50", "")]


def stock_adjustment_requests(cursor):
    ids = _column(
        cursor,
        "SELECT stock_id FROM stock_levels WHERE quantity_on_hand >= %s ORDER BY random() LIMIT %s",
        [MIN_STOCK_FOR_CONSUMPTION, SAMPLE],
    )
    return [
        (
            "POST",
            "/stock-adjustments",
            json.dumps({"stock_id": stock_id, "reason": "consumption", "quantity_delta": -1}),
        )
        for stock_id in ids
    ]


def receipt_po_ids(cursor):
    """The shipped POs seeded for receipts, in a stable order."""
    return _column(
        cursor,
        "SELECT po_id FROM purchase_orders WHERE created_by = %s AND status = 'shipped' "
        "ORDER BY po_id",
        [RECEIPT_CREATOR],
    )


def receipt_requests(po_ids):
    body = json.dumps({"status": "received"})
    return [("PATCH", f"/purchase-orders/{po_id}", body) for po_id in po_ids]


READ_REQUESTS = {
    "stock_levels": stock_level_requests,
    "po_detail": po_detail_requests,
    "reorder_alerts": reorder_alert_requests,
    "stock_adjustment": stock_adjustment_requests,
}


def write_requests(path, requests):
    with open(path, "w") as out:
        for method, target, body in requests:
            out.write(f"{method}\t{target}\t{body}\n")


def sample_requests(connection):
    """One request of each scenario (for bench.capture and the floor's test)."""
    with connection.cursor() as cursor:
        samples = [(name, *build(cursor)[0]) for name, build in READ_REQUESTS.items()]
        [po_id, *_] = receipt_po_ids(cursor)
    return [*samples, ("po_receipt", *receipt_requests([po_id])[0])]
