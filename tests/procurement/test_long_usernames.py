"""A purchase order records its approver in ``approved_by``, the service page's VARCHAR(100);
Django allows usernames of 150 characters. A user whose name does not fit may not approve or
reject (403 ``username_too_long``): a cut-down name would record someone else, or nobody."""

import pytest

from procurement.models import PurchaseOrder
from tests.procurement.conftest import APPROVER_PERMS, patch

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("target", ["approved", "rejected"])
def test_an_approver_with_a_101_character_username_is_refused(make_client, po_in, target):
    approver = make_client("a" * 101, perms=APPROVER_PERMS)
    po = po_in("submitted")
    body = {"status": target, "reason": "no"} if target == "rejected" else {"status": target}

    response = patch(approver, po.po_id, body)

    assert response.status_code == 403, response.json()
    assert response.json()["code"] == "username_too_long"
    assert "100" in response.json()["message"]
    stored = PurchaseOrder.objects.get(pk=po.po_id)
    assert (stored.status, stored.approved_by, stored.status_history.count()) == (
        "submitted",
        None,
        1,
    )


def test_the_transitions_offered_leave_approval_out(make_client, po_in):
    approver = make_client("b" * 150, perms=APPROVER_PERMS)
    po = po_in("submitted")

    response = approver.get(f"/purchase-orders/{po.po_id}")

    assert response.json()["available_transitions"] == ["cancelled"]


def test_a_100_character_username_is_recorded_whole(make_client, po_in):
    name = "c" * 100
    approver = make_client(name, perms=APPROVER_PERMS)
    po = po_in("submitted")

    response = patch(approver, po.po_id, {"status": "approved"})

    assert response.status_code == 200, response.json()
    assert response.json()["approved_by"] == name
    assert PurchaseOrder.objects.get(pk=po.po_id).approved_by == name
