import uuid
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from common.errors import PermissionDenied
from procurement import services
from procurement.admin import ReorderAlertAdmin
from procurement.models import PurchaseOrder
from stock import services as stock_services
from stock.models import ReorderAlert, StockLevel
from tests.admin.conftest import line, messages_of
from tests.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

ALERTS = reverse("admin:stock_reorderalert_changelist")
STORE = uuid.UUID("11111111-1111-4111-8111-111111111111")
DEPOT = uuid.UUID("22222222-2222-4222-8222-222222222222")


def label(po_id):
    return f"PO {str(po_id)[:8]}"


@pytest.fixture
def history(make_po):
    """Past purchases: tents at the store from Summit (100.00), tents at the depot from Ridge,
    later (90.00), kayaks at the depot from Alpine (500.00, in EUR). All received."""
    summit = SupplierFactory(name="Summit Gear")
    ridge = SupplierFactory(name="Ridge Supply")
    alpine = SupplierFactory(name="Alpine Outfitters")
    make_po(
        "received",
        supplier_id=summit.pk,
        line_items=[line("tent-2p", 3, "100.00", STORE)],
    )
    make_po(
        "received",
        supplier_id=ridge.pk,
        line_items=[line("tent-2p", 5, "90.00", DEPOT)],
    )
    kayaks = make_po(
        "received",
        supplier_id=alpine.pk,
        currency="EUR",
        line_items=[line("kayak", 1, "500.00", DEPOT)],
    )
    return {"summit": summit, "ridge": ridge, "alpine": alpine, "kayaks": kayaks}


def alert_for(item_type, location_id, reorder_point, reorder_quantity):
    """Open an alert on the level (creating it at 0 if needed) by raising its point."""
    level = StockLevel.objects.filter(item_type=item_type, location_id=location_id).first()
    if level is None:
        level = stock_services.create_stock_level(
            item_type=item_type,
            location_id=location_id,
            reorder_point=reorder_point,
            reorder_quantity=reorder_quantity,
        )
    else:
        stock_services.update_reorder_settings(
            stock_id=level.pk, reorder_point=reorder_point, reorder_quantity=reorder_quantity
        )
    return ReorderAlert.objects.get(stock=level, resolved_at__isnull=True)


def raise_pos(client, alerts):
    return client.post(
        ALERTS,
        {
            "action": "raise_purchase_orders",
            "_selected_action": [str(alert.pk) for alert in alerts],
        },
    )


def test_alerts_become_one_draft_per_supplier_linked_to_the_alerts(clerk, history):
    tents = alert_for("tent-2p", STORE, 10, 20)  # 3 on hand: suggests 27
    stove = alert_for("stove", STORE, 2, 4)  # never bought: no supplier
    kayaks = alert_for("kayak", STORE, 2, 4)  # bought for the depot only: suggests 6

    response = raise_pos(clerk, [tents, stove, kayaks])

    assert response.status_code == 302
    drafts = PurchaseOrder.objects.filter(status="draft", created_by="clerk")
    assert drafts.count() == 2
    tent_po = drafts.get(supplier=history["summit"])
    assert list(tent_po.line_items.values_list("item_type", "location_id", "quantity")) == [
        ("tent-2p", STORE, 27)
    ]
    assert tent_po.line_items.get().unit_price == Decimal("100.00")
    assert (tent_po.total_amount, tent_po.currency) == (Decimal("2700.00"), "USD")
    kayak_po = drafts.get(supplier=history["alpine"])
    assert kayak_po.currency == "EUR"
    assert list(kayak_po.line_items.values_list("item_type", "location_id", "quantity")) == [
        ("kayak", STORE, 6)
    ]
    assert kayak_po.total_amount == Decimal("3000.00")
    links = dict(ReorderAlert.objects.values_list("alert_id", "po_id"))
    assert links == {tents.pk: tent_po.pk, stove.pk: None, kayaks.pk: kayak_po.pk}

    [(level, text)] = messages_of(response)
    assert level == "warning"
    assert "Raised 2 draft purchase order(s):" in text
    assert f"{label(tent_po.pk)} to Summit Gear (new draft, 1 line(s))" in text
    assert f"{label(kayak_po.pk)} to Alpine Outfitters (new draft, 1 line(s))" in text
    assert (
        f"Skipped 1 alert(s): stove at {STORE}: no known supplier: no preferred catalog "
        "supplier and no earlier purchase order for this item." in text
    )


