"""Four eyes in a real browser: two approvers approve a large PO in the admin, then one
downloads its PDF, whose text is the PO."""

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from procurement import services
from procurement.models import POStatus, PurchaseOrder
from procurement.roles import setup_roles
from tests.e2e.test_admin_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCATION,
    browser_settings,  # noqa: F401 (a fixture)
    log_in,
    staff_member,
)
from tests.factories import SupplierFactory
from tests.procurement.documents import assert_document_of, pdf_text


def test_two_approvers_approve_a_large_po_and_download_its_pdf(
    live_server,
    browser_settings,  # noqa: F811
    tmp_path,
):
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(.ci/run does)."
        )
    setup_roles()
    staff_member("approver-1", "Approvers")
    staff_member("approver-2", "Approvers")
    clerk = staff_member("clerk", "Procurement clerks")
    po = services.create_purchase_order(
        supplier_id=SupplierFactory(name="Summit Gear").pk,
        line_items=[
            {
                "item_type": "tent-2p",
                "location_id": LOCATION,
                "quantity": 80,
                "unit_price": "149.99",
            }
        ],
        created_by="clerk",
    )
    services.transition_purchase_order(po_id=po.pk, target_status="submitted", user=clerk)
    url = f"{live_server.url}/admin/procurement/purchaseorder/{po.pk}/change/"

    # No ORM call in this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = log_in(browser, live_server.url, "approver-1")
            page.goto(url)
            expect(page.locator("#po-approval-note")).to_contain_text("needs two approvals")
            page.get_by_role("button", name="Approve").click()
            expect(page.locator(".messagelist .success")).to_contain_text("first approval recorded")
            expect(page.locator("#po-status")).to_have_text("Submitted")
            expect(page.get_by_role("button", name="Approve")).to_have_count(0)

            page = log_in(browser, live_server.url, "approver-2")
            page.goto(url)
            expect(page.locator("#po-approval-note")).to_contain_text(
                "First approval by approver-1"
            )
            page.get_by_role("button", name="Approve").click()
            expect(page.locator(".messagelist .success")).to_contain_text("is now approved")
            expect(page.locator("#po-status")).to_have_text("Approved")

            with page.expect_download() as download_info:
                page.get_by_role("link", name="Download PDF").click()
            download = download_info.value
            assert download.suggested_filename == f"novatrek-po-{po.pk}.pdf"
            saved = Path(tmp_path) / download.suggested_filename
            download.save_as(saved)
        finally:
            browser.close()

    po = PurchaseOrder.objects.get(pk=po.pk)
    assert (po.status, po.approved_by) == (POStatus.APPROVED, "approver-2")
    assert list(po.approvals.values_list("approved_by", flat=True)) == ["approver-1", "approver-2"]
    assert_document_of(pdf_text(saved.read_bytes()), po)
