"""The admin in a real headless browser: Playwright driving Debian's Chromium (installed by
``.ci/run``) against pytest-django's live server, which serves the static files itself."""

import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect, sync_playwright

from procurement import services
from procurement.models import POStatus, PurchaseOrder
from procurement.roles import setup_roles
from stock import services as stock_services
from stock.models import StockLevel
from tests.factories import SupplierFactory, UserFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "e2e-correct-horse"
LOCATION = uuid.UUID("5d3c2b1a-0f9e-4d8c-b7a6-958473625140")


@pytest.fixture
def browser_settings(settings):
    """The live server speaks plain HTTP: no secure-only cookies. Static URLs without the
    manifest (there is no collectstatic in tests)."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def staff_member(username, role):
    user = UserFactory(username=username, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=role))
    return user


def log_in(browser, base_url, username):
    """A fresh browser context (its own cookies), logged in to the admin."""
    page = browser.new_context().new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools strong")).to_have_text(username)
    return page


def test_approve_a_po_then_record_a_stock_correction(live_server, browser_settings):
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(.ci/run does)."
        )
    setup_roles()
    staff_member("clerk", "Procurement clerks")
    staff_member("approver", "Approvers")
    staff_member("warehouse", "Warehouse staff")
    clerk = UserFactory(username="clerk")
    po = services.create_purchase_order(
        supplier_id=SupplierFactory(name="Summit Gear").pk,
        line_items=[
            {"item_type": "tent-2p", "location_id": LOCATION, "quantity": 4, "unit_price": "99"}
        ],
        created_by="clerk",
    )
    services.transition_purchase_order(po_id=po.pk, target_status="submitted", user=clerk)
    adjustment = stock_services.record_adjustment(
        reason="receipt",
        adjusted_by="clerk",
        item_type="tent-2p",
        location_id=LOCATION,
        quantity_delta=10,
    )
    level_id = adjustment.stock.pk
    base = live_server.url

    # No ORM call in this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = log_in(browser, base, "approver")
            page.goto(f"{base}/admin/procurement/purchaseorder/{po.pk}/change/")
            expect(page.locator("#po-status")).to_have_text("Submitted")
            page.get_by_role("button", name="Approve").click()
            expect(page.locator(".messagelist .success")).to_contain_text("is now approved")
            expect(page.locator("#po-status")).to_have_text("Approved")
            expect(page.get_by_role("button", name="Approve")).to_have_count(0)

            page = log_in(browser, base, "warehouse")
            page.goto(f"{base}/admin/stock/stocklevel/{level_id}/change/")
            expect(page.locator(".field-quantity_on_hand .readonly")).to_have_text("10")
            page.get_by_role("link", name="Record adjustment").click()
            page.select_option("#id_reason", "correction")
            page.fill("#id_quantity_delta", "-3")
            page.fill("#id_note", "Three tents missing at the shelf count")
            page.get_by_role("button", name="Record adjustment").click()
            expect(page.locator(".messagelist .success")).to_contain_text("7 on hand now")
            expect(page.locator(".field-quantity_on_hand .readonly")).to_have_text("7")
        finally:
            browser.close()

    po = PurchaseOrder.objects.get(pk=po.pk)
    assert (po.status, po.approved_by) == (POStatus.APPROVED, "approver")
    level = StockLevel.objects.get(pk=level_id)
    assert level.quantity_on_hand == 7
    correction = level.adjustments.get(reason="correction")
    assert (correction.quantity_delta, correction.adjusted_by) == (-3, "warehouse")
