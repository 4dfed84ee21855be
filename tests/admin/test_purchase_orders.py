import html
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from procurement import services
from procurement.models import (
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    transition_to,
)
from stock.models import AdjustmentReason, StockAdjustment, StockLevel
from tests.admin.conftest import LOCATION, line, messages_of
from tests.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:procurement_purchaseorder_changelist")
ADD = reverse("admin:procurement_purchaseorder_add")


def change_url(po):
    return reverse("admin:procurement_purchaseorder_change", args=[po.pk])


def transition_url(po, status):
    return reverse("admin:procurement_purchaseorder_transition", args=[po.pk, status])


def press(client, po, status, **data):
    """POST a transition button as the change page renders it (with the page's version)."""
    return client.post(transition_url(po, status), {"version": po.version, **data})


def buttons(client, po):
    response = client.get(change_url(po))
    assert response.status_code == 200
    return [button["status"] for button in response.context["transition_buttons"]]


def label(po):
    return f"PO {str(po.pk)[:8]}"


# --- the list ----------------------------------------------------------------------------------


def test_list_filters_by_status_supplier_and_search(approver, make_po):
    other = SupplierFactory(name="Alpine Outfitters")
    draft = make_po("draft")
    submitted = make_po("submitted")
    elsewhere = make_po("approved", supplier_id=other.pk)

    def listed(query):
        response = approver.get(CHANGELIST, query)
        assert response.status_code == 200
        return {po.pk for po in response.context["cl"].result_list}

    assert listed({}) == {draft.pk, submitted.pk, elsewhere.pk}
    assert listed({"status__exact": "submitted"}) == {submitted.pk}
    assert listed({"supplier__supplier_id__exact": other.pk}) == {elsewhere.pk}
    assert listed({"q": "Alpine"}) == {elsewhere.pk}
    assert listed({"q": str(submitted.pk)[:8]}) == {submitted.pk}
    assert listed({"q": "tent-2p"}) == {draft.pk, submitted.pk, elsewhere.pk}


def test_list_shows_totals_and_expected_delivery(approver, make_po):
    po = make_po("submitted", line_items=[line(quantity=4, unit_price="12.50")])

    response = approver.get(CHANGELIST)

    content = response.content.decode()
    assert "50.00 USD" in content
    assert label(po) in content
    assert po.expected_delivery_date is not None
    [row] = response.context["cl"].result_list
    assert row.expected_delivery_date == po.expected_delivery_date


def test_list_costs_the_same_queries_whatever_the_number_of_pos(approver, make_po):
    make_po("submitted")
    approver.get(CHANGELIST)
    with CaptureQueriesContext(connection) as few:
        approver.get(CHANGELIST)
    for _ in range(5):
        make_po("approved", supplier_id=SupplierFactory().pk)
    with CaptureQueriesContext(connection) as many:
        response = approver.get(CHANGELIST)

    assert len(response.context["cl"].result_list) == 6
    assert len(many) == len(few)


# --- buttons offered ---------------------------------------------------------------------------


def test_the_page_offers_only_the_transitions_the_user_may_take(
    clerk, approver, warehouse, make_po
):
    draft, submitted = make_po("draft"), make_po("submitted")
    shipped = make_po("shipped")

    assert buttons(clerk, draft) == ["submitted", "cancelled"]
    assert buttons(clerk, submitted) == ["cancelled"]
    assert buttons(approver, submitted) == ["approved", "rejected", "cancelled"]
    assert buttons(warehouse, shipped) == ["received"]
    assert buttons(approver, make_po("received")) == []


def test_the_creator_is_not_offered_approval(approver, make_po):
    own = make_po("submitted", created_by="approver")

    assert buttons(approver, own) == ["cancelled"]


def test_the_buttons_post_to_the_transition_urls_with_the_version(approver, make_po):
    po = make_po("submitted")

    content = approver.get(change_url(po)).content.decode()

    assert f'action="{transition_url(po, "approved")}"' in content
    assert f'name="version" value="{po.version}"' in content
    assert 'name="reason"' in content  # the reject button's reason


