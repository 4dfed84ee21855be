"""The whole path with real processes: changes through the API, two real ``manage.py db_worker``
processes, a real HTTP receiver on 127.0.0.1, signatures checked with ``standardwebhooks``."""

import os
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest
import standardwebhooks
from django.conf import settings

from integrations.events import publish_pending_events
from integrations.models import WebhookAttempt, WebhookDelivery
from tests.conftest import ALL_PERMS
from tests.factories import SupplierFactory
from tests.integrations.receiver import running_receiver
from tests.site.databases import database_url
from tests.stock.factories import stocked_level

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(__file__).resolve().parents[2]
PO_PREFIX = "novatrek.procurement.purchase_order"


def start_worker(name):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "DB_POOL": "0",
        "DJANGO_DEBUG": "0",
        "WEBHOOK_ALLOW_PRIVATE_URLS": "1",
        # Short delays: the receiver that fails twice gets the event within seconds.
        "WEBHOOK_RETRY_DELAYS": "1,1,1",
    }
    return subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--queue-name",
            "*",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--worker-id",
            name,
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(worker):
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        worker.kill()
        return worker.communicate()[1]


def test_workers_deliver_signed_events_with_retries_to_matching_subscriptions(
    make_client, settings
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    admin = make_client("integrator", perms=["integrations.manage_webhooks", *ALL_PERMS])
    approver = make_client("approver", perms=ALL_PERMS)
    level = stocked_level(10, reorder_point=0)
    supplier = SupplierFactory()
    # The set-up's events are numbered before anyone subscribes: no deliveries for them.
    publish_pending_events()
    workers = []
    with running_receiver() as receiver:
        to_pos = admin.post(
            "/webhook-subscriptions",
            {"url": receiver.url + "/pos", "event_types": [PO_PREFIX]},
            format="json",
        ).json()
        to_all = admin.post(
            "/webhook-subscriptions",
            {"url": receiver.url + "/fail-twice", "event_types": ["novatrek.procurement"]},
            format="json",
        ).json()
        try:
            workers = [start_worker("worker-a"), start_worker("worker-b")]
            po = admin.post(
                "/purchase-orders",
                {
                    "supplier_id": str(supplier.supplier_id),
                    "line_items": [
                        {
                            "item_type": "tent-2p",
                            "location_id": str(uuid.uuid4()),
                            "quantity": 2,
                            "unit_price": "99.00",
                        }
                    ],
                },
                format="json",
            ).json()
            admin.patch(f"/purchase-orders/{po['po_id']}", {"status": "submitted"}, format="json")
            approver.patch(f"/purchase-orders/{po['po_id']}", {"status": "approved"}, format="json")
            admin.post(
                "/stock-adjustments",
                {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": -1},
                format="json",
            )

            # 3 PO events to /pos; the 4 events (PO and stock) to /fail-twice, 3 times each.
            delivered = receiver.wait_for(
                lambda: len(receiver.at("/pos")) >= 3 and len(receiver.at("/fail-twice")) >= 12,
                timeout=90,
            )
        finally:
            logs = [stop(worker) for worker in workers]
    assert delivered, (receiver.requests, logs)
    assert all(worker.returncode is not None for worker in workers)

    pos = [
        standardwebhooks.Webhook(to_pos["secret"]).verify(r.body, r.headers)
        for r in receiver.at("/pos")
    ]
    assert {event["type"] for event in pos} == {
        PO_PREFIX + ".created",
        PO_PREFIX + ".submitted",
        PO_PREFIX + ".approved",
    }
    assert all(event["subject"] == po["po_id"] for event in pos)
    assert {event["actor"] for event in pos} == {"integrator", "approver"}

    everything = [
        standardwebhooks.Webhook(to_all["secret"]).verify(r.body, r.headers)
        for r in receiver.at("/fail-twice")
    ]
    per_event = Counter(event["id"] for event in everything)
    assert len(per_event) == 4
    assert set(per_event.values()) == {3}  # failed twice, then delivered
    assert "novatrek.procurement.stock_level.adjusted" in {e["type"] for e in everything}

    # Two workers, one request per attempt: every request the receiver got is one logged attempt.
    assert WebhookAttempt.objects.count() == len(receiver.requests) == 3 + 12
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    numbers = Counter(WebhookAttempt.objects.values_list("delivery_id", "number"))
    assert set(numbers.values()) == {1}
