from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from procurement.models import POStatus, POStatusChange, PurchaseOrder
from tests.conftest import ALL_PERMS
from tests.procurement.conftest import PATHS, move, patch

pytestmark = pytest.mark.django_db

STATUSES = [s.value for s in POStatus]
# Every edge of the contract's machine.
EDGES = {
    ("draft", "submitted"),
    ("draft", "cancelled"),
    ("submitted", "approved"),
    ("submitted", "rejected"),
    ("submitted", "cancelled"),
    ("approved", "shipped"),
    ("approved", "cancelled"),
    ("shipped", "received"),
}
ALLOWED_FROM = {
    status: [target for target in STATUSES if (status, target) in EDGES] for status in STATUSES
}
FORBIDDEN = [(s, t) for s in STATUSES for t in STATUSES if (s, t) not in EDGES]


def history(po_id):
    return list(
        POStatusChange.objects.filter(purchase_order_id=po_id)
        .order_by("changed_at", "id")
        .values_list("from_status", "to_status", "changed_by", "reason")
    )


def test_the_machine_has_eight_edges_and_three_final_statuses():
    assert len(FORBIDDEN) == 49 - 8
    assert [s for s, allowed in ALLOWED_FROM.items() if not allowed] == [
        "received",
        "rejected",
        "cancelled",
    ]


def test_happy_path_each_edge_by_its_user(clerk, approver, warehouse, create_po, supplier):
    """draft -> submitted (clerk) -> approved (approver) -> shipped -> received (warehouse)."""
    po = create_po()
    po_id = po["po_id"]
    before_submit = timezone.now()

    submitted = move(clerk, po_id, "submitted")
    assert submitted["status"] == "submitted"
    assert submitted["submitted_at"] is not None
    assert submitted["expected_delivery_date"] == str(
        timezone.localdate(before_submit) + timedelta(days=7)
    )
    assert submitted["approved_by"] is None

    # The supplier's learned lead time now differs: approval recomputes the delivery date.
    supplier.expected_lead_time_days = Decimal("11.200")
    supplier.receipts_count = 3
    supplier.save()
    approved = move(approver, po_id, "approved")
    assert approved["approved_by"] == "approver"
    assert approved["approved_at"] is not None
    assert approved["submitted_at"] == submitted["submitted_at"]
    assert approved["expected_delivery_date"] == str(timezone.localdate() + timedelta(days=12))

    shipped = move(warehouse, po_id, "shipped")
    assert shipped["status"] == "shipped"
    received = move(warehouse, po_id, "received")
    assert received["status"] == "received"
    assert received["received_at"] is not None
    assert received["available_transitions"] == []

    assert history(po_id) == [
        ("draft", "submitted", "clerk", ""),
        ("submitted", "approved", "approver", ""),
        ("approved", "shipped", "warehouse", ""),
        ("shipped", "received", "warehouse", ""),
    ]
    assert [
        (h["from_status"], h["to_status"], h["changed_by"]) for h in received["status_history"]
    ] == [(f, t, who) for f, t, who, _ in history(po_id)]
    stored = PurchaseOrder.objects.get(pk=po_id)
    assert stored.status_history.get(to_status="approved").changed_at == stored.approved_at
    assert stored.status_history.get(to_status="submitted").changed_at == stored.submitted_at
    assert stored.version == 5


def test_reject_with_a_reason_records_it(clerk, approver, create_po):
    po = create_po()
    move(clerk, po["po_id"], "submitted")

    body = move(approver, po["po_id"], "REJECTED", reason="  Over budget this quarter. ")

    assert body["status"] == "rejected"
    assert body["approved_by"] is None
    assert body["status_history"][-1]["reason"] == "Over budget this quarter."
    assert history(po["po_id"])[-1] == (
        "submitted",
        "rejected",
        "approver",
        "Over budget this quarter.",
    )
    assert body["available_transitions"] == []


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_reject_without_a_reason_is_400(approver, po_in, body):
    po = po_in("submitted")
    response = patch(approver, po.po_id, {"status": "rejected", **body})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["reason"]
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.status, stored.version) == ("submitted", po.version)


@pytest.mark.parametrize("source", ["draft", "submitted", "approved"])
def test_cancel_from_each_open_status(clerk, po_in, source):
    po = po_in(source)
    body = move(clerk, po.po_id, "Cancelled", reason="No longer needed.")

    assert body["status"] == "cancelled"
    assert body["available_transitions"] == []
    assert history(po.po_id)[-1] == (source, "cancelled", "clerk", "No longer needed.")
    if source != "approved":
        assert body["approved_by"] is None


