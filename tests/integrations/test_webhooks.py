"""Webhook subscriptions and deliveries (the contract's "Webhooks"), verified against a real HTTP
receiver on 127.0.0.1 and an independent Standard Webhooks implementation (``standardwebhooks``)."""

import base64
import json
import threading
from datetime import timedelta

import pytest
import standardwebhooks
from django.db import connection
from django.utils import timezone

from integrations import webhooks
from integrations.events import assign_sequence_numbers, cloudevent
from integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from suppliers.services import register_supplier
from tests.conftest import client_for
from tests.integrations.receiver import running_receiver
from tests.stock.factories import stocked_level

PO_PREFIX = "novatrek.procurement.purchase_order"


@pytest.fixture
def private_urls(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def receiver():
    with running_receiver(slow_seconds=2.0) as receiver:
        yield receiver


def subscribe(client, url, event_types=("novatrek.procurement",), **extra):
    return client.post(
        "/webhook-subscriptions",
        {"url": url, "event_types": list(event_types), **extra},
        format="json",
    )


# --- the API ------------------------------------------------------------------------------------


def test_subscribing_returns_the_secret_once(integrator, private_urls):
    response = subscribe(integrator, "http://127.0.0.1:9/hook", [PO_PREFIX], description="ERP")

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) == 32
    assert body["event_types"] == [PO_PREFIX]
    assert body["created_by"] == "integrator"
    assert response["Location"] == f"/webhook-subscriptions/{body['subscription_id']}"
    listed = integrator.get("/webhook-subscriptions").json()["results"]
    assert [s["subscription_id"] for s in listed] == [body["subscription_id"]]
    assert "secret" not in listed[0]
    stored = WebhookSubscription.objects.get()
    assert stored.secret == body["secret"]


def test_subscriptions_are_listed_in_order_and_an_unknown_order_is_400(integrator, private_urls):
    first = subscribe(integrator, "http://127.0.0.1:9/b").json()["subscription_id"]
    second = subscribe(integrator, "http://127.0.0.1:9/a").json()["subscription_id"]

    def listed(**params):
        response = integrator.get("/webhook-subscriptions", params)
        return [s["subscription_id"] for s in response.json()["results"]]

    assert listed() == [first, second]
    assert listed(ordering="url") == [second, first]
    assert listed(ordering="-created_at") == [second, first]
    refused = integrator.get("/webhook-subscriptions", {"ordering": "secret"})
    assert refused.status_code == 400
    assert (refused.json()["code"], list(refused.json()["fields"])) == ("invalid", ["ordering"])


def test_deleting_a_subscription(integrator, private_urls):
    created = subscribe(integrator, "http://127.0.0.1:9/hook").json()
    url = f"/webhook-subscriptions/{created['subscription_id']}"

    assert integrator.delete(url).status_code == 204
    assert not WebhookSubscription.objects.exists()
    again = integrator.delete(url)
    assert again.status_code == 404
    assert again.json()["code"] == "not_found"
    assert integrator.delete("/webhook-subscriptions/not-a-uuid").status_code == 404