def test_the_buttons_are_labelled_from_the_transitions_metadata(approver, make_po):
    """Labels and verbs come from ``custom=`` on each ``@transition``."""
    po = make_po("submitted")

    response = approver.get(change_url(po))

    assert [button["label"] for button in response.context["transition_buttons"]] == [
        "Approve",
        "Reject",
        "Cancel order",
    ]
    verbs = {status: transition_to(status).custom["verb"] for status in POStatus.values[1:]}
    assert verbs == {
        "submitted": "submit",
        "approved": "approve",
        "shipped": "mark as shipped",
        "received": "receive",
        "rejected": "reject",
        "cancelled": "cancel",
    }
    assert transition_to(POStatus.DRAFT) is None


# --- each button -------------------------------------------------------------------------------


def test_submit(clerk, make_po):
    po = make_po("draft")

    response = press(clerk, po, "submitted")

    assert response.status_code == 302
    assert response.url == change_url(po)
    assert messages_of(response) == [("success", f"{label(po)} is now submitted.")]
    po.refresh_from_db()
    assert po.status == POStatus.SUBMITTED
    assert po.submitted_at is not None
    assert po.status_history.get().changed_by == "clerk"


def test_approve(approver, make_po):
    po = make_po("submitted")

    response = press(approver, po, "approved")

    assert messages_of(response) == [("success", f"{label(po)} is now approved.")]
    po.refresh_from_db()
    assert po.status == POStatus.APPROVED
    assert po.approved_by == "approver"
    assert po.approved_at is not None


def test_reject_with_a_reason(approver, make_po):
    po = make_po("submitted")

    response = press(approver, po, "rejected", reason="Over budget this quarter.")

    assert messages_of(response) == [("success", f"{label(po)} is now rejected.")]
    po.refresh_from_db()
    assert po.status == POStatus.REJECTED
    change = po.status_history.get(to_status="rejected")
    assert (change.changed_by, change.reason) == ("approver", "Over budget this quarter.")


def test_reject_without_a_reason_is_refused(approver, make_po):
    po = make_po("submitted")

    response = press(approver, po, "rejected", reason="  ")

    assert messages_of(response) == [
        ("error", f"Could not reject {label(po)}: A rejection needs a reason.")
    ]
    po.refresh_from_db()
    assert po.status == POStatus.SUBMITTED


def test_ship_then_receive_adds_the_lines_to_stock(warehouse, make_po):
    po = make_po("approved", line_items=[line(quantity=7), line(item_type="stove", quantity=2)])

    response = press(warehouse, po, "shipped")
    assert messages_of(response) == [("success", f"{label(po)} is now shipped.")]
    warehouse.get(response.url)  # shows (and so consumes) the message
    po.refresh_from_db()
    response = press(warehouse, po, "received")

    assert messages_of(response) == [("success", f"{label(po)} is now received.")]
    po.refresh_from_db()
    assert po.status == POStatus.RECEIVED
    assert po.received_at is not None
    levels = dict(StockLevel.objects.values_list("item_type", "quantity_on_hand"))
    assert levels == {"tent-2p": 7, "stove": 2}
    receipts = StockAdjustment.objects.filter(po_id=po.pk)
    assert {a.reason for a in receipts} == {AdjustmentReason.PO_RECEIPT}
    assert {a.adjusted_by for a in receipts} == {"warehouse"}


def test_cancel(clerk, make_po):
    po = make_po("draft")

    response = press(clerk, po, "cancelled")

    assert messages_of(response) == [("success", f"{label(po)} is now cancelled.")]
    po.refresh_from_db()
    assert po.status == POStatus.CANCELLED


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "created_by", "status", "target", "reason"),
    [
        (
            "clerk",
            "someone",
            "submitted",
            "approved",
            "Moving a purchase order to approved needs the permission "
            "procurement.approve_purchaseorder.",
        ),
        (
            "approver",
            "approver",
            "submitted",
            "approved",
            "You created, edited or submitted this purchase order; someone who did not shape it "
            "must approve or reject it.",
        ),
        (
            "approver",
            "clerk",
            "draft",
            "approved",
            "A draft purchase order cannot move to approved.",
        ),
        (
            "warehouse",
            "clerk",
            "approved",
            "received",
            "A approved purchase order cannot move to received.",
        ),
        ("approver", "clerk", "received", "cancelled", "A received purchase order cannot move"),
        (
            "clerk",
            "clerk",
            "draft",
            "bogus",
            "'bogus' is not a status",
        ),
    ],
    ids=["permission", "own-po", "wrong-status", "not-shipped-yet", "final", "unknown-status"],
)
def test_refusals_come_back_as_error_messages_and_change_nothing(
    request, who, created_by, status, target, reason, make_po
):
    client = request.getfixturevalue(who)
    po = make_po(status, created_by=created_by)
    history = po.status_history.count()

    response = press(client, po, target)

    assert response.status_code == 302
    assert response.url == change_url(po)
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Could not ")
    assert label(po) in text
    assert reason in text
    fresh = PurchaseOrder.objects.get(pk=po.pk)
    assert (fresh.status, fresh.version) == (po.status, po.version)
    assert fresh.status_history.count() == history