def test_the_supplier_of_the_same_location_wins_over_a_later_one_elsewhere(clerk, history):
    tents = alert_for("tent-2p", STORE, 10, 20)
    depot_tents = alert_for("tent-2p", DEPOT, 10, 20)  # 5 on hand: suggests 25

    raise_pos(clerk, [tents, depot_tents])

    store_po = PurchaseOrder.objects.get(line_items__location_id=STORE, status="draft")
    depot_po = PurchaseOrder.objects.get(
        line_items__location_id=DEPOT, line_items__item_type="tent-2p", status="draft"
    )
    assert store_po.supplier == history["summit"]
    assert depot_po.supplier == history["ridge"]
    assert depot_po.line_items.get().unit_price == Decimal("90.00")


def test_lines_go_to_the_users_existing_draft_for_that_supplier(clerk, history, make_po):
    own_draft = make_po("draft", supplier_id=history["summit"].pk, created_by="clerk")
    others_draft = make_po("draft", supplier_id=history["summit"].pk, created_by="someone")
    tents = alert_for("tent-2p", STORE, 10, 20)

    response = raise_pos(clerk, [tents])

    own_draft.refresh_from_db()
    assert list(own_draft.line_items.values_list("line_number", "item_type", "quantity")) == [
        (1, "tent-2p", 3),
        (2, "tent-2p", 27),
    ]
    assert own_draft.total_amount == Decimal("2730.00")
    assert others_draft.line_items.count() == 1
    assert PurchaseOrder.objects.filter(status="draft", supplier=history["summit"]).count() == 2
    tents.refresh_from_db()
    assert tents.po_id == own_draft.pk
    assert messages_of(response) == [
        (
            "success",
            f"Raised 1 draft purchase order(s): {label(own_draft.pk)} to Summit Gear "
            "(1 line(s) added to your draft).",
        )
    ]


def test_alerts_already_on_a_po_or_needing_nothing_are_skipped(clerk, history, make_po):
    tents = alert_for("tent-2p", STORE, 10, 20)
    clerk.get(raise_pos(clerk, [tents]).url)  # shows (and so consumes) the first report
    # Enough on its way: an approved PO for the depot's tents covers the suggestion.
    depot_tents = alert_for("tent-2p", DEPOT, 6, 1)
    make_po(
        "approved",
        supplier_id=history["ridge"].pk,
        line_items=[line("tent-2p", 10, "90.00", DEPOT)],
    )

    response = raise_pos(clerk, [tents, depot_tents])

    [(level, text)] = messages_of(response)
    assert level == "error"
    tents.refresh_from_db()
    assert f"already on purchase order {str(tents.po_id)[:8]}" in text
    assert "nothing to order: enough is on order" in text
    assert PurchaseOrder.objects.filter(status="draft").count() == 1  # the first run's


def test_resolved_alerts_are_skipped(clerk, history):
    tents = alert_for("tent-2p", STORE, 10, 20)
    level = tents.stock
    stock_services.update_reorder_settings(stock_id=level.pk, reorder_point=0)

    services_result = services.raise_purchase_orders_for_alerts(
        alert_ids=[tents.pk], user=clerk.user
    )

    assert services_result.orders == ()
    [skip] = services_result.skipped
    assert skip.reason == "it is no longer open"


