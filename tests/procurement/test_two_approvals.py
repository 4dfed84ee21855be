"""Approval above a threshold (contract): above PO_SECOND_APPROVAL_ABOVE a PO needs two
approvals by two different approvers, neither of them its creator (nor anyone who shaped it)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procurement import services
from procurement.models import POApproval, POStatusChange, PurchaseOrder
from tests.factories import UserFactory
from tests.procurement.conftest import APPROVER_PERMS, line, move, patch

pytestmark = pytest.mark.django_db

LARGE = [line(quantity=101, unit_price="100.00")]  # 10100.00: above the default 10000.00
AT_THRESHOLD = [line(quantity=100, unit_price="100.00")]  # 10000.00: one approval


@pytest.fixture
def second_approver(make_client):
    return make_client("approver-2", perms=APPROVER_PERMS)


@pytest.fixture
def submitted(create_po, clerk):
    def make(line_items=LARGE, **extra):
        po = create_po(line_items=line_items, **extra)
        move(clerk, po["po_id"], "submitted")
        return po["po_id"]

    return make


def test_a_large_po_needs_two_approvals(submitted, approver, second_approver):
    po_id = submitted()

    first = move(approver, po_id, "approved")

    assert first["status"] == "submitted"
    assert first["approved_by"] is None and first["approved_at"] is None
    assert [a["approved_by"] for a in first["approvals"]] == ["approver"]
    assert first["approvals"][0]["approved_at"]
    # Truthful: the first approver may not approve again, but may still reject or cancel.
    assert first["available_transitions"] == ["rejected", "cancelled"]
    assert second_approver.get(f"/purchase-orders/{po_id}").json()["available_transitions"] == [
        "approved",
        "rejected",
        "cancelled",
    ]
    assert not POStatusChange.objects.filter(purchase_order_id=po_id, to_status="approved")

    second = move(second_approver, po_id, "approved")

    assert second["status"] == "approved"
    assert second["approved_by"] == "approver-2"
    assert [a["approved_by"] for a in second["approvals"]] == ["approver", "approver-2"]
    assert POStatusChange.objects.get(purchase_order_id=po_id, to_status="approved").changed_by == (
        "approver-2"
    )


def test_at_the_threshold_one_approval_is_enough(submitted, approver):
    po_id = submitted(AT_THRESHOLD)

    body = move(approver, po_id, "approved")

    assert body["status"] == "approved"
    assert [a["approved_by"] for a in body["approvals"]] == ["approver"]


def test_the_same_approver_twice_is_409_already_approved(submitted, approver):
    po_id = submitted()
    move(approver, po_id, "approved")
    version = PurchaseOrder.objects.get(pk=po_id).version

    response = patch(approver, po_id, {"status": "approved"})

    assert response.status_code == 409
    assert response.json()["code"] == "already_approved"
    stored = PurchaseOrder.objects.get(pk=po_id)
    assert (stored.status, stored.version) == ("submitted", version)
    assert POApproval.objects.filter(purchase_order_id=po_id).count() == 1


def test_the_creator_may_give_neither_approval(make_client, create_po, approver):
    creator = make_client(
        "creator-approver",
        perms=[
            "procurement.add_purchaseorder",
            "procurement.change_purchaseorder",
            "procurement.approve_purchaseorder",
        ],
    )
    po_id = create_po(client=creator, line_items=LARGE)["po_id"]
    submitter = make_client("submitter-clerk", perms=["procurement.change_purchaseorder"])
    move(submitter, po_id, "submitted")

    refused = patch(creator, po_id, {"status": "approved"})
    assert refused.status_code == 403
    assert refused.json()["code"] == "own_purchase_order"

    move(approver, po_id, "approved")
    refused = patch(creator, po_id, {"status": "approved"})

    assert refused.status_code == 403
    assert refused.json()["code"] == "own_purchase_order"
    assert PurchaseOrder.objects.get(pk=po_id).status == "submitted"
    assert list(POApproval.objects.values_list("approved_by", flat=True)) == ["approver"]


def test_the_threshold_is_a_setting_in_the_pos_own_currency(settings, submitted, approver):
    settings.PO_SECOND_APPROVAL_ABOVE = 50
    po_id = submitted([line(quantity=6, unit_price="10.00")], currency="JPY")

    assert move(approver, po_id, "approved")["status"] == "submitted"


def test_a_first_approval_can_be_followed_by_a_rejection(submitted, approver, second_approver):
    po_id = submitted()
    move(approver, po_id, "approved")

    body = move(second_approver, po_id, "rejected", reason="Too much.")

    assert body["status"] == "rejected"
    assert [a["approved_by"] for a in body["approvals"]] == ["approver"]


def test_every_po_returns_its_approvals(create_po, reader_client):
    po_id = create_po()["po_id"]
    assert reader_client.get(f"/purchase-orders/{po_id}").json()["approvals"] == []


def test_listing_reads_the_approvals_without_n_plus_1(submitted, approver, reader_client):
    for _ in range(2):
        move(approver, submitted(), "approved")
    with CaptureQueriesContext(connection) as few:
        assert reader_client.get("/purchase-orders").status_code == 200
    for _ in range(6):
        move(approver, submitted(), "approved")
    with CaptureQueriesContext(connection) as many:
        body = reader_client.get("/purchase-orders").json()
    assert len(body["results"]) == 8
    assert all(len(po["approvals"]) == 1 for po in body["results"])
    assert len(many) == len(few)


def test_two_concurrent_approvers_are_serialised(submitted, approver, second_approver):
    """One after the other under the row lock: after both, the PO is approved with two rows.
    (The threaded version lives in test_concurrency.)"""
    po_id = submitted()
    services.transition_purchase_order(
        po_id=po_id, target_status="approved", user=UserFactory(username="a", perms=APPROVER_PERMS)
    )
    services.transition_purchase_order(
        po_id=po_id, target_status="approved", user=UserFactory(username="b", perms=APPROVER_PERMS)
    )
    assert PurchaseOrder.objects.get(pk=po_id).status == "approved"
    assert POApproval.objects.filter(purchase_order_id=po_id).count() == 2
