"""Separation of duties (contract): nobody approves or rejects a PO whose content they shaped:
its creator, anyone who changed its supplier, currency or lines, and whoever submitted it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procurement.models import POEdit, POLineItem, PurchaseOrder
from tests.conftest import ALL_PERMS
from tests.factories import SupplierFactory
from tests.procurement.conftest import (
    APPROVER_PERMS,
    CLERK_PERMS,
    WAREHOUSE_PERMS,
    line,
    move,
    patch,
)

# Can write POs and approve them: the user the rule is about.
CLERK_AND_APPROVER_PERMS = ALL_PERMS


def edits(po_id):
    return list(
        POEdit.objects.filter(purchase_order_id=po_id)
        .order_by("edited_at", "id")
        .values_list("edited_by", "fields")
    )


def test_an_approver_who_rewrote_a_clerks_draft_may_not_approve_it(make_client, create_po):
    """The probe's walk-around: rewrite the lines, submit, approve."""
    draft = create_po()
    insider = make_client("insider", perms=CLERK_AND_APPROVER_PERMS)
    edited = patch(insider, draft["po_id"], {"line_items": [line(quantity=500)]})
    assert edited.status_code == 200, edited.json()
    move(insider, draft["po_id"], "submitted")
    assert insider.get(f"/purchase-orders/{draft['po_id']}").json()["available_transitions"] == [
        "cancelled"
    ]

    for target in ("approved", "rejected"):
        response = patch(insider, draft["po_id"], {"status": target, "reason": "mine"})

        assert response.status_code == 403
        assert response.json()["code"] == "own_purchase_order"
    stored = PurchaseOrder.objects.get(pk=draft["po_id"])
    assert (stored.status, stored.approved_by, stored.approved_at) == ("submitted", None, None)
    assert edits(draft["po_id"]) == [("insider", "line_items")]


@pytest.mark.parametrize(
    ("edit", "fields"),
    [
        ({"currency": "EUR"}, "currency"),
        ({"supplier_id": None}, "supplier"),
        ({"currency": "EUR", "line_items": [line(quantity=1)]}, "currency,line_items"),
    ],
)
def test_any_edit_of_content_makes_its_author_a_shaper(make_client, create_po, edit, fields):
    draft = create_po()
    if "supplier_id" in edit:
        edit = {"supplier_id": str(SupplierFactory().supplier_id)}
    insider = make_client("insider", perms=CLERK_AND_APPROVER_PERMS)
    assert patch(insider, draft["po_id"], edit).status_code == 200
    move(make_client("clerk2", perms=CLERK_PERMS), draft["po_id"], "submitted")

    response = patch(insider, draft["po_id"], {"status": "approved"})

    assert response.status_code == 403
    assert response.json()["code"] == "own_purchase_order"
    assert edits(draft["po_id"]) == [("insider", fields)]


def test_the_submitter_may_not_approve_or_reject(make_client, create_po):
    draft = create_po()
    submitter = make_client("submitter-approver", perms=CLERK_AND_APPROVER_PERMS)
    move(submitter, draft["po_id"], "submitted")
    assert submitter.get(f"/purchase-orders/{draft['po_id']}").json()["available_transitions"] == [
        "cancelled"
    ]

    for target in ("approved", "rejected"):
        response = patch(submitter, draft["po_id"], {"status": target, "reason": "mine"})
        assert response.status_code == 403
        assert response.json()["code"] == "own_purchase_order"
    assert PurchaseOrder.objects.get(pk=draft["po_id"]).status == "submitted"


def test_someone_who_did_not_shape_it_approves(make_client, create_po, approver):
    draft = create_po()
    patch(make_client("clerk2", perms=CLERK_PERMS), draft["po_id"], {"currency": "EUR"})
    move(make_client("clerk3", perms=CLERK_PERMS), draft["po_id"], "submitted")
    assert approver.get(f"/purchase-orders/{draft['po_id']}").json()["available_transitions"] == [
        "approved",
        "rejected",
        "cancelled",
    ]

    body = move(approver, draft["po_id"], "approved")

    assert (body["status"], body["approved_by"]) == ("approved", "approver")


@pytest.mark.parametrize("perms", [APPROVER_PERMS, WAREHOUSE_PERMS], ids=["approver", "warehouse"])
def test_editing_a_draft_needs_the_add_permission(make_client, create_po, perms):
    """Approvers and warehouse staff may move POs but not write their content."""
    draft = create_po()
    client = make_client("no-writer", perms=perms)

    response = patch(client, draft["po_id"], {"line_items": [line(quantity=999)]})

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "procurement.add_purchaseorder" in response.json()["message"]
    assert list(
        POLineItem.objects.filter(purchase_order_id=draft["po_id"]).values_list(
            "quantity", flat=True
        )
    ) == [3]
    assert edits(draft["po_id"]) == []


def test_a_clerk_may_edit_a_colleagues_draft_and_it_is_recorded(make_client, create_po):
    draft = create_po()
    colleague = make_client("clerk2", perms=CLERK_PERMS)

    response = patch(colleague, draft["po_id"], {"line_items": [line(quantity=7)]})

    assert response.status_code == 200
    assert [item["quantity"] for item in response.json()["line_items"]] == [7]
    assert edits(draft["po_id"]) == [("clerk2", "line_items")]


def test_a_status_change_alone_records_no_edit(clerk, create_po):
    draft = create_po()
    move(clerk, draft["po_id"], "submitted")
    assert edits(draft["po_id"]) == []


def test_the_list_shows_truthful_transitions_without_a_query_per_po(make_client, create_po):
    insider = make_client("insider", perms=CLERK_AND_APPROVER_PERMS)
    clerk2 = make_client("clerk2", perms=CLERK_PERMS)
    shaped, untouched = create_po(), create_po()
    patch(insider, shaped["po_id"], {"currency": "EUR"})
    for po in (shaped, untouched):
        move(clerk2, po["po_id"], "submitted")

    def list_pos():
        with CaptureQueriesContext(connection) as queries:
            body = insider.get("/purchase-orders").json()
        return body, len(queries)

    body, few = list_pos()
    transitions = {po["po_id"]: po["available_transitions"] for po in body["results"]}
    assert transitions == {
        shaped["po_id"]: ["cancelled"],
        untouched["po_id"]: ["approved", "rejected", "cancelled"],
    }
    for _ in range(4):
        more = create_po()
        patch(clerk2, more["po_id"], {"currency": "EUR"})
        move(clerk2, more["po_id"], "submitted")
    body, many = list_pos()
    assert body["count"] == 6
    assert many == few
