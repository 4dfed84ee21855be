"""The admin side of issue 14: first approvals, the "awaiting my approval" filter, "Download
PDF", "Send to supplier again", and the suppliers' catalog."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from procurement import services
from procurement.admin import PurchaseOrderAdmin
from procurement.models import POApproval, PurchaseOrder
from suppliers.models import SupplierItem
from tests.admin.conftest import line, messages_of
from tests.factories import SupplierFactory
from tests.procurement.documents import assert_document_of, pdf_text

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:procurement_purchaseorder_changelist")
LARGE = [line("tent-2p", 101, "100.00")]


def change_url(po):
    return reverse("admin:procurement_purchaseorder_change", args=[po.pk])


def approve_url(po):
    return reverse("admin:procurement_purchaseorder_transition", args=[po.pk, "approved"])


def test_a_first_approval_is_reported_and_the_button_leaves_the_page(approver, staff, make_po):
    po = make_po("submitted", line_items=LARGE)

    response = approver.post(approve_url(po), {"version": po.version})

    assert messages_of(response) == [
        (
            "success",
            f"PO {str(po.pk)[:8]}: first approval recorded; it needs a second approval by "
            "another approver.",
        )
    ]
    page = approver.get(change_url(po))
    statuses = [button["status"] for button in page.context["transition_buttons"]]
    assert statuses == ["rejected", "cancelled"]
    assert "First approval by approver" in page.context["approval_note"]

    second = staff("approver-2", "Approvers")
    assert [b["status"] for b in second.get(change_url(po)).context["transition_buttons"]] == [
        "approved",
        "rejected",
        "cancelled",
    ]
    second.post(approve_url(po), {"version": po.version + 1})
    assert PurchaseOrder.objects.get(pk=po.pk).status == "approved"


def test_approve_selected_reports_first_approvals(approver, make_po):
    small = make_po("submitted")
    large = make_po("submitted", line_items=LARGE)

    response = approver.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [str(small.pk), str(large.pk)]},
    )

    [(level, text)] = messages_of(response)
    assert level == "success"
    assert f"Approved 1: PO {str(small.pk)[:8]}." in text
    assert (
        f"First approval recorded for 1 (a second approver must approve them): "
        f"PO {str(large.pk)[:8]}." in text
    )
    assert PurchaseOrder.objects.get(pk=large.pk).status == "submitted"

    again = approver.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [str(large.pk)]}
    )
    (level, text) = messages_of(again)[-1]
    assert level == "error"
    assert "already approved" in text


def test_awaiting_my_approval_lists_what_i_may_still_approve(staff, approver, make_po, operator):
    mine = make_po("submitted", created_by="approver")
    edited = make_po("draft")
    approver.user.user_permissions.add(Permission.objects.get(codename="add_purchaseorder"))
    services.update_purchase_order(
        po_id=edited.pk,
        user=type(approver.user).objects.get(pk=approver.user.pk),
        line_items=[line(quantity=4)],
    )
    services.transition_purchase_order(po_id=edited.pk, target_status="submitted", user=operator)
    approved_once = make_po("submitted", line_items=LARGE)
    approver.post(approve_url(approved_once), {"version": approved_once.version})
    waiting = make_po("submitted")
    make_po("approved")
    make_po("draft")

    response = approver.get(CHANGELIST, {"awaiting": "me"})

    assert response.status_code == 200, response
    shown = {po.pk for po in response.context["cl"].result_list}
    assert shown == {waiting.pk}
    assert mine.pk not in shown
    other = staff("approver-2", "Approvers")
    shown_to_other = {
        po.pk for po in other.get(CHANGELIST, {"awaiting": "me"}).context["cl"].result_list
    }
    assert shown_to_other == {mine.pk, edited.pk, approved_once.pk, waiting.pk}


def test_download_pdf(approver, make_po):
    po = make_po("approved", line_items=[line("tent-2p", 2, "10.00"), line("stove", 1, "5.50")])
    page = approver.get(change_url(po)).content.decode()
    url = reverse("admin:procurement_purchaseorder_document", args=[po.pk])
    assert f'href="{url}"' in page and "Download PDF" in page

    response = approver.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert_document_of(pdf_text(response.content), po)


def test_send_to_supplier_again(clerk, make_po, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    po = make_po("approved")
    DBTaskResult.objects.all().delete()
    page = clerk.get(change_url(po)).content.decode()
    assert "Send to supplier again" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = clerk.post(reverse("admin:procurement_purchaseorder_send", args=[po.pk]))

    assert messages_of(response) == [
        (
            "success",
            f"PO {str(po.pk)[:8]} will be e-mailed to {po.supplier.contact_email} by the worker.",
        )
    ]
    [queued] = DBTaskResult.objects.all()
    assert queued.args_kwargs["kwargs"]["po_id"] == str(po.pk)


def test_a_draft_is_not_sent(clerk, make_po):
    po = make_po("draft")
    assert "Send to supplier again" not in clerk.get(change_url(po)).content.decode()
    response = clerk.post(reverse("admin:procurement_purchaseorder_send", args=[po.pk]))
    [(level, text)] = messages_of(response)
    assert level == "error" and "not sent to the supplier" in text


# --- the catalog ----------------------------------------------------------------------------


def test_the_catalog_list_filters_by_item_type_and_preferred(clerk):
    summit, ridge = SupplierFactory(name="Summit"), SupplierFactory(name="Ridge")
    SupplierItem.objects.create(
        supplier=summit, item_type="tent-2p", unit_price=Decimal("1.00"), preferred=True
    )
    SupplierItem.objects.create(supplier=ridge, item_type="tent-2p", unit_price=Decimal("2.00"))
    SupplierItem.objects.create(supplier=ridge, item_type="stove", unit_price=Decimal("3.00"))
    url = reverse("admin:suppliers_supplieritem_changelist")

    def shown(query):
        response = clerk.get(url, query)
        assert response.status_code == 200
        return sorted((i.supplier.name, i.item_type) for i in response.context["cl"].result_list)

    assert shown({"preferred__exact": "1"}) == [("Summit", "tent-2p")]
    assert shown({"item_type": "stove"}) == [("Ridge", "stove")]


def test_making_an_entry_preferred_in_the_admin_unprefers_the_other(clerk):
    summit, ridge = SupplierFactory(name="Summit"), SupplierFactory(name="Ridge")
    SupplierItem.objects.create(
        supplier=summit, item_type="tent-2p", unit_price=Decimal("1.00"), preferred=True
    )
    ridge_item = SupplierItem.objects.create(
        supplier=ridge, item_type="tent-2p", unit_price=Decimal("2.00")
    )
    url = reverse("admin:suppliers_supplieritem_change", args=[ridge_item.pk])

    response = clerk.post(
        url,
        {
            "supplier_sku": "",
            "unit_price": "2.00",
            "currency": "USD",
            "min_order_quantity": "1",
            "order_multiple": "1",
            "lead_time_days": "",
            "preferred": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(
        SupplierItem.objects.filter(preferred=True).values_list("supplier__name", flat=True)
    ) == ["Ridge"]


def test_the_catalog_inline_on_the_supplier_adds_entries_through_the_service(clerk):
    supplier = SupplierFactory(name="Summit")
    url = reverse("admin:suppliers_supplier_change", args=[supplier.pk])

    response = clerk.post(
        url,
        {
            "name": "Summit",
            "contact_email": supplier.contact_email,
            "lead_time_days": "7",
            "rating": "4.50",
            "active": "on",
            "catalog_items-TOTAL_FORMS": "1",
            "catalog_items-INITIAL_FORMS": "0",
            "catalog_items-MIN_NUM_FORMS": "0",
            "catalog_items-MAX_NUM_FORMS": "1000",
            "catalog_items-0-item_type": "stove",
            "catalog_items-0-supplier_sku": "SG-ST",
            "catalog_items-0-unit_price": "45.50",
            "catalog_items-0-currency": "usd",
            "catalog_items-0-min_order_quantity": "6",
            "catalog_items-0-order_multiple": "6",
            "catalog_items-0-lead_time_days": "",
            "catalog_items-0-preferred": "on",
        },
    )

    assert response.status_code == 302
    item = SupplierItem.objects.get()
    assert (item.item_type, item.currency, item.min_order_quantity, item.preferred) == (
        "stove",
        "USD",
        6,
        True,
    )


def test_approvals_are_listed_on_the_po_page(approver, staff, make_po):
    po = make_po("submitted", line_items=LARGE)
    approver.post(approve_url(po), {"version": po.version})
    staff("approver-2", "Approvers").post(approve_url(po), {"version": po.version + 1})
    [first, second] = POApproval.objects.filter(purchase_order=po).order_by("approved_at")

    response = approver.get(change_url(po))

    shown = response.context["adminform"].form.instance
    assert PurchaseOrderAdmin.approvals_given(None, shown) == (
        f"approver ({first.approved_at:%Y-%m-%d %H:%M} UTC); "
        f"approver-2 ({second.approved_at:%Y-%m-%d %H:%M} UTC)"
    )
    assert "approver-2 (" in response.content.decode()