def test_a_button_on_a_stale_page_is_refused(approver, clerk, make_po):
    po = make_po("submitted")
    stale_version = po.version
    press(clerk, po, "cancelled")

    response = approver.post(transition_url(po, "approved"), {"version": stale_version})

    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "changed by someone else after this page was loaded" in text
    po.refresh_from_db()
    assert po.status == POStatus.CANCELLED


def test_a_staff_member_without_any_role_is_refused(staff, make_po):
    nobody = staff("nobody")
    po = make_po("submitted")

    response = nobody.post(transition_url(po, "approved"), {"version": po.version})

    assert response.status_code == 403
    po.refresh_from_db()
    assert po.status == POStatus.SUBMITTED


def test_transitions_are_post_only(approver, make_po):
    po = make_po("submitted")

    response = approver.get(transition_url(po, "approved"))

    assert response.status_code == 405
    po.refresh_from_db()
    assert po.status == POStatus.SUBMITTED


def test_an_unknown_po_goes_back_to_the_list_with_a_message(approver):
    url = reverse(
        "admin:procurement_purchaseorder_transition",
        args=["0d4c1a9e-0000-4000-8000-000000000000", "approved"],
    )

    response = approver.post(url)

    assert response.status_code == 302
    assert response.url == CHANGELIST
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "No purchase order" in text


# --- bulk approval -------------------------------------------------------------------------------


def test_approve_selected_reports_approved_and_refused_in_one_message(approver, make_po):
    first, second = make_po("submitted"), make_po("submitted")
    own = make_po("submitted", created_by="approver")
    draft = make_po("draft")
    selected = [first, second, own, draft]

    response = approver.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [str(po.pk) for po in selected]},
    )

    assert response.status_code == 302
    [(level, text)] = messages_of(response)
    assert level == "warning"
    approved = sorted([first, second], key=lambda po: po.pk)
    assert f"Approved 2: {label(approved[0])}, {label(approved[1])}." in text
    assert "Refused 2:" in text
    assert (
        f"{label(own)} (You created, edited or submitted this purchase order; someone who "
        "did not shape it must approve or reject it.)" in text
    )
    assert f"{label(draft)} (A draft purchase order cannot move to approved.)" in text
    statuses = dict(PurchaseOrder.objects.values_list("po_id", "status"))
    assert statuses == {
        first.pk: "approved",
        second.pk: "approved",
        own.pk: "submitted",
        draft.pk: "draft",
    }


def test_approve_selected_all_refused_is_an_error(approver, make_po):
    draft = make_po("draft")

    response = approver.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [str(draft.pk)]}
    )

    assert messages_of(response) == [
        ("error", f"Refused 1: {label(draft)} (A draft purchase order cannot move to approved.).")
    ]


def test_approve_selected_all_approved_is_a_success(approver, make_po):
    po = make_po("submitted")

    response = approver.post(
        CHANGELIST, {"action": "approve_selected", "_selected_action": [str(po.pk)]}
    )

    assert messages_of(response) == [("success", f"Approved 1: {label(po)}.")]


def test_approve_selected_is_not_offered_without_the_approve_permission(clerk, make_po):
    po = make_po("submitted", created_by="someone")

    response = clerk.get(CHANGELIST)
    actions = [name for name, _ in response.context["action_form"].fields["action"].choices]
    assert "approve_selected" not in actions  # a clerk may only send approved POs again

    clerk.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [str(po.pk)]})
    po.refresh_from_db()
    assert po.status == POStatus.SUBMITTED


# --- adding and editing drafts -------------------------------------------------------------------


def management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def line_data(index, item_type, quantity, unit_price, location_id=LOCATION, line_id=None):
    prefix = f"line_items-{index}"
    data = {
        f"{prefix}-item_type": item_type,
        f"{prefix}-location_id": str(location_id),
        f"{prefix}-quantity": str(quantity),
        f"{prefix}-unit_price": str(unit_price),
    }
    if line_id is not None:
        data[f"{prefix}-line_item_id"] = str(line_id)
    return data


