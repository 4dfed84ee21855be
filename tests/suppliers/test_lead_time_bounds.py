"""A supplier declares a lead time of 0 to 3650 days wherever it is written (API, admin, model,
SQL), and no stored figure can make a delivery date or a learned lead time overflow."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from procurement.lead_times import expected_delivery_date
from suppliers.models import Supplier
from tests.admin.conftest import admin_client
from tests.factories import SupplierFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_model_refuses_more_than_ten_years():
    supplier = SupplierFactory.build(lead_time_days=3651)

    with pytest.raises(ValidationError) as raised:
        supplier.full_clean()

    assert "lead_time_days" in raised.value.message_dict
    SupplierFactory.build(lead_time_days=3650).full_clean()


def test_the_database_refuses_more_than_ten_years():
    supplier = SupplierFactory(lead_time_days=3650)

    with (
        pytest.raises(IntegrityError, match="suppliers_lead_time_at_most_3650"),
        transaction.atomic(),
    ):
        Supplier.objects.filter(pk=supplier.pk).update(lead_time_days=2_000_000_000)

    supplier.refresh_from_db()
    assert supplier.lead_time_days == 3650


def test_the_admin_form_refuses_more_than_ten_years(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = admin_client(UserFactory(username="boss", is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:suppliers_supplier_add"),
        {
            "name": "Slow Boat",
            "contact_email": "orders@slow.example.com",
            "lead_time_days": "2000000000",
            "active": "on",
        },
    )

    assert response.status_code == 200
    assert "lead_time_days" in response.context["adminform"].form.errors
    assert not Supplier.objects.exists()


def test_the_api_and_the_model_agree(admin_client_api):
    body = {"name": "Slow Boat", "contact_email": "orders@slow.example.com"}

    assert (
        admin_client_api.post(
            "/suppliers", {**body, "lead_time_days": 3650}, format="json"
        ).status_code
        == 201
    )
    response = admin_client_api.post("/suppliers", {**body, "lead_time_days": 3651}, format="json")
    assert response.status_code == 400
    assert "lead_time_days" in response.json()["fields"]


@pytest.mark.parametrize(
    ("declared", "learned", "receipts"),
    [(2_000_000_000, None, 0), (7, Decimal("99999.999"), 3)],
    ids=["declared", "learned"],
)
def test_a_delivery_date_never_overflows(declared, learned, receipts):
    """Whatever a supplier row holds (e.g. written before the constraint), the estimate is at
    most ten years out."""
    supplier = Supplier(
        lead_time_days=declared, expected_lead_time_days=learned, receipts_count=receipts
    )
    now = timezone.now()

    assert expected_delivery_date(supplier=supplier, at=now) == timezone.localdate(now) + (
        timedelta(days=3650)
    )
    end_of_time = datetime(9999, 12, 30, tzinfo=UTC)
    assert expected_delivery_date(supplier=supplier, at=end_of_time) == date.max