@pytest.mark.parametrize(("source", "target"), sorted(EDGES))
def test_every_edge_is_allowed(make_client, po_in, source, target):
    client = make_client("edge-walker", perms=ALL_PERMS)
    po = po_in(source)
    response = patch(client, po.po_id, {"status": target, "reason": "test"})

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == target
    assert len(history(po.po_id)) == len(PATHS[source]) + 1


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_every_other_move_is_409_naming_the_allowed_ones(make_client, po_in, source, target):
    """With every permission, and not the creator: only the machine says no."""
    client = make_client("edge-walker", perms=ALL_PERMS)
    po = po_in(source)
    before = len(history(po.po_id))

    response = patch(client, po.po_id, {"status": target, "reason": "test"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["current_status"] == source
    assert body["allowed_transitions"] == ALLOWED_FROM[source]
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.status, stored.version) == (source, po.version)
    assert len(history(po.po_id)) == before


def test_submitting_without_lines_is_409(clerk, create_po):
    po = create_po(line_items=[])
    response = patch(clerk, po["po_id"], {"status": "submitted"})

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert "line item" in body["message"]
    assert body["allowed_transitions"] == ["cancelled"]
    assert PurchaseOrder.objects.get(pk=po["po_id"]).submitted_at is None


@pytest.mark.parametrize("target", ["approved", "rejected"])
def test_approving_or_rejecting_without_the_permission_is_403(clerk, po_in, target):
    po = po_in("submitted")
    response = patch(clerk, po.po_id, {"status": target, "reason": "test"})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "procurement.approve_purchaseorder" in response.json()["message"]
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.status, stored.approved_by, stored.approved_at) == ("submitted", None, None)


@pytest.mark.parametrize("target", ["approved", "rejected"])
def test_approving_or_rejecting_your_own_po_is_403(make_client, supplier, target):
    """An approver who can also create POs may not approve the ones they created."""
    both = make_client("clerk-approver", perms=ALL_PERMS)
    created = both.post(
        "/purchase-orders",
        {
            "supplier_id": str(supplier.supplier_id),
            "line_items": [
                {
                    "item_type": "rope",
                    "location_id": "2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
                    "quantity": 1,
                    "unit_price": "1.00",
                }
            ],
        },
        format="json",
    ).json()
    move(both, created["po_id"], "submitted")
    assert both.get(f"/purchase-orders/{created['po_id']}").json()["available_transitions"] == [
        "cancelled"
    ]

    response = patch(both, created["po_id"], {"status": target, "reason": "test"})

    assert response.status_code == 403
    assert response.json()["code"] == "own_purchase_order"
    stored = PurchaseOrder.objects.get(pk=created["po_id"])
    assert (stored.status, stored.approved_by) == ("submitted", None)
    assert history(created["po_id"]) == [("draft", "submitted", "clerk-approver", "")]


def test_a_forbidden_move_is_409_even_without_the_permission(clerk, po_in):
    """The machine is checked before the permission: approving a draft is a conflict."""
    po = po_in("draft")
    response = patch(clerk, po.po_id, {"status": "approved"})
    assert response.status_code == 409
    assert response.json()["allowed_transitions"] == ["submitted", "cancelled"]


def test_moving_to_the_current_status_is_409(clerk, po_in):
    po = po_in("submitted")
    response = patch(clerk, po.po_id, {"status": "submitted"})
    assert response.status_code == 409
    assert "already submitted" in response.json()["message"]


@pytest.mark.parametrize(("status", "target"), [("draft", "submitted"), ("submitted", "approved")])
def test_no_submission_or_approval_for_a_deactivated_supplier(
    po_in, supplier, clerk, approver, status, target
):
    po = po_in(status)
    supplier.active = False
    supplier.save()
    client = clerk if target == "submitted" else approver

    response = patch(client, po.po_id, {"status": target})

    assert response.status_code == 409
    assert response.json()["code"] == "supplier_inactive"
    stored = PurchaseOrder.objects.get(pk=po.po_id)
    assert stored.status == status
    assert stored.version == po.version
    assert not POStatusChange.objects.filter(purchase_order=po, to_status=target).exists()


def test_the_status_column_keeps_its_database_default_and_an_insert_sets_it(supplier):
    """An insert sends ``draft`` and reads the column back (it has a database default) into the
    protected field: the same value, no modification."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'purchase_orders' "
            "AND column_name = 'status'"
        )
        [(default,)] = cursor.fetchall()
    assert default.startswith("'draft'")
    po = PurchaseOrder.objects.create(supplier=supplier, total_amount=Decimal("0.00"))
    assert po.status == POStatus.DRAFT
    assert PurchaseOrder.objects.get(pk=po.pk).status == POStatus.DRAFT