def add_form(supplier, *lines, currency="usd"):
    data = {"supplier": str(supplier.pk), "currency": currency}
    data |= (
        management("line_items", len(lines))
        | management("status_history", 0)
        | management("edits", 0)
    )
    for index, values in enumerate(lines):
        data |= line_data(index, *values)
    return data


def test_adding_a_po_goes_through_the_create_service(clerk, supplier):
    data = add_form(supplier, ("tent-2p", 3, "149.99"), ("stove", 2, "20.00"))

    response = clerk.post(ADD, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    po = PurchaseOrder.objects.get()
    assert response.url == change_url(po)
    assert (po.status, po.created_by, po.currency) == ("draft", "clerk", "USD")
    assert po.total_amount == Decimal("489.97")
    assert list(po.line_items.values_list("line_number", "item_type", "quantity")) == [
        (1, "tent-2p", 3),
        (2, "stove", 2),
    ]
    assert po.status_history.count() == 0


@pytest.mark.parametrize(
    ("lines", "currency", "error"),
    [
        ([("tent-2p", 0, "10.00")], "USD", "Ensure this value is greater than or equal to 1."),
        ([("tent-2p", 2, "-1.00")], "USD", "Ensure this value is greater than or equal to 0."),
        ([("tent-2p", 2, "10.00")], "XXX", "'XXX' is not an ISO 4217 currency code."),
        (
            [("tent-2p", 1_000_000, "99999999.00")],
            "USD",
            "exceeds the largest amount a purchase order holds",
        ),
    ],
    ids=["quantity", "price", "currency", "total"],
)
def test_adding_an_invalid_po_shows_the_service_errors_and_writes_nothing(
    clerk, supplier, lines, currency, error
):
    response = clerk.post(ADD, add_form(supplier, *lines, currency=currency))

    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    assert not PurchaseOrder.objects.exists()
    assert not POLineItem.objects.exists()


def test_an_inactive_supplier_is_not_offered(clerk):
    inactive = SupplierFactory(active=False)

    response = clerk.post(ADD, add_form(inactive, ("tent-2p", 1, "1.00")))

    assert response.status_code == 200
    assert "supplier" in response.context["adminform"].form.errors
    assert not PurchaseOrder.objects.exists()


def draft_form(po, lines, **overrides):
    """The change form of a draft as posted: supplier, currency, the version seen and lines
    ``(item_type, quantity, unit_price, line_id | None, delete)``."""
    existing = [values for values in lines if values[3] is not None]
    data = {
        "supplier": str(po.supplier_id),
        "currency": po.currency,
        "version_seen": str(po.version),
    }
    data |= (
        management("line_items", len(lines), len(existing))
        | management("status_history", 0)
        | management("edits", 0)
    )
    for index, (item_type, quantity, price, line_id, delete) in enumerate(lines):
        data |= line_data(index, item_type, quantity, price, line_id=line_id)
        data[f"line_items-{index}-purchase_order"] = str(po.pk)
        if delete:
            data[f"line_items-{index}-DELETE"] = "on"
    return data | overrides


def test_editing_a_draft_recomputes_the_total_through_the_service(clerk, make_po):
    po = make_po("draft", line_items=[line(quantity=3), line(item_type="stove", quantity=1)])
    first, second = po.line_items.order_by("line_number")

    response = clerk.post(
        change_url(po),
        draft_form(
            po,
            [
                ("tent-2p", 5, "10.00", first.pk, False),
                ("stove", 1, "10.00", second.pk, True),
                ("lantern", 2, "7.50", None, False),
            ],
        ),
    )

    assert response.status_code == 302, response.context and response.context["errors"]
    fresh = PurchaseOrder.objects.get(pk=po.pk)
    assert fresh.total_amount == Decimal("65.00")
    assert fresh.version == po.version + 1
    assert list(fresh.line_items.values_list("line_number", "item_type", "quantity")) == [
        (1, "tent-2p", 5),
        (2, "lantern", 2),
    ]


def test_saving_an_unchanged_draft_changes_nothing(clerk, make_po):
    po = make_po("draft")
    [only] = po.line_items.all()

    response = clerk.post(change_url(po), draft_form(po, [("tent-2p", 3, "10.00", only.pk, False)]))

    assert response.status_code == 302
    assert PurchaseOrder.objects.get(pk=po.pk).version == po.version


def test_saving_over_a_newer_version_is_refused(clerk, make_po):
    po = make_po("draft")
    [only] = po.line_items.all()
    data = draft_form(po, [("tent-2p", 9, "10.00", only.pk, False)])
    PurchaseOrder.objects.filter(pk=po.pk).update(version=po.version + 1)

    response = clerk.post(change_url(po), data)

    assert response.status_code == 302
    [(level, text)] = messages_of(response)
    assert level == "error"
    assert "changed by someone else after this page was loaded" in text
    assert po.line_items.get().quantity == 3


def test_the_status_is_not_a_form_field(clerk, make_po):
    po = make_po("draft")
    [only] = po.line_items.all()

    response = clerk.get(change_url(po))
    assert set(response.context["adminform"].form.fields) == {
        "supplier",
        "currency",
        "version_seen",
    }
    assert "status" in response.context["adminform"].readonly_fields

    clerk.post(
        change_url(po),
        draft_form(po, [("tent-2p", 3, "10.00", only.pk, False)], status="approved"),
    )
    po.refresh_from_db()
    assert po.status == POStatus.DRAFT


def test_lines_are_read_only_once_the_po_left_draft(clerk, make_po):
    po = make_po("submitted")
    [only] = po.line_items.all()

    response = clerk.get(change_url(po))

    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="line_items-0-quantity"' not in content
    assert 'name="supplier"' not in content
    [lines, history, _edits] = response.context["inline_admin_formsets"]
    assert not lines.has_change_permission and not lines.has_add_permission
    assert not lines.has_delete_permission
    assert len(history.formset.forms) == 1

    response = clerk.post(change_url(po), draft_form(po, [("tent-2p", 99, "1.00", only.pk, 0)]))
    assert response.status_code == 403
    assert po.line_items.get().quantity == 3


def test_the_status_history_is_on_the_page(approver, make_po):
    po = make_po("rejected")

    response = approver.get(change_url(po))

    [_, history, _edits] = response.context["inline_admin_formsets"]
    rows = [form.instance for form in history.formset.forms]
    assert [(r.from_status, r.to_status) for r in rows] == [
        ("draft", "submitted"),
        ("submitted", "rejected"),
    ]
    assert not history.has_change_permission
    assert "walked" in response.content.decode()
    assert POStatusChange.objects.count() == 2


def test_purchase_orders_cannot_be_deleted(make_po, staff):
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "root@example.com", "pw")
    root = staff("root")
    po = make_po("draft")

    response = root.post(
        reverse("admin:procurement_purchaseorder_delete", args=[po.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert PurchaseOrder.objects.filter(pk=po.pk).exists()


# --- separation of duties ----------------------------------------------------------------------


def test_who_edited_a_draft_in_the_admin_may_not_approve_it(staff, clerk, make_po):
    """A clerk who is also an approver edits a colleague's draft: the edit is listed on the page,
    no Approve button is offered, and the button and the bulk action are refused."""
    both = staff("clerk-approver", "Procurement clerks")
    UserFactory(username="clerk-approver").groups.add(Group.objects.get(name="Approvers"))
    po = make_po("draft")
    [line_item] = po.line_items.all()
    response = both.post(
        change_url(po), draft_form(po, [("tent-2p", 9, "10.00", line_item.pk, False)])
    )
    assert response.status_code == 302
    services.transition_purchase_order(
        po_id=po.pk, target_status="submitted", user=UserFactory(username="clerk")
    )
    po.refresh_from_db()

    page = both.get(change_url(po))
    [_, _, edits] = page.context["inline_admin_formsets"]
    assert [(form.instance.edited_by, form.instance.fields) for form in edits.formset.forms] == [
        ("clerk-approver", "line_items")
    ]
    assert buttons(both, po) == ["cancelled"]

    refusal = press(both, po, "approved")
    [(level, text)] = messages_of(refusal)
    assert level == "error"
    assert "You created, edited or submitted this purchase order" in text

    bulk = both.post(CHANGELIST, {"action": "approve_selected", "_selected_action": [str(po.pk)]})
    assert any("Refused 1:" in text for _, text in messages_of(bulk))
    po.refresh_from_db()
    assert (po.status, po.approved_by) == ("submitted", None)
