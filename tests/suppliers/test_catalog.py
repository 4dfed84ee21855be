"""The suppliers' catalog: GET/POST /supplier-items, PATCH /supplier-items/{id}."""

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from suppliers.models import SupplierItem
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

CATALOG_PERMS = ["suppliers.add_supplieritem", "suppliers.change_supplieritem"]


@pytest.fixture
def buyer(make_client):
    return make_client("buyer", perms=CATALOG_PERMS)


@pytest.fixture
def summit(db):
    return SupplierFactory(name="Summit Gear", lead_time_days=7)


@pytest.fixture
def ridge(db):
    return SupplierFactory(name="Ridge Supply", lead_time_days=12)


def entry(supplier, **overrides):
    return {
        "supplier_id": str(supplier.supplier_id),
        "item_type": "tent-2p",
        "unit_price": "149.99",
        **overrides,
    }


def post(client, body):
    return client.post("/supplier-items", body, format="json")


def test_post_creates_an_entry_with_the_contract_defaults(buyer, summit):
    response = post(buyer, entry(summit, supplier_sku="SG-T2P", currency="eur"))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["supplier_id"] == str(summit.supplier_id)
    assert body["supplier_name"] == "Summit Gear"
    assert (body["item_type"], body["supplier_sku"], body["unit_price"], body["currency"]) == (
        "tent-2p",
        "SG-T2P",
        "149.99",
        "EUR",
    )
    assert (body["min_order_quantity"], body["order_multiple"]) == (1, 1)
    assert body["lead_time_days"] is None
    assert body["preferred"] is False
    stored = SupplierItem.objects.get(pk=body["supplier_item_id"])
    assert (stored.min_order_quantity, stored.order_multiple, stored.currency) == (1, 1, "EUR")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"min_order_quantity": 0}, "min_order_quantity"),
        ({"order_multiple": 0}, "order_multiple"),
        ({"order_multiple": 1_000_001}, "order_multiple"),
        ({"unit_price": "-1.00"}, "unit_price"),
        ({"unit_price": "1.001"}, "unit_price"),
        ({"lead_time_days": -1}, "lead_time_days"),
        ({"currency": "XXX"}, "currency"),
        ({"currency": "ZZZ"}, "currency"),
        ({"item_type": "   "}, "item_type"),
        ({"item_type": "x" * 51}, "item_type"),
        ({"preferred": "yes"}, "preferred"),
        ({"supplier_id": str(uuid.uuid4())}, "supplier_id"),
    ],
)
def test_post_refuses_each_invalid_field_naming_it(buyer, summit, overrides, field):
    response = post(buyer, entry(summit, **overrides))

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]
    assert not SupplierItem.objects.exists()


def test_one_entry_per_supplier_and_item_type(buyer, summit):
    assert post(buyer, entry(summit)).status_code == 201

    response = post(buyer, entry(summit, unit_price="1.00"))

    assert response.status_code == 409
    assert response.json()["code"] == "already_in_catalog"
    assert SupplierItem.objects.get().unit_price == Decimal("149.99")


