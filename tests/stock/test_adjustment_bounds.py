"""Adjustments move at most 1,000,000 units, as a purchase order line orders at most that many;
a receipt that would take a level past what its integer column holds is a 409 naming the level."""

import pytest

from common.errors import InvalidInput
from stock.models import AdjustmentReason, StockAdjustment
from stock.services import MAX_QUANTITY, record_adjustment
from tests.factories import StockLevelFactory
from tests.stock.factories import stocked_level

pytestmark = pytest.mark.django_db


def assert_400_naming(response, field):
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"], response.json()


@pytest.mark.parametrize(
    ("reason", "field", "amount"),
    [
        ("receipt", "quantity_delta", 2_147_483_000),
        ("receipt", "quantity_delta", 1_000_001),
        ("correction", "quantity_delta", -1_000_001),
        ("consumption", "quantity_delta", -1_000_001),
        ("damage", "quantity_delta", -1_000_001),
        ("count", "counted_quantity", 1_000_001),
    ],
)
def test_an_adjustment_over_a_million_units_is_400(admin_client_api, reason, field, amount):
    level = stocked_level(5)
    body = {"stock_id": str(level.stock_id), "reason": reason, field: amount}

    assert_400_naming(admin_client_api.post("/stock-adjustments", body, format="json"), field)
    level.refresh_from_db()
    assert level.quantity_on_hand == 5
    assert StockAdjustment.objects.filter(stock=level).count() == 1  # the stocking receipt


@pytest.mark.parametrize(
    ("reason", "field", "amount"),
    [("receipt", "quantity_delta", 1_000_000), ("count", "counted_quantity", 1_000_000)],
)
def test_a_million_units_is_accepted(admin_client_api, reason, field, amount):
    level = stocked_level(5)
    body = {"stock_id": str(level.stock_id), "reason": reason, field: amount}

    response = admin_client_api.post("/stock-adjustments", body, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["quantity_on_hand"] == 1_000_000 + (5 if reason == "receipt" else 0)


@pytest.mark.parametrize(
    ("reason", "field", "amount"),
    [
        (AdjustmentReason.RECEIPT, "quantity_delta", 1_000_001),
        (AdjustmentReason.CONSUMPTION, "quantity_delta", -1_000_001),
        (AdjustmentReason.COUNT, "counted_quantity", 1_000_001),
    ],
)
def test_the_service_bounds_adjustments_too(reason, field, amount):
    """The admin's form and any other caller go through the same service."""
    level = stocked_level(5)

    with pytest.raises(InvalidInput) as raised:
        record_adjustment(
            reason=reason, adjusted_by="admin", stock_id=level.stock_id, **{field: amount}
        )

    assert raised.value.field == field
    assert StockAdjustment.objects.filter(stock=level).count() == 1


def test_the_schema_states_the_bounds(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    components = schema["components"]["schemas"]
    bounds = set()
    for name, component in components.items():
        if "Adjustment" not in name or not name.endswith("Request"):
            continue
        for part in [component, *component.get("allOf", [])]:
            for field in ("quantity_delta", "counted_quantity"):
                prop = part.get("properties", {}).get(field)
                if prop and "maximum" in prop:
                    bounds.add((field, prop.get("minimum"), prop["maximum"]))
    assert ("counted_quantity", 0, 1_000_000) in bounds
    assert all(abs(low) <= 1_000_000 and high <= 1_000_000 for _, low, high in bounds), bounds


def test_a_receipt_past_the_largest_quantity_is_409_naming_the_level(admin_client_api):
    level = StockLevelFactory(quantity_on_hand=MAX_QUANTITY - 10, reorder_point=0)
    body = {"stock_id": str(level.stock_id), "reason": "receipt", "quantity_delta": 11}

    response = admin_client_api.post("/stock-adjustments", body, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "stock_level_full"
    assert response.json()["stock_id"] == str(level.stock_id)
    assert response.json()["quantity_on_hand"] == MAX_QUANTITY - 10
    assert "fields" not in response.json()
    level.refresh_from_db()
    assert level.quantity_on_hand == MAX_QUANTITY - 10
    assert not StockAdjustment.objects.filter(stock=level).exists()
