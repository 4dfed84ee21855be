"""Request bodies over the service's limits: a 400 (too deep) or a 413 (too large) in the error
shape, never a 500, and both limits stated in the OpenAPI document."""

import json
import logging

import pytest
from django.conf import settings

from procurement_site.api.parsers import nesting_depth_exceeds
from suppliers.models import Supplier

pytestmark = pytest.mark.django_db

SUPPLIER = {"name": "Alpine", "contact_email": "orders@alpine.example.com", "lead_time_days": 3}


def post_raw(client, path, body):
    return client.post(path, data=body, content_type="application/json")


@pytest.mark.parametrize("path", ["/suppliers", "/purchase-orders", "/stock-adjustments"])
@pytest.mark.parametrize("bracket", ["[", '{"a":'])
def test_a_thousand_nested_brackets_are_a_400_too_deep(admin_client_api, path, bracket, caplog):
    closing = "]" if bracket == "[" else "}"
    body = bracket * 1000 + "1" + closing * 1000

    with caplog.at_level(logging.WARNING):
        response = post_raw(admin_client_api, path, body)

    assert response.status_code == 400
    assert response.json() == {
        "status": 400,
        "code": "too_deep",
        "message": "The JSON body is nested deeper than the 32 levels of arrays and objects the "
        "API accepts.",
    }
    assert not any(record.exc_info for record in caplog.records)


def test_the_depth_limit_is_exact(admin_client_api):
    limit = settings.API_MAX_JSON_DEPTH
    nested = {**SUPPLIER, "extra": json.loads("[" * (limit - 1) + "]" * (limit - 1))}
    too_deep = {**SUPPLIER, "extra": json.loads("[" * limit + "]" * limit)}

    assert post_raw(admin_client_api, "/suppliers", json.dumps(nested)).status_code == 201
    response = post_raw(admin_client_api, "/suppliers", json.dumps(too_deep))
    assert (response.status_code, response.json()["code"]) == (400, "too_deep")
    assert Supplier.objects.count() == 1


def test_depth_is_measured_without_recursion():
    deep = []
    for _ in range(100_000):
        deep = [deep]
    assert nesting_depth_exceeds(deep, 32)
    assert not nesting_depth_exceeds({"a": [1, {"b": []}]}, 4)
    assert nesting_depth_exceeds({"a": [1, {"b": []}]}, 3)


def test_a_ten_megabyte_body_is_a_413(admin_client_api):
    body = json.dumps({**SUPPLIER, "name": "x" * 10_000_000})

    response = post_raw(admin_client_api, "/suppliers", body)

    assert response.status_code == 413
    assert response.json() == {
        "status": 413,
        "code": "request_too_large",
        "message": "The request body is larger than the 2621440 bytes the API accepts.",
    }
    assert not Supplier.objects.exists()


def test_a_body_just_over_the_limit_is_a_413_and_one_at_it_is_parsed(admin_client_api):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = json.dumps(SUPPLIER)
    at_limit = body[:-1] + " " * (limit - len(body)) + "}"
    assert len(at_limit) == limit

    assert post_raw(admin_client_api, "/suppliers", at_limit).status_code == 201
    response = post_raw(admin_client_api, "/suppliers", at_limit + " ")
    assert (response.status_code, response.json()["code"]) == (413, "request_too_large")


def test_a_patch_over_the_limit_is_a_413(admin_client_api):
    body = json.dumps({"status": "x" * 3_000_000})

    response = admin_client_api.patch(
        "/purchase-orders/2c03bb55-cac5-4a01-9a42-67db924f54c2",
        data=body,
        content_type="application/json",
    )

    assert response.status_code == 413


def test_the_schema_states_both_limits(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    assert "2621440 bytes" in schema["info"]["description"]
    assert "32 levels" in schema["info"]["description"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            if "requestBody" in operation:
                assert "413" in responses, (method, path)
                assert "2621440 bytes" in responses["413"]["description"]
                assert responses["413"]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/Error"
                )
                assert "32 levels" in responses["400"]["description"], (method, path)
            else:
                assert "413" not in responses, (method, path)
