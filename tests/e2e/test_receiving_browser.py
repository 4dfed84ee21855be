"""Receiving part of a purchase order through the admin's "Receive goods" form, in a real
headless browser (see test_admin_browser.py for the set-up)."""

import pytest
from playwright.sync_api import expect, sync_playwright

from procurement import services
from procurement.models import PurchaseOrder, Receipt
from procurement.roles import setup_roles
from stock.models import StockLevel
from tests.e2e.test_admin_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOCATION,
    browser_settings,  # noqa: F401 - a fixture
    log_in,
    staff_member,
)
from tests.factories import SupplierFactory, UserFactory
from tests.procurement.conftest import walk_to


def test_receive_part_of_a_po_then_close_it_short(live_server, browser_settings):  # noqa: F811
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium`."
        )
    setup_roles()
    staff_member("warehouse", "Warehouse staff")
    operator = UserFactory(
        username="operator",
        perms=["procurement.change_purchaseorder", "procurement.approve_purchaseorder"],
    )
    po = services.create_purchase_order(
        supplier_id=SupplierFactory(name="Summit Gear").pk,
        line_items=[
            {"item_type": "tent-2p", "location_id": LOCATION, "quantity": 10, "unit_price": "99"},
            {"item_type": "stove", "location_id": LOCATION, "quantity": 4, "unit_price": "30"},
        ],
        created_by="clerk",
    )
    walk_to(po.pk, "approved", operator=operator)
    tent, stove = po.line_items.order_by("line_number")
    base = live_server.url

    # No ORM call in this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = log_in(browser, base, "warehouse")
            page.goto(f"{base}/admin/procurement/purchaseorder/{po.pk}/change/")
            expect(page.locator("#po-status")).to_have_text("Approved")
            page.get_by_role("link", name="Receive goods").click()
            tent_input = page.locator(f"#id_quantity_{tent.pk}")
            stove_input = page.locator(f"#id_quantity_{stove.pk}")
            expect(tent_input).to_have_value("10")
            expect(stove_input).to_have_value("4")
            tent_input.fill("6")
            stove_input.fill("0")
            page.fill("#id_note", "First pallet")
            page.get_by_role("button", name="Record receipt").click()
            expect(page.locator(".messagelist .success")).to_contain_text("Received 6 unit(s)")
            expect(page.locator("#po-status")).to_have_text("Shipped")
            expect(page.locator("body")).to_contain_text("6 x tent-2p")

            page.get_by_role("link", name="Receive goods").click()
            expect(page.locator(f"#id_quantity_{tent.pk}")).to_have_value("4")
            page.locator(f"#id_quantity_{tent.pk}").fill("3")
            page.locator(f"#id_quantity_{stove.pk}").fill("4")
            page.check("#id_close_short")
            page.get_by_role("button", name="Record receipt").click()
            expect(page.locator(".messagelist .success")).to_contain_text("closed short")
            expect(page.locator("#po-status")).to_have_text("Received")
            expect(page.get_by_role("link", name="Receive goods")).to_have_count(0)
        finally:
            browser.close()

    stored = PurchaseOrder.objects.get(pk=po.pk)
    assert (stored.status, stored.receipt_status) == ("received", "closed_short")
    assert Receipt.objects.filter(purchase_order=po).count() == 2
    assert StockLevel.objects.get(item_type="tent-2p").quantity_on_hand == 9
    assert StockLevel.objects.get(item_type="stove").quantity_on_hand == 4
    first = Receipt.objects.filter(purchase_order=po).order_by("received_at").first()
    assert (first.received_by, first.note) == ("warehouse", "First pallet")
