from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from suppliers.models import Supplier
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

VALID = {
    "name": "Alpine Outfitters",
    "contact_email": "orders@alpine.example.com",
    "lead_time_days": 10,
    "rating": "4.25",
}


@pytest.fixture
def clerk(make_client):
    return make_client("clerk", perms=["suppliers.add_supplier"])


def test_create_supplier_returns_201_and_stores_it(clerk):
    response = clerk.post("/suppliers", VALID, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Alpine Outfitters"
    assert body["rating"] == "4.25"
    assert body["active"] is True
    assert body["expected_lead_time_days"] is None
    assert body["on_time_rate"] is None
    stored = Supplier.objects.get(pk=body["supplier_id"])
    assert stored.lead_time_days == 10
    assert stored.rating == Decimal("4.25")
    assert stored.created_at is not None


def test_create_supplier_rating_may_be_null_or_omitted(clerk):
    body = {k: v for k, v in VALID.items() if k != "rating"}
    assert clerk.post("/suppliers", body, format="json").json()["rating"] is None
    assert clerk.post("/suppliers", {**VALID, "rating": None}, format="json").status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "x" * 201),
        ("name", None),
        ("contact_email", "not-an-email"),
        ("contact_email", ""),
        ("lead_time_days", -1),
        ("lead_time_days", "ten"),
        ("lead_time_days", 1.5),
        ("rating", "5.01"),
        ("rating", "-0.01"),
        ("rating", "4.255"),
        ("active", "perhaps"),
    ],
)
def test_create_supplier_rejects_invalid_field_naming_it(clerk, field, value):
    response = clerk.post("/suppliers", {**VALID, field: value}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert Supplier.objects.count() == 0


@pytest.mark.parametrize("missing", ["name", "contact_email", "lead_time_days"])
def test_create_supplier_requires_fields(clerk, missing):
    body = {k: v for k, v in VALID.items() if k != missing}
    response = clerk.post("/suppliers", body, format="json")
    assert response.status_code == 400
    assert missing in response.json()["fields"]
    assert Supplier.objects.count() == 0


def test_performance_fields_are_read_only(clerk):
    response = clerk.post(
        "/suppliers", {**VALID, "on_time_rate": "1.0", "expected_lead_time_days": 1}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["on_time_rate"] is None
    assert response.json()["expected_lead_time_days"] is None


def test_malformed_json_is_400_with_error_shape(clerk):
    response = clerk.post("/suppliers", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert Supplier.objects.count() == 0


def test_no_credentials_is_401(anon_client):
    for response in (anon_client.get("/suppliers"), anon_client.post("/suppliers", VALID)):
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    assert Supplier.objects.count() == 0


def test_bad_token_is_401(anon_client):
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = anon_client.get("/suppliers")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_create_without_permission_is_403(reader_client):
    response = reader_client.post("/suppliers", VALID, format="json")
    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "code": "permission_denied",
        "message": "You do not have permission to perform this action.",
    }
    assert Supplier.objects.count() == 0


def test_list_is_paginated(reader_client):
    SupplierFactory.create_batch(3)
    response = reader_client.get("/suppliers", {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert body["previous"] is None
    second = reader_client.get("/suppliers", {"page_size": 2, "page": 2}).json()
    assert len(second["results"]) == 1


def test_page_size_is_capped_at_500(reader_client):
    SupplierFactory.create_batch(2)
    response = reader_client.get("/suppliers", {"page_size": 10_000})
    assert response.status_code == 200
    assert response.json()["count"] == 2


def test_unknown_page_is_404_json(reader_client):
    response = reader_client.get("/suppliers", {"page": 9})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_filter_active(reader_client):
    SupplierFactory(name="Active One", active=True)
    SupplierFactory(name="Retired One", active=False)
    names = [s["name"] for s in reader_client.get("/suppliers?active=false").json()["results"]]
    assert names == ["Retired One"]
    names = [s["name"] for s in reader_client.get("/suppliers?active=true").json()["results"]]
    assert names == ["Active One"]


def test_filter_active_rejects_garbage(reader_client):
    response = reader_client.get("/suppliers?active=sometimes")
    assert response.status_code == 400
    assert "active" in response.json()["fields"]


def test_search_by_name_case_insensitive(reader_client):
    SupplierFactory(name="Glacier Ropes Ltd")
    SupplierFactory(name="Desert Tents")
    names = [s["name"] for s in reader_client.get("/suppliers?search=ROPES").json()["results"]]
    assert names == ["Glacier Ropes Ltd"]


def test_ordering(reader_client):
    SupplierFactory(name="B", lead_time_days=3)
    SupplierFactory(name="A", lead_time_days=9)
    SupplierFactory(name="C", lead_time_days=1)
    by_name = [s["name"] for s in reader_client.get("/suppliers").json()["results"]]
    assert by_name == ["A", "B", "C"]
    by_lead = reader_client.get("/suppliers?ordering=-lead_time_days").json()["results"]
    assert [s["name"] for s in by_lead] == ["A", "B", "C"]
    by_lead = reader_client.get("/suppliers?ordering=lead_time_days").json()["results"]
    assert [s["name"] for s in by_lead] == ["C", "B", "A"]


def test_list_query_count_does_not_grow_with_rows(reader_client):
    SupplierFactory()
    with CaptureQueriesContext(connection) as one:
        assert reader_client.get("/suppliers").status_code == 200
    SupplierFactory.create_batch(49)
    with CaptureQueriesContext(connection) as page:
        assert len(reader_client.get("/suppliers").json()["results"]) == 50
    assert len(page) == len(one)
