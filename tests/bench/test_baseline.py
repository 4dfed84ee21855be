"""The benchmark's plain DRF baseline (bench/baseline/) answers each scenario's request with a 2xx
and does the write, on a small database seeded by bench/seed.py; its bodies carry a subset of the
app's fields (docs/benchmark.md lists the ones it leaves out)."""

import json

import pytest
from django.db import connection
from rest_framework.test import APIClient

from bench import scenarios, seed
from tests.conftest import database_conninfo, quantity_and_ledger

BASELINE_URLS = "bench.baseline.urls"


@pytest.fixture
def seeded(transactional_db, settings):
    """The bench user's token on a small seeded database; no write limit, as in bench.run."""
    settings.API_WRITE_RATE = ""
    conninfo = database_conninfo()
    seed.seed(
        conninfo,
        stock_levels=60,
        locations=2,
        suppliers=3,
        adjustments=600,
        purchase_orders=14,
        receipt_pos=2,
        log=lambda line: None,
    )
    return seed.create_bench_user(conninfo)


def send(token, method, path, body):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    if method == "GET":
        return client.get(path)
    return client.generic(method, path, body, content_type="application/json")


def _fields(body):
    return set((body["results"][0] if "results" in body else body).keys())


def test_the_baseline_answers_every_scenario_with_a_subset_of_the_apps_fields(seeded, settings):
    requests = {
        name: (method, path, body)
        for name, method, path, body in scenarios.sample_requests(connection)
    }
    assert set(requests) == set(scenarios.BY_NAME)
    reads = [name for name in requests if name not in ("stock_adjustment", "po_receipt")]
    app_fields = {name: _fields(send(seeded, *requests[name]).json()) for name in reads}

    settings.ROOT_URLCONF = BASELINE_URLS
    for name in reads:
        response = send(seeded, *requests[name])
        assert response.status_code == 200, (name, response.content[:300])
        body = response.json()
        assert _fields(body) <= app_fields[name], name
        if "results" in body:
            assert body["count"] > 0 and len(body["results"]) <= 50

    stock_id = json.loads(requests["stock_adjustment"][2])["stock_id"]
    quantity, ledger = quantity_and_ledger(stock_id)
    response = send(seeded, *requests["stock_adjustment"])
    assert response.status_code == 201, response.content[:300]
    assert response.json()["quantity_on_hand"] == response.json()["quantity_after"] == quantity - 1
    assert quantity_and_ledger(stock_id) == (quantity - 1, ledger + 1)

    response = send(seeded, *requests["po_receipt"])
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["status"] == "received"
    assert [line["quantity_received"] for line in body["line_items"]] == [
        line["quantity"] for line in body["line_items"]
    ]
    assert body["status_history"][-1]["to_status"] == "received"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), sum(quantity_delta) FROM stock_adjustments WHERE po_id = %s",
            [body["po_id"]],
        )
        assert cursor.fetchone() == (
            len(body["line_items"]),
            sum(line["quantity"] for line in body["line_items"]),
        )

    again = send(seeded, *requests["po_receipt"])
    assert again.status_code == 409
