"""Races with real threads, each on its own PostgreSQL connection."""

import threading

import pytest
from django.db import connection

from procurement.models import POStatusChange, PurchaseOrder
from stock.models import StockAdjustment, StockLevel
from tests.procurement.conftest import line, patch

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def run_together(calls):
    """Run the calls in threads released at the same moment; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except Exception as exc:  # reported to the test, which fails on it
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


def test_six_concurrent_receipts_add_the_stock_once(make_client, po_in):
    po = po_in("shipped", line_items=[line("tent", 10), line("stove", 4)])
    clients = [
        make_client(f"warehouse-{n}", perms=["procurement.change_purchaseorder"]) for n in range(6)
    ]

    responses = run_together(
        [lambda c=c: patch(c, po.po_id, {"status": "received"}) for c in clients]
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409, 409, 409, 409, 409], responses
    for response in responses:
        if response.status_code == 409:
            assert response.json()["code"] == "invalid_transition"
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 10
    assert StockLevel.objects.get(item_type="stove").quantity_on_hand == 4
    assert StockAdjustment.objects.filter(po_id=po.po_id).count() == 2
    assert POStatusChange.objects.filter(purchase_order=po, to_status="received").count() == 1
    assert PurchaseOrder.objects.get(pk=po.pk).version == po.version + 1


@pytest.mark.parametrize("with_if_match", [True, False])
def test_approval_racing_cancellation_leaves_a_consistent_state(make_client, po_in, with_if_match):
    approver = make_client(
        "approver",
        perms=["procurement.change_purchaseorder", "procurement.approve_purchaseorder"],
    )
    clerk = make_client("clerk", perms=["procurement.change_purchaseorder"])
    for _ in range(5):
        po = po_in("submitted")
        if_match = f'"{po.version}"' if with_if_match else None

        approval, cancellation = run_together(
            [
                lambda po=po, tag=if_match: patch(approver, po.po_id, {"status": "approved"}, tag),
                lambda po=po, tag=if_match: patch(clerk, po.po_id, {"status": "cancelled"}, tag),
            ]
        )

        assert {approval.status_code, cancellation.status_code} <= {200, 409, 412}
        stored = PurchaseOrder.objects.get(pk=po.pk)
        moves = list(
            POStatusChange.objects.filter(purchase_order=po)
            .order_by("changed_at", "id")
            .values_list("from_status", "to_status")
        )[1:]
        successes = [r for r in (approval, cancellation) if r.status_code == 200]
        assert stored.version == po.version + len(successes)
        assert len(moves) == len(successes)
        if approval.status_code == 200:
            assert (stored.approved_by, stored.approved_at is not None) == ("approver", True)
            assert moves[0] == ("submitted", "approved")
        else:
            assert (stored.approved_by, stored.approved_at) == (None, None)
        if cancellation.status_code == 200:
            assert stored.status == "cancelled"
            assert moves[-1][1] == "cancelled"
        else:
            assert stored.status == "approved"
            assert moves == [("submitted", "approved")]
        if with_if_match:
            # Both asked for the version they saw: exactly one wins.
            assert len(successes) == 1


def test_eight_concurrent_receipts_never_take_a_line_past_its_quantity(make_client, po_in):
    """8 receipts of 3 on a line of 10: at most 3 are accepted (9 <= 10), the others are 409
    ``over_receipt``; the stock holds exactly what was accepted."""
    po = po_in("shipped", line_items=[line("tent", 10)])
    line_item = po.line_items.get()
    clients = [
        make_client(f"warehouse-{n}", perms=["procurement.change_purchaseorder"]) for n in range(8)
    ]
    body = {"lines": [{"line_item_id": str(line_item.line_item_id), "quantity": 3}]}

    responses = run_together(
        [
            lambda c=c: c.post(f"/purchase-orders/{po.po_id}/receipts", body, format="json")
            for c in clients
        ]
    )

    accepted = [r for r in responses if r.status_code == 201]
    refused = [r for r in responses if r.status_code != 201]
    assert {r.status_code for r in refused} <= {409}
    assert {r.json()["code"] for r in refused} <= {"over_receipt"}
    accepted_total = 3 * len(accepted)
    assert accepted_total <= 10
    assert len(accepted) == 3
    line_item.refresh_from_db()
    assert line_item.quantity_received == accepted_total
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == accepted_total
    assert StockAdjustment.objects.filter(po_id=po.po_id).count() == len(accepted)


def test_two_approvers_at_once_on_a_large_po_give_two_approvals(make_client, po_in):
    """Above the threshold, both approvals land, one after the other under the row lock: the
    first recorded, the second approves."""
    po = po_in("submitted", line_items=[line("tent", 101, "100.00")])
    approvers = [
        make_client(
            f"approver-{n}",
            perms=["procurement.change_purchaseorder", "procurement.approve_purchaseorder"],
        )
        for n in range(2)
    ]

    responses = run_together(
        [lambda c=c: patch(c, po.po_id, {"status": "approved"}) for c in approvers]
    )

    assert sorted(r.status_code for r in responses) == [200, 200], responses
    assert sorted(r.json()["status"] for r in responses) == ["approved", "submitted"]
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert stored.status == "approved"
    assert stored.approvals.count() == 2
    assert POStatusChange.objects.filter(purchase_order=po, to_status="approved").count() == 1
