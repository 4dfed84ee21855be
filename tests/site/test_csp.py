"""The Content Security Policy (django-csp) on the admin and the API docs, and pages that run
under it: no inline script or style anywhere (tests/e2e/test_swagger_and_csp.py checks a real
browser reports no violation)."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from procurement.roles import setup_roles
from stock.services import record_adjustment
from tests.factories import PurchaseOrderFactory, SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.IGNORECASE)


def policy_of(response):
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


def assert_strict(response):
    assert response.status_code == 200, response.status_code
    assert policy_of(response) == POLICY
    assert "unsafe" not in response["Content-Security-Policy"]
    page = response.content.decode()
    assert not INLINE_SCRIPT.findall(page)
    assert not INLINE_STYLE.findall(page)


@pytest.fixture
def superuser_client():
    setup_roles()
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    user.refresh_from_db()
    client = Client()
    client.force_login(user)
    return client


def test_the_login_page_has_the_policy_and_nothing_inline():
    assert_strict(Client().get("/admin/login/"))


def test_the_lockout_page_has_the_policy(settings):
    settings.AXES_FAILURE_LIMIT = 1
    UserFactory(username="anna", is_staff=True)
    response = Client().post("/admin/login/", {"username": "anna", "password": "wrong"})
    assert response.status_code == 429
    assert policy_of(response) == POLICY
    assert not INLINE_SCRIPT.findall(response.content.decode())
    assert not INLINE_STYLE.findall(response.content.decode())


def test_admin_pages_have_the_policy_and_nothing_inline(superuser_client):
    po = PurchaseOrderFactory(supplier=SupplierFactory())
    level = record_adjustment(
        reason="receipt",
        adjusted_by="setup",
        item_type="tent-2p",
        location_id="6a1f0c3e-8d2b-4c5a-9e7f-1b2c3d4e5f60",
        quantity_delta=3,
    ).stock
    pages = [
        "/admin/",
        reverse("admin:procurement_purchaseorder_changelist"),
        reverse("admin:procurement_purchaseorder_add"),
        reverse("admin:procurement_purchaseorder_change", args=[po.pk]),
        reverse("admin:suppliers_supplier_add"),
        reverse("admin:stock_stocklevel_change", args=[level.pk]),
        reverse("admin:stock_stocklevel_adjust", args=[level.pk]),
        reverse("admin:stock_reorderalert_changelist"),
        reverse("admin:accounts_apitoken_changelist"),
        reverse("admin:auth_user_changelist"),
    ]
    for page in pages:
        assert_strict(superuser_client.get(page))


def test_the_api_docs_page_loads_everything_from_the_service():
    response = Client().get("/api/docs")
    assert_strict(response)
    page = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert "cdn" not in page.lower()

    script = Client().get("/api/docs?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema" in script.content.decode()


def test_json_api_responses_carry_the_policy_too(admin_client_api):
    response = admin_client_api.get("/suppliers")
    assert response.status_code == 200
    assert policy_of(response) == POLICY
