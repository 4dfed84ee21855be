"""What the OpenAPI document calls valid, the server accepts; what it calls invalid, the server
refuses with a 400 (request bodies validated against the document with a JSON Schema validator,
then sent). The stock adjustments' rules (one schema per reason, the level named by id or by
pair) and the currency enum are stated in the document."""

import copy
import uuid

import jsonschema
import pytest

from stock.models import StockAdjustment
from tests.factories import SupplierFactory
from tests.stock.factories import stocked_level

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def document(django_db_blocker):
    from rest_framework.test import APIClient

    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    return response.json()


def _json_schema(schema):
    """OpenAPI 3.0's ``nullable`` in JSON Schema terms."""
    if isinstance(schema, list):
        return [_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: _json_schema(value) for key, value in schema.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def validator_for(document, path, method):
    body = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    root = {
        "components": _json_schema(copy.deepcopy(document["components"])),
        **_json_schema(body["schema"]),
    }
    return jsonschema.Draft7Validator(root)


def adjustment_bodies(level, other_place):
    by_id = {"stock_id": str(level.stock_id)}
    by_pair = {"item_type": level.item_type, "location_id": str(level.location_id)}
    return [
        {**by_id, "reason": "correction", "quantity_delta": -1},
        {**by_id, "reason": "correction", "quantity_delta": 0},
        {**by_id, "reason": "correction", "quantity_delta": 2, "counted_quantity": None},
        {**by_id, "reason": "correction", "quantity_delta": 2, "counted_quantity": 2},
        {**by_id, "reason": "damage", "quantity_delta": -1},
        {**by_id, "reason": "damage", "quantity_delta": 1},
        {**by_id, "reason": "consumption", "quantity_delta": -1},
        {**by_id, "reason": "consumption", "quantity_delta": -1_000_001},
        {**by_id, "reason": "receipt", "quantity_delta": 1_000_000},
        {**by_id, "reason": "receipt", "quantity_delta": 1_000_001},
        {**by_id, "reason": "receipt", "quantity_delta": -3},
        {**by_id, "reason": "receipt"},
        {**by_id, "reason": "count", "counted_quantity": 7},
        {**by_id, "reason": "count", "counted_quantity": 7, "quantity_delta": None},
        {**by_id, "reason": "count", "counted_quantity": 7, "quantity_delta": 1},
        {**by_id, "reason": "count", "quantity_delta": 1},
        {**by_id, "reason": "count", "counted_quantity": -1},
        {**by_id, "reason": "po_receipt", "quantity_delta": 1},
        {**by_id, "item_type": None, "location_id": None, "reason": "receipt", "quantity_delta": 1},
        {**by_id, **by_pair, "reason": "receipt", "quantity_delta": 1},
        {**by_id, "item_type": level.item_type, "reason": "receipt", "quantity_delta": 1},
        {**by_pair, "reason": "receipt", "quantity_delta": 1},
        {**by_pair, "stock_id": None, "reason": "consumption", "quantity_delta": -1},
        {
            "item_type": "lantern",
            "location_id": str(other_place),
            "reason": "receipt",
            "quantity_delta": 4,
        },
        {"item_type": level.item_type, "reason": "receipt", "quantity_delta": 1},
        {"location_id": str(level.location_id), "reason": "receipt", "quantity_delta": 1},
        {"reason": "receipt", "quantity_delta": 1},
        {**by_pair, "item_type": "x" * 51, "reason": "receipt", "quantity_delta": 1},
        {**by_pair, "item_type": " \t", "reason": "receipt", "quantity_delta": 1},
        {**by_id, "reason": "receipt", "quantity_delta": 1, "note": "a" * 1001},
        {**by_id, "reason": "receipt", "quantity_delta": 1, "note": ""},
        {**by_id, "reason": "receipt", "quantity_delta": 1, "note": None},
    ]


def test_adjustments_the_document_calls_valid_are_accepted_and_the_rest_refused(
    document, admin_client_api
):
    validator = validator_for(document, "/stock-adjustments", "post")
    level = stocked_level(10_000)
    outcomes = []
    for body in adjustment_bodies(level, uuid.uuid4()):
        valid = validator.is_valid(body)
        response = admin_client_api.post("/stock-adjustments", body, format="json")
        outcomes.append((body, valid, response.status_code))

    disagreements = [
        (body, valid, status) for body, valid, status in outcomes if valid != (status == 201)
    ]
    assert disagreements == []
    assert sum(valid for _, valid, _ in outcomes) == StockAdjustment.objects.count() - 1
    assert 10 <= sum(valid for _, valid, _ in outcomes) < len(outcomes)


@pytest.mark.parametrize(
    ("currency", "valid"),
    [
        ("USD", True),
        ("eur", True),
        ("CHF", True),
        ("Usd", False),
        ("usd\n", False),
        (" usd", False),
        ("XXX", False),
        ("XTS", False),
        ("ABC", False),
        ("US", False),
    ],
)
def test_the_currency_enum_and_the_server_agree(document, admin_client_api, currency, valid):
    validator = validator_for(document, "/purchase-orders", "post")
    supplier = SupplierFactory()
    body = {"supplier_id": str(supplier.supplier_id), "currency": currency, "line_items": []}

    assert validator.is_valid(body) is valid
    response = admin_client_api.post("/purchase-orders", body, format="json")
    assert response.status_code == (201 if valid else 400), response.json()
    if valid:
        assert response.json()["currency"] == currency.upper()
