from datetime import timedelta

import pytest
from django.utils import timezone

from procurement.models import PurchaseOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def dated(po_in):
    """``dated("shipped", days=-1)``: a PO in that status expected ``days`` from today."""

    def make(status, days):
        po = po_in(status)
        PurchaseOrder.objects.filter(pk=po.po_id).update(
            expected_delivery_date=timezone.localdate() + timedelta(days=days)
        )
        return po

    return make


def _ids(client, **params):
    response = client.get("/purchase-orders", params)
    assert response.status_code == 200, response.json()
    return {po["po_id"]: po["is_overdue"] for po in response.json()["results"]}


def test_overdue_filter_and_flag(clerk, dated):
    late = [dated(status, -1) for status in ("submitted", "approved", "shipped")]
    due_today = dated("shipped", 0)
    delivered_late = dated("received", -5)
    cancelled_late = dated("cancelled", -5)

    overdue = _ids(clerk, overdue="true")

    assert set(overdue) == {str(po.po_id) for po in late}
    assert all(overdue.values())
    others = _ids(clerk, overdue="false")
    assert set(others) == {str(po.po_id) for po in (due_today, delivered_late, cancelled_late)}
    assert not any(others.values())


def test_detail_says_whether_overdue(clerk, dated):
    po = dated("approved", -2)
    assert clerk.get(f"/purchase-orders/{po.po_id}").json()["is_overdue"] is True
    fresh = dated("approved", 3)
    assert clerk.get(f"/purchase-orders/{fresh.po_id}").json()["is_overdue"] is False


def test_draft_without_date_is_not_overdue(clerk, po_in):
    po = po_in("draft")
    assert clerk.get(f"/purchase-orders/{po.po_id}").json()["is_overdue"] is False


def test_overdue_filter_rejects_garbage(clerk):
    response = clerk.get("/purchase-orders", {"overdue": "maybe"})
    assert response.status_code == 400
    assert "overdue" in response.json()["fields"]
