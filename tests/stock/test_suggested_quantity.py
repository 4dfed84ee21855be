"""The suggested quantity of an alert is computed without overflow: reorder_point and
reorder_quantity may each be up to 2^31 - 1, so their sum passes PostgreSQL's integer."""

import pytest
from django.urls import reverse

from stock.selectors import list_open_alerts
from stock.services import MAX_QUANTITY, create_stock_level
from tests.admin.conftest import admin_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def huge_alert():
    """A level at 0 with both reorder settings at their largest: suggests 2 * (2^31 - 1)."""
    return create_stock_level(
        item_type="tent-2p",
        location_id="2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
        reorder_point=MAX_QUANTITY,
        reorder_quantity=MAX_QUANTITY,
    )


def test_the_api_lists_an_alert_whose_suggestion_passes_2_to_the_31(reader_client, huge_alert):
    response = reader_client.get("/reorder-alerts")

    assert response.status_code == 200, response.json()
    [alert] = response.json()["results"]
    assert alert["suggested_quantity"] == 2 * MAX_QUANTITY
    assert alert["stock_id"] == str(huge_alert.stock_id)


def test_the_api_orders_and_the_selector_reads_it(reader_client, huge_alert):
    response = reader_client.get("/reorder-alerts", {"ordering": "-suggested_quantity"})

    assert response.status_code == 200, response.json()
    assert [a.suggested_quantity for a in list_open_alerts()] == [2 * MAX_QUANTITY]


def test_the_admin_list_shows_it(huge_alert, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = admin_client(UserFactory(username="boss", is_staff=True, is_superuser=True))

    response = client.get(reverse("admin:stock_reorderalert_changelist"))

    assert response.status_code == 200
    assert f"{2 * MAX_QUANTITY}" in response.content.decode()