def test_writes_need_the_suppliers_catalog_permissions(make_client, reader_client, summit):
    assert post(reader_client, entry(summit)).status_code == 403
    item = SupplierItem.objects.create(supplier=summit, item_type="tent-2p", unit_price=1)
    response = reader_client.patch(
        f"/supplier-items/{item.pk}", {"unit_price": "2.00"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    # Reads need only a login.
    assert reader_client.get("/supplier-items").status_code == 200
    assert reader_client.get(f"/supplier-items/{item.pk}").status_code == 200


def test_reads_and_writes_need_a_login(anon_client, summit):
    assert anon_client.get("/supplier-items").status_code == 401
    assert post(anon_client, entry(summit)).status_code == 401


def test_making_one_preferred_unprefers_the_other(buyer, summit, ridge):
    first = post(buyer, entry(summit, preferred=True)).json()
    second = post(buyer, entry(ridge, preferred=True, unit_price="139.00")).json()

    assert second["preferred"] is True
    preferred = SupplierItem.objects.filter(item_type="tent-2p", preferred=True)
    assert list(preferred.values_list("pk", flat=True)) == [uuid.UUID(second["supplier_item_id"])]

    response = buyer.patch(
        f"/supplier-items/{first['supplier_item_id']}", {"preferred": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["preferred"] is True
    assert list(preferred.values_list("supplier_id", flat=True)) == [summit.supplier_id]


def test_patch_changes_only_the_given_terms(buyer, summit):
    created = post(buyer, entry(summit, min_order_quantity=10, order_multiple=4)).json()

    response = buyer.patch(
        f"/supplier-items/{created['supplier_item_id']}",
        {"unit_price": "120.00", "lead_time_days": 5, "item_type": "ignored"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["unit_price"], body["lead_time_days"], body["item_type"]) == (
        "120.00",
        5,
        "tent-2p",
    )
    assert (body["min_order_quantity"], body["order_multiple"]) == (10, 4)


def test_patch_refuses_invalid_terms_and_writes_nothing(buyer, summit):
    created = post(buyer, entry(summit)).json()
    response = buyer.patch(
        f"/supplier-items/{created['supplier_item_id']}",
        {"unit_price": "5.00", "min_order_quantity": 0},
        format="json",
    )
    assert response.status_code == 400
    assert "min_order_quantity" in response.json()["fields"]
    assert SupplierItem.objects.get().unit_price == Decimal("149.99")


@pytest.mark.parametrize("item_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_entry_is_404(buyer, item_id):
    response = buyer.patch(f"/supplier-items/{item_id}", {"preferred": True}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert buyer.get(f"/supplier-items/{item_id}").status_code == 404


def test_list_filters_by_supplier_item_type_and_preferred(buyer, summit, ridge):
    post(buyer, entry(summit, preferred=True))
    post(buyer, entry(ridge))
    post(buyer, entry(ridge, item_type="stove"))

    def ids(query):
        response = buyer.get(f"/supplier-items{query}")
        assert response.status_code == 200
        return sorted((r["supplier_name"], r["item_type"]) for r in response.json()["results"])

    assert ids(f"?supplier_id={ridge.supplier_id}") == [
        ("Ridge Supply", "stove"),
        ("Ridge Supply", "tent-2p"),
    ]
    assert ids("?item_type=tent-2p") == [("Ridge Supply", "tent-2p"), ("Summit Gear", "tent-2p")]
    assert ids("?preferred=true") == [("Summit Gear", "tent-2p")]
    assert ids("?preferred=false&item_type=tent-2p") == [("Ridge Supply", "tent-2p")]
    assert buyer.get("/supplier-items?preferred=maybe").status_code == 400


def test_list_runs_a_fixed_number_of_queries(buyer, reader_client):
    for n in range(3):
        SupplierItem.objects.create(
            supplier=SupplierFactory(), item_type=f"item-{n}", unit_price=Decimal("1.00")
        )
    with CaptureQueriesContext(connection) as few:
        assert reader_client.get("/supplier-items").status_code == 200
    for n in range(3, 30):
        SupplierItem.objects.create(
            supplier=SupplierFactory(), item_type=f"item-{n}", unit_price=Decimal("1.00")
        )
    with CaptureQueriesContext(connection) as many:
        assert len(reader_client.get("/supplier-items").json()["results"]) == 30
    assert len(many) == len(few)


# --- the database's own rules -------------------------------------------------------------


def _insert(supplier, **values):
    columns = {
        "supplier_item_id": uuid.uuid4(),
        "supplier_id": supplier.supplier_id,
        "item_type": "tent-2p",
        "unit_price": Decimal("1.00"),
        **values,
    }
    names = ", ".join(columns)
    marks = ", ".join(["%s"] * len(columns))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO procurement.supplier_items ({names}) VALUES ({marks})",
            list(columns.values()),
        )


def test_a_plain_sql_insert_gets_the_defaults(summit):
    _insert(summit)
    stored = SupplierItem.objects.get()
    assert (stored.min_order_quantity, stored.order_multiple, stored.currency) == (1, 1, "USD")
    assert (stored.preferred, stored.supplier_sku, stored.lead_time_days) == (False, "", None)


@pytest.mark.parametrize(
    "values",
    [
        {"min_order_quantity": 0},
        {"order_multiple": 0},
        {"unit_price": Decimal("-0.01")},
        {"lead_time_days": -1},
        {"item_type": ""},
    ],
)
def test_the_database_refuses_what_the_contract_forbids(summit, values):
    with pytest.raises(IntegrityError):
        _insert(summit, **values)


def test_the_database_holds_one_preferred_supplier_per_item_type(summit, ridge):
    _insert(summit, preferred=True)
    _insert(ridge, preferred=False)
    with pytest.raises(IntegrityError):
        _insert(SupplierFactory(), preferred=True)
    with pytest.raises(IntegrityError):
        _insert(summit, item_type="tent-2p")


# --- races --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_requests_making_two_suppliers_preferred_leave_one(make_client):
    """Both succeed, one after the other: the item type ends with exactly one preferred
    supplier, the one whose request ran last."""
    buyers = [make_client(f"buyer-{n}", perms=CATALOG_PERMS) for n in range(2)]
    suppliers = [SupplierFactory(name=f"Supplier {n}") for n in range(4)]
    items = [
        SupplierItem.objects.create(supplier=s, item_type="tent-2p", unit_price=Decimal("1.00"))
        for s in suppliers[:2]
    ]
    barrier = threading.Barrier(4)
    results = [None] * 4

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    calls = [
        lambda: buyers[0].patch(f"/supplier-items/{items[0].pk}", {"preferred": True}, "json"),
        lambda: buyers[1].patch(f"/supplier-items/{items[1].pk}", {"preferred": True}, "json"),
        lambda: buyers[0].post("/supplier-items", entry(suppliers[2], preferred=True), "json"),
        lambda: buyers[1].post("/supplier-items", entry(suppliers[3], preferred=True), "json"),
    ]
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [r.status_code for r in results] == [200, 200, 201, 201], results
    assert SupplierItem.objects.filter(item_type="tent-2p").count() == 4
    assert SupplierItem.objects.filter(item_type="tent-2p", preferred=True).count() == 1
