"""The planner's charts in a real headless browser: each chart page is opened, its charts must
have drawn (SVG with data points, laid out at a real size), and a screenshot of each is kept
under ``var/e2e/`` (CI keeps it as an artifact)."""

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from procurement import services
from procurement.models import PurchaseOrder
from procurement.roles import setup_roles
from stock.models import StockLevel
from suppliers.models import LeadTimeObservation
from tests.admin.factories import ReorderPointCalculationFactory
from tests.e2e.test_admin_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    browser_settings,  # noqa: F401 (a fixture)
    log_in,
    staff_member,
)
from tests.factories import StockLevelFactory, SupplierFactory, UserFactory
from tests.procurement.conftest import walk_to
from tests.replenishment.factories import consume

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "e2e"
LOCATION = uuid.UUID("7c2d4e6f-8a9b-4c1d-9e2f-3a4b5c6d7e8f")


def _planning_data():
    """A level with 120 days of consumption and weekly recalculations, a supplier with ten
    receipts, and approved POs due in the coming days."""
    now = timezone.now()
    supplier = SupplierFactory(name="Summit Gear", lead_time_days=7, expected_lead_time_days=8)
    level = StockLevelFactory(
        item_type="tent-2p",
        location_id=LOCATION,
        quantity_on_hand=35,
        reorder_point=30,
        reorder_quantity=60,
    )
    consume(level, {days_ago: 2 + days_ago % 3 for days_ago in range(1, 121)}, now=now)
    for week in range(12):
        calculation = ReorderPointCalculationFactory(
            stock=level,
            computed_at=now - timedelta(days=7 * week + 1),
            previous_reorder_point=24 + week % 4,
            reorder_point=25 + week % 4,
        )
    StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)
    LeadTimeObservation.objects.bulk_create(
        [
            LeadTimeObservation(
                supplier=supplier,
                po_id=uuid.uuid4(),
                received_at=now - timedelta(days=15 * (10 - index)),
                actual_lead_time_days=6 + (index * 7) % 5,
                expected_lead_time_days=7 + index * 0.1,
                lead_time_stddev_days=1.2,
                receipts_count=index + 1,
            )
            for index in range(10)
        ]
    )
    operator = UserFactory(
        username="operator",
        perms=["procurement.change_purchaseorder", "procurement.approve_purchaseorder"],
    )
    for days_ahead in (-2, 1, 3, 3, 8):
        po = services.create_purchase_order(
            supplier_id=supplier.pk,
            line_items=[
                {
                    "item_type": "tent-2p",
                    "location_id": LOCATION,
                    "quantity": 10 + days_ahead,
                    "unit_price": "99",
                }
            ],
            created_by="clerk",
        )
        walk_to(po.pk, "approved", operator=operator)
        PurchaseOrder.objects.filter(pk=po.pk).update(
            expected_delivery_date=timezone.localdate() + timedelta(days=days_ahead)
        )
    for index in range(5):
        StockLevelFactory(
            item_type=f"stove-{index}",
            location_id=uuid.uuid4() if index % 2 else LOCATION,
            quantity_on_hand=index,
            reorder_point=4,
        )
    return level, supplier


def _charts_drew(page, count):
    charts = page.locator("svg.chart")
    expect(charts).to_have_count(count)
    for index in range(count):
        chart = charts.nth(index)
        expect(chart).to_be_visible()
        assert chart.locator(".data-point").count() > 0
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100


def test_the_chart_pages_draw(live_server, browser_settings):  # noqa: F811
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
            "(.ci/run does)."
        )
    setup_roles()
    staff_member("approver", "Approvers")
    level, supplier = _planning_data()
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # No ORM call in this block: Playwright's sync API runs an event loop in this thread.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = log_in(browser, base, "approver")
            page.set_viewport_size({"width": 1280, "height": 900})

            page.get_by_role("link", name="Replenishment overview").click()
            expect(page.locator("h1")).to_have_text("Replenishment overview")
            _charts_drew(page, 3)
            expect(page.locator("#deliveries table.deliveries tbody tr")).to_have_count(5)
            page.screenshot(path=SCREENSHOTS / "replenishment-overview.png", full_page=True)

            page.goto(f"{base}/admin/stock/stocklevel/{level.pk}/change/")
            _charts_drew(page, 2)
            on_hand = page.locator("svg.chart").first
            expect(on_hand.locator('[data-series="Reorder point"] polyline')).to_have_count(1)
            assert on_hand.locator(".data-point").count() >= 180
            page.locator("fieldset.planning").screenshot(path=SCREENSHOTS / "stock-level.png")

            page.goto(f"{base}/admin/suppliers/supplier/{supplier.pk}/change/")
            _charts_drew(page, 1)
            expect(page.locator('svg.chart [data-series="Observed"] .data-point')).to_have_count(10)
            page.locator("fieldset.planning").screenshot(path=SCREENSHOTS / "supplier.png")
        finally:
            browser.close()

    for name in ("replenishment-overview", "stock-level", "supplier"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 10_000
