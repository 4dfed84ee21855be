"""Races, from real threads on their own PostgreSQL connections."""

import threading
import time

import pytest
from django.db import connection
from rest_framework.test import APIClient

from integrations.events import SYSTEM_ACTOR
from integrations.models import Event
from stock.models import StockAdjustment
from stock.services import record_adjustment
from tests.factories import ApiTokenFactory, UserFactory
from tests.stock.factories import stocked_level
from tests.stock.test_concurrency import run_together

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_twelve_identical_keyed_requests_make_one_adjustment():
    token = ApiTokenFactory(user=UserFactory(username="floor", perms=["stock.add_stockadjustment"]))
    clients = [APIClient() for _ in range(12)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    level = stocked_level(50)
    body = {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": -3}

    responses = run_together(
        lambda i: clients[i].post(
            "/stock-adjustments", body, format="json", HTTP_IDEMPOTENCY_KEY="once-only"
        ),
        12,
    )

    statuses = [getattr(r, "status_code", r) for r in responses]
    assert set(statuses) <= {201, 409}, statuses
    assert statuses.count(201) >= 1
    created = {r.json()["adjustment_id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    assert all(
        r.json()["code"] == "idempotency_key_in_progress" for r in responses if r.status_code == 409
    )
    replayed = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" in r]
    assert len(replayed) == statuses.count(201) - 1
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 1
    level.refresh_from_db()
    assert level.quantity_on_hand == 47


def test_a_poller_racing_eight_writers_gets_every_event_once_in_order(make_client):
    """Eight threads write adjustments (each an event) as fast as they can while a ninth polls the
    feed with ``after=next_after``. PostgreSQL commits the writers out of order; the poller must
    still receive every committed event exactly once, with increasing sequence numbers."""
    poller = make_client("poller", perms=["integrations.view_event"])
    levels = [stocked_level(0) for _ in range(8)]
    start_count = Event.objects.count()
    per_writer = 25
    done = threading.Event()
    received = []
    errors = []

    def write(index):
        try:
            for _ in range(per_writer):
                record_adjustment(
                    reason="receipt",
                    adjusted_by=SYSTEM_ACTOR,
                    stock_id=levels[index].stock_id,
                    quantity_delta=1,
                )
        finally:
            connection.close()

    def poll():
        after = 0
        try:
            while True:
                finished = done.is_set()
                body = poller.get(f"/events?after={after}&limit=7").json()
                sequences = [event["sequence"] for event in body["results"]]
                assert sequences == sorted(sequences)
                assert all(s > after for s in sequences)
                received.extend(body["results"])
                after = body["next_after"]
                if finished and not body["results"]:
                    return
                time.sleep(0.001)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    poller_thread = threading.Thread(target=poll)
    # The poller reads from the first event on (the setup's ones included).
    poller_thread.start()
    run_together(write, 8)
    done.set()
    poller_thread.join(timeout=120)

    assert not errors, errors
    written = list(Event.objects.order_by("id").values_list("event_id", flat=True))
    assert len(written) == start_count + 8 * per_writer + 8  # + each level's alert resolved
    ids = [event["id"] for event in received]
    assert len(ids) == len(set(ids))
    assert set(ids) == {str(event_id) for event_id in written}
    sequences = [event["sequence"] for event in received]
    assert sequences == list(range(1, len(written) + 1))
    adjusted = [e for e in received if e["type"] == "novatrek.procurement.stock_level.adjusted"]
    assert len(adjusted) == 8 * per_writer