def test_raising_needs_the_add_permission(approver, history):
    tents = alert_for("tent-2p", STORE, 10, 20)

    response = approver.get(ALERTS)
    assert response.context["action_form"] is None
    with pytest.raises(PermissionDenied):
        services.raise_purchase_orders_for_alerts(alert_ids=[tents.pk], user=approver.user)
    raise_pos(approver, [tents])

    tents.refresh_from_db()
    assert tents.po_id is None
    assert not PurchaseOrder.objects.filter(status="draft").exists()


def test_the_query_count_does_not_grow_with_the_alerts_of_one_supplier(clerk, make_po):
    summit = SupplierFactory(name="Summit Gear")
    items = [f"item-{n}" for n in range(6)]
    make_po(
        "received",
        supplier_id=summit.pk,
        line_items=[line(item, 1, "10.00", STORE) for item in items],
    )
    user = UserFactory(username="raiser", perms=["procurement.add_purchaseorder"])
    alerts = [alert_for(item, STORE, 5, 5) for item in items]

    # The first creates the draft (and loads the user's permissions); the next two add to it.
    services.raise_purchase_orders_for_alerts(alert_ids=[alerts[0].pk], user=user)
    with CaptureQueriesContext(connection) as two:
        services.raise_purchase_orders_for_alerts(alert_ids=[a.pk for a in alerts[1:3]], user=user)
    with CaptureQueriesContext(connection) as three:
        services.raise_purchase_orders_for_alerts(alert_ids=[a.pk for a in alerts[3:]], user=user)

    assert len(three) == len(two)
    assert PurchaseOrder.objects.get(status="draft").line_items.count() == 6


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_open_alerts_by_default(clerk, history):
    tents = alert_for("tent-2p", STORE, 10, 20)
    kayaks = alert_for("kayak", STORE, 2, 4)
    stock_services.record_adjustment(
        reason="receipt", adjusted_by="w", stock_id=kayaks.stock_id, quantity_delta=5
    )

    def listed(query):
        response = clerk.get(ALERTS, query)
        assert response.status_code == 200
        return response.context["cl"].result_list

    [shown] = listed({})
    assert shown.pk == tents.pk
    assert (shown.suggested_quantity, shown.quantity_on_order) == (27, 0)
    assert [alert.pk for alert in listed({"state": "resolved"})] == [kayaks.pk]
    assert {alert.pk for alert in listed({"state": "all"})} == {tents.pk, kayaks.pk}
    assert listed({"state": "resolved"})[0].suggested_quantity is None


def test_the_alert_list_costs_the_same_queries_whatever_its_length(clerk, history):
    alert_for("tent-2p", STORE, 10, 20)
    clerk.get(ALERTS)
    with CaptureQueriesContext(connection) as few:
        clerk.get(ALERTS)
    for n in range(5):
        alert_for(f"item-{n}", STORE, 2, 2)
    with CaptureQueriesContext(connection) as many:
        response = clerk.get(ALERTS)

    assert len(response.context["cl"].result_list) == 6
    assert len(many) == len(few)


def test_the_list_links_each_alert_to_its_po(clerk, history):
    tents = alert_for("tent-2p", STORE, 10, 20)
    raise_pos(clerk, [tents])
    tents.refresh_from_db()

    content = clerk.get(ALERTS).content.decode()

    url = reverse("admin:procurement_purchaseorder_change", args=[tents.po_id])
    assert f'<a href="{url}">{label(tents.po_id)}</a>' in content


def test_alerts_are_read_only(clerk, history):
    tents = alert_for("tent-2p", STORE, 10, 20)
    change = reverse("admin:stock_reorderalert_change", args=[tents.pk])

    assert clerk.post(change, {"resolved_at": "2020-01-01"}).status_code == 403
    assert clerk.get(reverse("admin:stock_reorderalert_add")).status_code == 403
    tents.refresh_from_db()
    assert tents.is_open


def test_reorder_alerts_are_registered_once_with_the_procurement_action():
    """Registered by ``procurement.admin`` alone (no unregister that depends on app order)."""
    assert isinstance(admin.site.get_model_admin(ReorderAlert), ReorderAlertAdmin)
