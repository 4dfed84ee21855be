"""Webhooks in the admin: subscribing (the secret shown once), the deliveries with every attempt,
"redeliver"."""

import pytest

from integrations import webhooks
from integrations.events import assign_sequence_numbers
from integrations.models import DeliveryStatus, WebhookDelivery, WebhookSubscription
from suppliers.services import register_supplier
from tests.admin.conftest import admin_client, messages_of, plain_static_storage
from tests.factories import UserFactory
from tests.integrations.receiver import running_receiver

__all__ = ["plain_static_storage"]


@pytest.fixture
def private_urls(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True


@pytest.fixture
def receiver():
    with running_receiver() as receiver:
        yield receiver


@pytest.fixture
def root(db):
    return admin_client(UserFactory(username="root", is_superuser=True, is_staff=True))


def one_delivery():
    register_supplier(name="Alpine", contact_email="a@alpine.example", lead_time_days=3)
    assign_sequence_numbers()
    return WebhookDelivery.objects.get()


def test_subscribing_in_the_admin_shows_the_secret_once(root, private_urls):
    response = root.post(
        "/admin/integrations/webhooksubscription/add/",
        {
            "url": "http://127.0.0.1:9/hook",
            "event_types": "novatrek.procurement.purchase_order, novatrek.procurement.supplier",
            "description": "ERP",
            "active": "on",
        },
        follow=True,
    )

    subscription = WebhookSubscription.objects.get()
    assert subscription.event_types == [
        "novatrek.procurement.purchase_order",
        "novatrek.procurement.supplier",
    ]
    assert subscription.created_by == "root"
    assert (
        "warning",
        f"Signing secret (shown once, keep it with the receiver): {subscription.secret}",
    ) in messages_of(response)


def test_editing_a_subscription_in_the_admin(root, private_urls):
    subscription = webhooks.create_subscription(
        url="http://127.0.0.1:9/hook", event_types=["novatrek.procurement"]
    )

    root.post(
        f"/admin/integrations/webhooksubscription/{subscription.pk}/change/",
        {"event_types": "novatrek.procurement.stock_level", "description": "stock only"},
    )

    subscription.refresh_from_db()
    assert subscription.event_types == ["novatrek.procurement.stock_level"]
    assert subscription.description == "stock only"
    assert subscription.active is False
    assert subscription.url == "http://127.0.0.1:9/hook"


def test_the_admin_refuses_unsafe_urls_and_unknown_types(root):
    response = root.post(
        "/admin/integrations/webhooksubscription/add/",
        {"url": "https://127.0.0.1/hook", "event_types": "nope", "active": "on"},
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "url" in errors and "event_types" in errors
    assert not WebhookSubscription.objects.exists()


def test_webhooks_in_the_admin_need_the_permission(db):
    staff = admin_client(UserFactory(username="staff", is_staff=True))

    assert staff.get("/admin/integrations/webhooksubscription/").status_code == 403
    assert staff.get("/admin/integrations/webhookdelivery/").status_code == 403


def test_redeliver_in_the_admin(private_urls, receiver, root):
    webhooks.create_subscription(url=receiver.url + "/ok", event_types=["novatrek.procurement"])
    first = one_delivery()
    webhooks.deliver(first.pk)

    response = root.post(
        "/admin/integrations/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [str(first.pk)]},
        follow=True,
    )

    assert response.status_code == 200
    again = WebhookDelivery.objects.exclude(pk=first.pk).get()
    assert again.event_id == first.event_id
    assert again.status == DeliveryStatus.PENDING
    webhooks.deliver(again.pk)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(first.event.event_id)] * 2
    page = root.get(f"/admin/integrations/webhookdelivery/{first.pk}/change/")
    assert page.status_code == 200
    assert b"204" in page.content