def test_subscriptions_need_the_admin_permission(anon_client, reader_client, superuser):
    assert anon_client.get("/webhook-subscriptions").status_code == 401
    for response in (
        reader_client.get("/webhook-subscriptions"),
        subscribe(reader_client, "https://8.8.8.8/hook"),
        reader_client.delete("/webhook-subscriptions/00000000-0000-0000-0000-000000000000"),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert subscribe(client_for(superuser), "https://8.8.8.8/hook").status_code == 201


@pytest.mark.parametrize(
    "url",
    [
        "http://8.8.8.8/hook",  # not https
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://user:pw@8.8.8.8/hook",
        "ftp://8.8.8.8/hook",
        "not a url",
    ],
)
def test_unsafe_urls_are_refused(integrator, url):
    response = subscribe(integrator, url)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "url" in response.json()["fields"]
    assert not WebhookSubscription.objects.exists()


def test_public_https_urls_are_accepted(integrator):
    assert subscribe(integrator, "https://8.8.8.8/hooks/procurement").status_code == 201


def test_private_urls_are_accepted_when_allowed(integrator, private_urls):
    assert subscribe(integrator, "http://127.0.0.1:8080/hook").status_code == 201


@pytest.mark.parametrize("types", [[], ["novatrek.other"], [""] * 0 + ["nope"]])
def test_event_types_must_prefix_a_known_type(integrator, types):
    response = subscribe(integrator, "https://8.8.8.8/hook", types)

    assert response.status_code == 400
    assert "event_types" in response.json()["fields"]


# --- delivery, in process --------------------------------------------------------------------


def subscription_to(url, prefixes=("novatrek.procurement",)):
    return webhooks.create_subscription(url=url, event_types=list(prefixes))


def one_delivery():
    """A supplier registered: its event numbered, and its deliveries created."""
    register_supplier(name="Alpine", contact_email="a@alpine.example", lead_time_days=3)
    [event] = assign_sequence_numbers()
    return event


def test_a_delivery_is_signed_per_standard_webhooks(private_urls, receiver, db):
    subscription = subscription_to(receiver.url + "/ok")
    event = one_delivery()
    delivery = WebhookDelivery.objects.get()

    attempt = webhooks.deliver(delivery.pk)

    [request] = receiver.requests
    assert request.headers["webhook-id"] == str(event.event_id)
    assert request.headers["content-type"] == "application/json"
    payload = standardwebhooks.Webhook(subscription.secret).verify(request.body, request.headers)
    assert payload == json.loads(json.dumps(cloudevent(event), default=str))
    assert payload["type"] == "novatrek.procurement.supplier.created"
    assert payload["sequence"] == 1
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(webhooks.new_secret()).verify(request.body, request.headers)
    assert attempt.number == 1
    assert attempt.succeeded and attempt.response_status == 204
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.completed_at is not None
    # Nothing left to send: a second call is a no-op.
    assert webhooks.deliver(delivery.pk) is None
    assert len(receiver.requests) == 1


def test_a_failing_receiver_is_retried_on_the_schedule_then_marked_failed(
    private_urls, receiver, settings, db
):
    settings.WEBHOOK_RETRY_DELAYS = [0, 0]
    subscription_to(receiver.url + "/fail")
    one_delivery()
    delivery = WebhookDelivery.objects.get()

    for _ in range(3):
        webhooks.deliver(delivery.pk)
        delivery.refresh_from_db()
        if delivery.status != DeliveryStatus.FAILED:
            assert delivery.status == DeliveryStatus.PENDING

    assert delivery.status == DeliveryStatus.FAILED
    attempts = list(WebhookAttempt.objects.filter(delivery=delivery))
    assert [(a.number, a.response_status, a.succeeded) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 500, False),
    ]
    assert webhooks.deliver(delivery.pk) is None
    assert len(receiver.requests) == 3


def test_the_next_attempt_waits_for_its_delay(private_urls, receiver, settings, db):
    settings.WEBHOOK_RETRY_DELAYS = [300]
    subscription_to(receiver.url + "/fail")
    one_delivery()
    delivery = WebhookDelivery.objects.get()
    before = timezone.now()

    webhooks.deliver(delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert before + timedelta(seconds=299) < delivery.next_attempt_at
    assert webhooks.deliver(delivery.pk) is None  # not due yet
    assert len(receiver.requests) == 1


def test_a_timeout_is_a_failed_attempt(private_urls, receiver, monkeypatch, db):
    monkeypatch.setattr(webhooks, "TIMEOUT_SECONDS", 0.3)
    subscription_to(receiver.url + "/slow")
    one_delivery()

    attempt = webhooks.deliver(WebhookDelivery.objects.get().pk)

    assert not attempt.succeeded
    assert attempt.response_status is None
    assert "timed out" in attempt.error.lower()


def test_private_targets_are_refused_again_at_delivery(private_urls, receiver, settings, db):
    subscription_to(receiver.url + "/ok")
    one_delivery()
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False

    attempt = webhooks.deliver(WebhookDelivery.objects.get().pk)

    assert not attempt.succeeded
    assert attempt.error.startswith("refused:")
    assert receiver.requests == []


def test_only_matching_subscriptions_get_a_delivery(private_urls, db):
    to_pos = subscription_to("http://127.0.0.1:9/pos", [PO_PREFIX])
    to_all = subscription_to("http://127.0.0.1:9/all")
    level = stocked_level(10, reorder_point=0)
    from stock.services import record_adjustment

    record_adjustment(
        reason="consumption", adjusted_by="x", stock_id=level.stock_id, quantity_delta=-1
    )
    assign_sequence_numbers()

    assert not WebhookDelivery.objects.filter(subscription=to_pos).exists()
    assert WebhookDelivery.objects.filter(subscription=to_all).count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_senders_never_send_one_attempt_twice(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    subscription_to(receiver.url + "/ok")
    one_delivery()
    delivery_id = WebhookDelivery.objects.get().pk
    barrier = threading.Barrier(8)
    results = []

    def send():
        try:
            barrier.wait(timeout=30)
            results.append(webhooks.deliver(delivery_id))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len([r for r in results if r is not None]) == 1
    assert len(receiver.requests) == 1
    assert WebhookAttempt.objects.count() == 1
