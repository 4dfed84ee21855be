"""POST /purchase-orders/from-alerts: drafts from reorder alerts, the catalog first."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procurement import services
from procurement.models import PurchaseOrder
from stock import services as stock_services
from stock.models import ReorderAlert, StockLevel
from suppliers.models import SupplierItem
from tests.factories import SupplierFactory, UserFactory
from tests.procurement.conftest import APPROVER_PERMS, CLERK_PERMS, line

pytestmark = pytest.mark.django_db

STORE = uuid.UUID("11111111-1111-4111-8111-111111111111")
DEPOT = uuid.UUID("22222222-2222-4222-8222-222222222222")


def alert_for(item_type, location_id=STORE, reorder_point=5, reorder_quantity=2):
    """An open alert on a level at 0: suggested quantity = point + quantity."""
    level = StockLevel.objects.filter(item_type=item_type, location_id=location_id).first()
    if level is None:
        stock_services.create_stock_level(
            item_type=item_type,
            location_id=location_id,
            reorder_point=reorder_point,
            reorder_quantity=reorder_quantity,
        )
    return ReorderAlert.objects.get(
        stock__item_type=item_type, stock__location_id=location_id, resolved_at__isnull=True
    )


def raise_from(client, *alerts):
    return client.post(
        "/purchase-orders/from-alerts",
        {"alert_ids": [str(alert.pk) for alert in alerts]},
        format="json",
    )


def committed_purchase(supplier, item_type, unit_price, location_id=STORE, currency="USD"):
    """An approved PO for the item: the 'last purchase' fallback source."""
    po = services.create_purchase_order(
        supplier_id=supplier.pk,
        currency=currency,
        line_items=[line(item_type, 1, unit_price, location_id)],
        created_by="someone",
    )
    services.transition_purchase_order(
        po_id=po.po_id,
        target_status="submitted",
        user=UserFactory(username="submitter", perms=CLERK_PERMS),
    )
    services.transition_purchase_order(
        po_id=po.po_id,
        target_status="approved",
        user=UserFactory(username="boss", perms=APPROVER_PERMS),
    )
    return po


@pytest.fixture
def summit(db):
    return SupplierFactory(name="Summit Gear")


@pytest.fixture
def ridge(db):
    return SupplierFactory(name="Ridge Supply")


def test_the_preferred_catalog_supplier_wins_with_its_price_and_rounding(clerk, summit, ridge):
    committed_purchase(ridge, "tent-2p", "90.00")  # the last purchase: not used
    SupplierItem.objects.create(
        supplier=summit,
        item_type="tent-2p",
        unit_price=Decimal("149.99"),
        currency="EUR",
        min_order_quantity=10,
        order_multiple=4,
        preferred=True,
    )
    SupplierItem.objects.create(supplier=ridge, item_type="tent-2p", unit_price=Decimal("1.00"))
    alert = alert_for("tent-2p", reorder_point=5, reorder_quantity=2)  # suggests 7

    response = raise_from(clerk, alert)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["skipped"] == []
    [po] = body["purchase_orders"]
    assert (po["supplier_id"], po["currency"], po["status"], po["created_by"]) == (
        str(summit.pk),
        "EUR",
        "draft",
        "clerk",
    )
    # 7 raised to the minimum 10, then to a multiple of 4: 12.
    [po_line] = po["line_items"]
    assert (po_line["quantity"], po_line["unit_price"], po_line["location_id"]) == (
        12,
        "149.99",
        str(STORE),
    )
    assert po["total_amount"] == "1799.88"
    alert.refresh_from_db()
    assert str(alert.po_id) == po["po_id"]


@pytest.mark.parametrize(
    ("suggested", "minimum", "multiple", "ordered"),
    [(7, 1, 1, 7), (7, 10, 1, 10), (7, 1, 4, 8), (8, 1, 4, 8), (7, 10, 4, 12), (13, 10, 4, 16)],
)
def test_order_quantity_rounding(suggested, minimum, multiple, ordered):
    assert (
        services.order_quantity(
            suggested=suggested, min_order_quantity=minimum, order_multiple=multiple
        )
        == ordered
    )


def test_without_a_preferred_entry_the_last_purchase_is_used(clerk, summit, ridge):
    committed_purchase(ridge, "stove", "45.50")
    # A catalog entry that is not preferred does not choose the supplier.
    SupplierItem.objects.create(supplier=summit, item_type="stove", unit_price=Decimal("1.00"))
    alert = alert_for("stove", reorder_point=3, reorder_quantity=2)

    [po] = raise_from(clerk, alert).json()["purchase_orders"]

    assert po["supplier_id"] == str(ridge.pk)
    # Suggested: point 3 + quantity 2 - 1 on order (the approved purchase).
    assert [(li["quantity"], li["unit_price"]) for li in po["line_items"]] == [(4, "45.50")]


def test_an_inactive_preferred_supplier_is_passed_over(clerk, summit, ridge):
    committed_purchase(ridge, "stove", "45.50")
    SupplierItem.objects.create(
        supplier=summit, item_type="stove", unit_price=Decimal("1.00"), preferred=True
    )
    summit.active = False
    summit.save()

    [po] = raise_from(clerk, alert_for("stove")).json()["purchase_orders"]

    assert po["supplier_id"] == str(ridge.pk)


def test_one_bad_alert_is_skipped_and_the_others_raised(clerk, summit):
    for item_type in ("tent-2p", "huge", "stove"):
        SupplierItem.objects.create(
            supplier=summit, item_type=item_type, unit_price=Decimal("2.00"), preferred=True
        )
    good = alert_for("tent-2p")
    unknown = alert_for("mystery")  # no catalog entry, no purchase
    huge = alert_for("huge", reorder_point=5, reorder_quantity=2_000_000)
    stove = alert_for("stove")
    gone = uuid.uuid4()

    response = clerk.post(
        "/purchase-orders/from-alerts",
        {"alert_ids": [str(a.pk) for a in (good, unknown, huge, stove)] + [str(gone)]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    [po] = body["purchase_orders"]
    assert sorted(li["item_type"] for li in po["line_items"]) == ["stove", "tent-2p"]
    reasons = {skip["alert_id"]: skip["reason"] for skip in body["skipped"]}
    assert set(reasons) == {str(unknown.pk), str(huge.pk), str(gone)}
    assert reasons[str(unknown.pk)].startswith("no known supplier")
    assert "2000005" in reasons[str(huge.pk)] and "1000000" in reasons[str(huge.pk)]
    assert reasons[str(gone)] == "it is no longer open"
    assert ReorderAlert.objects.get(pk=huge.pk).po_id is None


def test_a_draft_full_at_500_lines_skips_the_alert_that_no_longer_fits(clerk, summit):
    SupplierItem.objects.create(
        supplier=summit, item_type="tent-2p", unit_price=Decimal("1.00"), preferred=True
    )
    full = services.create_purchase_order(
        supplier_id=summit.pk,
        line_items=[line(f"item-{n}", 1, "1.00") for n in range(500)],
        created_by="clerk",
    )
    alert = alert_for("tent-2p")

    body = raise_from(clerk, alert).json()

    assert body["purchase_orders"] == []
    [skip] = body["skipped"]
    assert skip["alert_id"] == str(alert.pk)
    assert "500 lines" in skip["reason"]
    assert full.line_items.count() == 500


def test_an_alert_already_on_an_open_po_is_skipped(clerk, summit):
    SupplierItem.objects.create(
        supplier=summit, item_type="tent-2p", unit_price=Decimal("1.00"), preferred=True
    )
    alert = alert_for("tent-2p")
    [po] = raise_from(clerk, alert).json()["purchase_orders"]

    body = raise_from(clerk, alert).json()

    assert body["purchase_orders"] == []
    assert body["skipped"] == [
        {"alert_id": str(alert.pk), "reason": f"it is already on purchase order {po['po_id'][:8]}"}
    ]


@pytest.mark.parametrize("end", ["cancelled", "rejected"])
def test_an_alert_whose_po_died_can_be_raised_again(clerk, make_client, summit, end):
    SupplierItem.objects.create(
        supplier=summit, item_type="tent-2p", unit_price=Decimal("1.00"), preferred=True
    )
    alert = alert_for("tent-2p")
    [dead] = raise_from(clerk, alert).json()["purchase_orders"]
    if end == "cancelled":
        clerk.patch(f"/purchase-orders/{dead['po_id']}", {"status": "cancelled"}, format="json")
    else:
        clerk.patch(f"/purchase-orders/{dead['po_id']}", {"status": "submitted"}, format="json")
        boss = make_client("boss", perms=APPROVER_PERMS)
        response = boss.patch(
            f"/purchase-orders/{dead['po_id']}",
            {"status": "rejected", "reason": "wrong month"},
            format="json",
        )
        assert response.status_code == 200
    assert PurchaseOrder.objects.get(pk=dead["po_id"]).status == end

    body = raise_from(clerk, alert).json()

    assert body["skipped"] == []
    [again] = body["purchase_orders"]
    assert again["po_id"] != dead["po_id"]
    alert.refresh_from_db()
    assert str(alert.po_id) == again["po_id"]


def test_lines_go_to_the_users_own_draft_for_that_supplier(clerk, summit):
    SupplierItem.objects.create(
        supplier=summit, item_type="tent-2p", unit_price=Decimal("1.00"), preferred=True
    )
    SupplierItem.objects.create(
        supplier=summit, item_type="stove", unit_price=Decimal("3.00"), preferred=True
    )
    [first] = raise_from(clerk, alert_for("tent-2p")).json()["purchase_orders"]

    [second] = raise_from(clerk, alert_for("stove")).json()["purchase_orders"]

    assert second["po_id"] == first["po_id"]
    assert [li["item_type"] for li in second["line_items"]] == ["tent-2p", "stove"]


def test_needs_the_add_permission(make_client, reader_client, anon_client, summit):
    alert = alert_for("tent-2p")
    assert raise_from(anon_client, alert).status_code == 401
    response = raise_from(make_client("mover", perms=["procurement.change_purchaseorder"]), alert)
    assert response.status_code == 403
    assert raise_from(reader_client, alert).status_code == 403
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize(
    "body",
    [{}, {"alert_ids": []}, {"alert_ids": ["nope"]}, {"alert_ids": "x"}, {"alert_ids": [1]}],
)
def test_invalid_input_is_400(clerk, body):
    response = clerk.post("/purchase-orders/from-alerts", body, format="json")
    assert response.status_code == 400
    assert any(field.startswith("alert_ids") for field in response.json()["fields"])


def test_the_number_of_queries_does_not_grow_with_the_alerts(clerk, summit):
    def raise_for(item_types):
        for item_type in item_types:
            SupplierItem.objects.create(
                supplier=summit, item_type=item_type, unit_price=Decimal("1.00"), preferred=True
            )
        alerts = [alert_for(item_type) for item_type in item_types]
        with CaptureQueriesContext(connection) as queries:
            response = raise_from(clerk, *alerts)
        assert response.status_code == 201
        return len(queries)

    few = raise_for([f"a-{n}" for n in range(2)])
    PurchaseOrder.objects.all().delete()
    many = raise_for([f"b-{n}" for n in range(20)])
    assert many == few
