"""Swagger UI and the admin in a real headless browser, under the Content Security Policy:
Swagger UI draws every operation with no request leaving the service, and no page the browser
visits reports a CSP violation while its scripts and forms work."""

import pytest
from playwright.sync_api import expect, sync_playwright
from rest_framework.test import APIClient

from procurement.roles import setup_roles
from tests.e2e.test_admin_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    browser_settings,  # noqa: F401 (a fixture)
    log_in,
    staff_member,
)
from tests.factories import ApiTokenFactory, SupplierFactory, UserFactory

# Each page reports its violations into a list (installed before any of its scripts runs).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium`."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watch:
    """Every request a page sends, every console message about a refused resource, and the CSP
    violations the page reports."""

    def __init__(self, page):
        self.page = page
        self.requests = []
        self.refusals = []
        page.add_init_script(RECORD_VIOLATIONS)
        page.on("request", lambda request: self.requests.append(request.url))
        page.on(
            "console",
            lambda message: (
                self.refusals.append(message.text)
                if "Content Security Policy" in message.text or "Refused to" in message.text
                else None
            ),
        )

    def violations(self):
        return self.page.evaluate("window.__cspViolations || []") + self.refusals

    def off_origin(self, origin):
        return [url for url in self.requests if not url.startswith(f"{origin}/")]


def operation_count():
    schema = APIClient().get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    methods = {"get", "post", "put", "patch", "delete"}
    return sum(1 for item in schema["paths"].values() for method in item if method in methods)


@pytest.fixture
def expected_operations(db):
    return operation_count()


def test_swagger_ui_draws_every_operation_from_the_service_alone(
    live_server,
    browser_settings,  # noqa: F811
    expected_operations,
    chromium,
):
    expected = expected_operations
    base = live_server.url

    page = chromium.new_context().new_page()
    # Swagger UI's bundle is over 1 MB, served by the single live server of a shared machine.
    page.set_default_timeout(60_000)
    watch = Watch(page)
    page.goto(f"{base}/api/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("NovaTrek Inventory")
    expect(page.locator(".opblock")).to_have_count(expected)
    page.locator(".opblock-summary").first.click()
    expect(page.locator(".opblock.is-open")).to_have_count(1)

    assert expected >= 9
    assert watch.off_origin(base) == []
    assert any(url.endswith("/api/schema") for url in watch.requests)
    assert any("/static/drf_spectacular_sidecar/" in url for url in watch.requests)
    assert watch.violations() == []


@pytest.fixture
def admin_users(db):
    """A clerk with an API token and a superuser (made before the browser starts)."""
    setup_roles()
    clerk = staff_member("clerk", "Procurement clerks")
    ApiTokenFactory(user=clerk, name="clerk laptop")
    SupplierFactory(name="Summit Gear")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    root.set_password(PASSWORD)
    root.save()
    return clerk


def test_admin_pages_work_under_the_policy_with_no_violation(
    live_server,
    browser_settings,  # noqa: F811
    admin_users,
    chromium,
):
    clerk_id = admin_users.pk
    base = live_server.url

    # No ORM call in this block: Playwright's sync API runs an event loop in this thread.
    page = log_in(chromium, base, "clerk")
    watch = Watch(page)
    seen = []

    def visit(path):
        page.goto(f"{base}{path}")
        seen.append((path, watch.violations()))

    visit("/admin/")
    visit("/admin/procurement/purchaseorder/add/")
    rows = page.locator("#line_items-group tr.form-row:not(.empty-form)")
    before = rows.count()
    page.locator("#line_items-group .add-row a").click()  # inlines.js
    expect(rows).to_have_count(before + 1)
    seen.append(("inline add", watch.violations()))

    visit("/admin/suppliers/supplier/add/")
    page.fill("#id_name", "Ridge Outfitters")
    page.fill("#id_contact_email", "orders@ridge.example")
    page.fill("#id_lead_time_days", "6")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("Ridge Outfitters")
    seen.append(("supplier saved", watch.violations()))

    visit("/admin/accounts/apitoken/")
    page.locator("#action-toggle").check()  # actions.js: select all
    expect(page.locator(".action-counter")).to_contain_text("1 of 1 selected")
    page.select_option("select[name=action]", "revoke")
    page.locator(".actions button[name=index]").click()
    expect(page.locator(".messagelist .success")).to_contain_text("Revoked 1 API token")
    seen.append(("token revoked", watch.violations()))
    assert watch.off_origin(base) == []

    page = log_in(chromium, base, "root")
    watch = Watch(page)
    visit(f"/admin/auth/user/{clerk_id}/change/")
    expect(page.locator("#id_user_permissions_filter")).to_be_visible()  # SelectFilter2.js
    visit("/admin/procurement/purchaseorder/")
    visit("/admin/stock/stocklevel/")
    assert watch.off_origin(base) == []

    assert [(path, found) for path, found in seen if found] == []
