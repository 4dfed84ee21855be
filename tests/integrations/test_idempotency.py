"""Idempotency-Key on POST and PATCH (the contract's "Idempotent writes")."""

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from integrations import idempotency
from integrations.models import IdempotencyKey
from integrations.tasks import integration_maintenance
from procurement.models import PurchaseOrder
from procurement_site.api.idempotency import IdempotentAPIView
from stock.models import StockAdjustment
from tests.conftest import ALL_PERMS, client_for
from tests.factories import SupplierFactory, UserFactory
from tests.site.databases import connect
from tests.stock.factories import stocked_level

KEY = "6b1d0c1e-retry-me"


@pytest.fixture
def operator(db):
    return client_for(UserFactory(username="operator", perms=ALL_PERMS))


@pytest.fixture
def level(db):
    return stocked_level(10, reorder_point=2)


def consume(client, level, delta=-1, key=KEY, note=""):
    body = {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": delta}
    if note:
        body["note"] = note
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/stock-adjustments", body, format="json", **headers)


def test_a_repeat_replays_the_first_response_and_changes_nothing(operator, level):
    first = consume(operator, level)
    again = consume(operator, level)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 1
    level.refresh_from_db()
    assert level.quantity_on_hand == 9
    stored = IdempotencyKey.objects.get(key=KEY)
    assert stored.status_code == 201
    assert stored.body["adjustment_id"] == first.json()["adjustment_id"]


def test_without_a_key_each_request_is_a_change(operator, level):
    consume(operator, level, key=None)
    consume(operator, level, key=None)

    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 2
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_with_another_body_or_path_is_a_422(operator, level):
    assert consume(operator, level).status_code == 201

    other_body = consume(operator, level, delta=-2)
    other_path = operator.post(
        "/suppliers",
        {"name": "X", "contact_email": "x@example.com", "lead_time_days": 3},
        format="json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    for response in (other_body, other_path):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
        assert set(response.json()) == {"status", "code", "message"}
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 1


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_key_that_is_not_1_to_255_visible_ascii_characters_is_a_400(operator, level, key):
    response = consume(operator, level, key=key)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert not StockAdjustment.objects.filter(stock=level, reason="consumption").exists()


def test_the_longest_key_is_accepted(operator, level):
    assert consume(operator, level, key="~" * 255).status_code == 201


def test_keys_belong_to_their_user(operator, level):
    other = client_for(UserFactory(username="other", perms=["stock.add_stockadjustment"]))

    assert consume(operator, level).status_code == 201
    response = consume(other, level)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 2


def test_a_4xx_answer_is_stored_and_replayed(operator, level):
    refused = consume(operator, level, delta=-50)
    # Enough stock now: the replay is still the stored answer, and nothing is written.
    operator.post(
        "/stock-adjustments",
        {"stock_id": str(level.stock_id), "reason": "correction", "quantity_delta": 100},
        format="json",
    )
    replay = consume(operator, level, delta=-50)

    assert refused.status_code == replay.status_code == 409
    assert replay.json() == refused.json()
    assert replay.json()["code"] == "insufficient_stock"
    assert replay["Idempotent-Replayed"] == "true"
    level.refresh_from_db()
    assert level.quantity_on_hand == 110


def test_a_5xx_answer_is_not_stored_and_leaves_nothing(operator, level, monkeypatch):
    from stock import services

    real = services.record_adjustments

    def half_then_fail(**kwargs):
        real(**kwargs)
        raise RuntimeError("the process failed after writing")

    monkeypatch.setattr(services, "record_adjustments", half_then_fail)
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=operator._credentials["HTTP_AUTHORIZATION"])
    failed = consume(client, level)
    monkeypatch.setattr(services, "record_adjustments", real)
    retried = consume(client, level)

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 1


def test_a_created_purchase_order_replays_with_its_location_and_etag(operator):
    supplier = SupplierFactory()
    body = {
        "supplier_id": str(supplier.supplier_id),
        "line_items": [
            {
                "item_type": "tent-2p",
                "location_id": str(uuid.uuid4()),
                "quantity": 2,
                "unit_price": "10.00",
            }
        ],
    }
    first = operator.post("/purchase-orders", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = operator.post("/purchase-orders", body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]
    assert PurchaseOrder.objects.count() == 1


def test_a_patch_replays_and_moves_the_purchase_order_once(operator, make_client):
    supplier = SupplierFactory()
    clerk = make_client("clerk", perms=ALL_PERMS)
    created = clerk.post(
        "/purchase-orders",
        {
            "supplier_id": str(supplier.supplier_id),
            "line_items": [
                {
                    "item_type": "tent-2p",
                    "location_id": str(uuid.uuid4()),
                    "quantity": 2,
                    "unit_price": "10.00",
                }
            ],
        },
        format="json",
    ).json()
    url = f"/purchase-orders/{created['po_id']}"

    first = clerk.patch(url, {"status": "submitted"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = clerk.patch(url, {"status": "submitted"}, format="json", HTTP_IDEMPOTENCY_KEY=KEY)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"] == '"2"'
    assert again["Idempotent-Replayed"] == "true"
    po = PurchaseOrder.objects.get(pk=created["po_id"])
    assert po.version == 2
    assert po.status_history.count() == 1


def test_an_expired_key_runs_again_and_the_maintenance_task_purges_expired_keys(operator, level):
    consume(operator, level)
    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = consume(operator, level)

    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 2
    fresh = IdempotencyKey.objects.get()
    ttl = fresh.expires_at - fresh.created_at
    assert ttl == timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)

    IdempotencyKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    consume(operator, level, key="still-fresh")
    summary = integration_maintenance.call()

    assert summary["keys_purged"] == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["still-fresh"]


@pytest.mark.django_db(transaction=True)
def test_a_repeat_while_the_first_still_runs_is_a_409():
    user = UserFactory(username="operator", perms=ALL_PERMS)
    client = client_for(user)
    level = stocked_level(10)
    lock_id = idempotency._lock_id(user.pk, KEY)
    # Another request with the key holds it: its transaction has the key's lock.
    with connect(settings.DATABASES["default"]) as running:
        running.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
        response = consume(client, level)
        running.rollback()
    retried = consume(client, level)

    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_progress"
    assert retried.status_code == 201
    assert StockAdjustment.objects.filter(stock=level, reason="consumption").count() == 1


def _views(resolver=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_every_api_view_with_post_or_patch_honours_the_key():
    api_views = [
        pattern.callback.cls
        for pattern in _views()
        if hasattr(pattern.callback, "cls")
        and any(hasattr(pattern.callback.cls, name) for name in ("post", "patch"))
    ]
    assert len(api_views) >= 5
    for view in api_views:
        assert issubclass(view, IdempotentAPIView), view


def test_the_schema_documents_the_key_on_every_post_and_patch(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in ("post", "patch")
    ]
    assert len(operations) >= 5
    for path, method, operation in operations:
        header = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert header and header[0]["in"] == "header", (path, method)
        assert header[0]["schema"]["pattern"] == idempotency.KEY_PATTERN
        assert "idempotency_key_in_progress" in operation["responses"]["409"]["description"]
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
        success = next(s for s in operation["responses"] if s.startswith("2"))
        assert "Idempotent-Replayed" in operation["responses"][success]["headers"]
