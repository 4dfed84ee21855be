"""The admin's "Receive goods" form, the receipts inline and the receipt status in the list."""

import pytest
from django.urls import reverse

from procurement.models import POLineItem, PurchaseOrder, Receipt
from stock.models import StockAdjustment, StockLevel
from tests.admin.conftest import line, messages_of

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:procurement_purchaseorder_changelist")


def receive_url(po):
    return reverse("admin:procurement_purchaseorder_receive", args=[po.pk])


def change_url(po):
    return reverse("admin:procurement_purchaseorder_change", args=[po.pk])


def lines_of(po):
    return list(POLineItem.objects.filter(purchase_order=po).order_by("line_number"))


def form_data(po, quantities, **extra):
    data = {"version": po.version, "note": "", **extra}
    for po_line, quantity in zip(lines_of(po), quantities, strict=True):
        data[f"quantity_{po_line.line_item_id}"] = quantity
    return data


def test_the_form_has_one_row_per_open_line_prefilled(warehouse, make_po, operator):
    from procurement import services

    po = make_po("shipped", line_items=[line("tent", 10), line("stove", 4), line("mat", 2)])
    tent, _, mat = lines_of(po)
    services.record_receipt(
        po_id=po.pk, user=operator, lines=[{"line_item_id": mat.pk, "quantity": 2}]
    )
    services.record_receipt(
        po_id=po.pk, user=operator, lines=[{"line_item_id": tent.pk, "quantity": 3}]
    )

    response = warehouse.get(receive_url(po))

    assert response.status_code == 200
    form = response.context["form"]
    assert [(row.item_type, field.initial) for row, field in form.rows()] == [
        ("tent", 7),
        ("stove", 4),
    ]
    assert "Close short" in response.content.decode()
    assert receive_url(po) in warehouse.get(change_url(po)).content.decode()


def test_receiving_part_through_the_form(warehouse, make_po):
    po = make_po("approved", line_items=[line("tent", 10), line("stove", 4)])

    response = warehouse.post(receive_url(po), form_data(po, [6, 0], note="First pallet"))

    assert response.status_code == 302
    assert response["Location"] == change_url(po)
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.status, stored.receipt_status) == ("shipped", "partial")
    receipt = Receipt.objects.get(purchase_order=po)
    assert (receipt.received_by, receipt.note) == ("warehouse", "First pallet")
    assert [(rl.line_item.item_type, rl.quantity) for rl in receipt.lines.all()] == [("tent", 6)]
    assert StockLevel.objects.get(item_type="tent").quantity_on_hand == 6
    assert not StockLevel.objects.filter(item_type="stove").exists()
    [(level, text)] = messages_of(response)
    assert level == "success" and "Received 6 unit(s)" in text

    page = warehouse.get(change_url(po)).content.decode()
    assert "6 x tent" in page  # the receipts inline


def test_close_short_through_the_form(warehouse, make_po):
    po = make_po("shipped", line_items=[line("tent", 10), line("stove", 4)])

    response = warehouse.post(receive_url(po), form_data(po, [8, 0], close_short="on"))

    assert response.status_code == 302
    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.status, stored.receipt_status) == ("received", "closed_short")


def test_an_over_receipt_is_a_form_error_and_writes_nothing(warehouse, make_po):
    po = make_po("shipped", line_items=[line("tent", 10)])

    response = warehouse.post(receive_url(po), form_data(po, [11]))

    assert response.status_code == 409
    assert "at most 10" in response.content.decode()
    assert Receipt.objects.count() == 0
    assert StockAdjustment.objects.count() == 0


def test_nothing_entered_is_a_form_error(warehouse, make_po):
    po = make_po("shipped", line_items=[line("tent", 10)])

    response = warehouse.post(receive_url(po), form_data(po, [0]))

    assert response.status_code == 400
    assert Receipt.objects.count() == 0


def test_a_stale_page_is_refused(warehouse, make_po, operator):
    from procurement import services

    po = make_po("shipped", line_items=[line("tent", 10)])
    data = form_data(po, [5])
    services.record_receipt(
        po_id=po.pk, user=operator, lines=[{"line_item_id": lines_of(po)[0].pk, "quantity": 1}]
    )

    response = warehouse.post(receive_url(po), data)

    assert response.status_code == 409
    assert "changed by someone else" in response.content.decode()
    assert Receipt.objects.count() == 1


def test_the_form_needs_the_change_permission_and_a_receivable_po(staff, warehouse, make_po):
    po = make_po("shipped")
    viewer = staff("viewer", "Approvers")
    viewer.user.user_permissions.clear()
    draft = make_po("draft")

    assert staff("nobody").get(receive_url(po)).status_code in (302, 403)
    response = warehouse.get(receive_url(draft))
    assert response.status_code == 302
    assert "only an approved or shipped" in messages_of(response)[0][1]
    assert receive_url(draft) not in warehouse.get(change_url(draft)).content.decode()


def test_the_list_shows_the_receipt_status(warehouse, make_po):
    po = make_po("shipped", line_items=[line("tent", 10)])
    warehouse.post(receive_url(po), form_data(po, [4]))

    response = warehouse.get(CHANGELIST, {"receipt_status__exact": "partial"})

    assert [row.pk for row in response.context["cl"].result_list] == [po.pk]
    assert "Partly received" in response.content.decode()
