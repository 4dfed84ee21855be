import uuid

import pytest

from procurement import services
from procurement.models import PurchaseOrder
from tests.conftest import ALL_PERMS
from tests.factories import SupplierFactory, UserFactory

CLERK_PERMS = ["procurement.add_purchaseorder", "procurement.change_purchaseorder"]
APPROVER_PERMS = ["procurement.change_purchaseorder", "procurement.approve_purchaseorder"]
WAREHOUSE_PERMS = ["procurement.change_purchaseorder"]
LOCATION = uuid.UUID("2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b")


def line(item_type="tent-2p", quantity=3, unit_price="10.00", location_id=LOCATION):
    return {
        "item_type": item_type,
        "location_id": str(location_id),
        "quantity": quantity,
        "unit_price": unit_price,
    }


@pytest.fixture
def supplier(db):
    return SupplierFactory(lead_time_days=7)


@pytest.fixture
def clerk(make_client):
    """Creates, edits, submits and cancels; may not approve."""
    return make_client("clerk", perms=CLERK_PERMS)


@pytest.fixture
def approver(make_client):
    return make_client("approver", perms=APPROVER_PERMS)


@pytest.fixture
def warehouse(make_client):
    """Ships and receives."""
    return make_client("warehouse", perms=WAREHOUSE_PERMS)


@pytest.fixture
def create_po(clerk, supplier):
    """POST a PO as the clerk (or ``client``); returns the response body."""

    def create(client=None, **overrides):
        body = {"supplier_id": str(supplier.supplier_id), "line_items": [line()], **overrides}
        response = (client or clerk).post("/purchase-orders", body, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return create


def patch(client, po_id, body, if_match=None):
    headers = {"HTTP_IF_MATCH": if_match} if if_match is not None else {}
    return client.patch(f"/purchase-orders/{po_id}", body, format="json", **headers)


def move(client, po_id, status, **extra):
    """PATCH a status and insist it worked; returns the body."""
    response = patch(client, po_id, {"status": status, **extra})
    assert response.status_code == 200, response.json()
    return response.json()


# The statuses passed through, from draft, to reach each status.
PATHS = {
    "draft": [],
    "submitted": ["submitted"],
    "approved": ["submitted", "approved"],
    "shipped": ["submitted", "approved", "shipped"],
    "received": ["submitted", "approved", "shipped", "received"],
    "rejected": ["submitted", "rejected"],
    "cancelled": ["cancelled"],
}


def walk_to(po_id, status, *, operator):
    """Move a draft along ``PATHS[status]``: ``submitter`` submits it, ``operator`` (who did not
    shape it) takes the other steps, as separation of duties asks; a PO that needs two approvals
    gets its second from ``second-approver``."""
    submitter = UserFactory(username="submitter", perms=CLERK_PERMS)
    for step in PATHS[status]:
        po = services.transition_purchase_order(
            po_id=po_id,
            target_status=step,
            user=submitter if step == "submitted" else operator,
            reason="walked",
        )
        if step == "approved" and po.status == "submitted":
            services.transition_purchase_order(
                po_id=po_id,
                target_status=step,
                user=UserFactory(username="second-approver", perms=APPROVER_PERMS),
            )


@pytest.fixture
def operator(db):
    """Holds every permission and creates nothing: may take any edge the machine allows."""
    return UserFactory(username="operator", perms=ALL_PERMS)


@pytest.fixture
def po_in(supplier, operator):
    """``po_in("shipped", lines=2)``: a PO created by ``clerk``, submitted by ``submitter`` and
    walked on to the status by ``operator`` (who did not shape it, so may approve it; above
    ``PO_SECOND_APPROVAL_ABOVE``, ``second-approver`` gives the second approval), with
    ``lines`` generated lines or the given ``line_items``."""

    def make(status, lines=1, created_by="clerk", line_items=None):
        if line_items is None:
            line_items = [line(item_type=f"item-{n}", quantity=n + 1) for n in range(lines)]
        po = services.create_purchase_order(
            supplier_id=supplier.supplier_id, line_items=line_items, created_by=created_by
        )
        walk_to(po.po_id, status, operator=operator)
        return PurchaseOrder.objects.get(pk=po.po_id)

    return make
