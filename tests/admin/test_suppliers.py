from decimal import Decimal

import pytest
from django.urls import reverse

from suppliers.admin import SupplierAdmin
from suppliers.models import Supplier
from suppliers.services import update_supplier_performance
from tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:suppliers_supplier_changelist")
# The catalog inline's management form, with no rows.
NO_CATALOG_ROWS = {
    "catalog_items-TOTAL_FORMS": "0",
    "catalog_items-INITIAL_FORMS": "0",
    "catalog_items-MIN_NUM_FORMS": "0",
    "catalog_items-MAX_NUM_FORMS": "1000",
}


def test_the_list_shows_the_performance_figures(clerk):
    SupplierFactory(
        name="Summit Gear",
        expected_lead_time_days=Decimal("7.250"),
        lead_time_stddev_days=Decimal("0.800"),
        on_time_rate=Decimal("0.8750"),
        receipts_count=8,
    )

    response = clerk.get(CHANGELIST)

    content = response.content.decode()
    assert "7.250" in content
    assert "0.800" in content
    assert "88%" in content
    assert "On-time rate" in content


def test_adding_a_supplier_registers_it_without_figures(clerk):
    data = {
        "name": "Ridge Supply",
        "contact_email": "orders@ridge.example.com",
        "lead_time_days": "9",
        "rating": "4.10",
        "active": "on",
        "on_time_rate": "1",
        "receipts_count": "99",
        **NO_CATALOG_ROWS,
    }

    response = clerk.post(reverse("admin:suppliers_supplier_add"), data)

    assert response.status_code == 302
    supplier = Supplier.objects.get()
    assert (supplier.name, supplier.lead_time_days, supplier.rating) == (
        "Ridge Supply",
        9,
        Decimal("4.10"),
    )
    assert (supplier.on_time_rate, supplier.receipts_count) == (None, 0)


def test_the_performance_figures_are_read_only(clerk):
    supplier = SupplierFactory(receipts_count=3, on_time_rate=Decimal("0.5000"))
    url = reverse("admin:suppliers_supplier_change", args=[supplier.pk])

    form = clerk.get(url).context["adminform"].form
    assert set(form.fields) == {"name", "contact_email", "lead_time_days", "rating", "active"}

    clerk.post(
        url,
        {
            "name": supplier.name,
            "contact_email": supplier.contact_email,
            "lead_time_days": "3",
            "rating": "",
            "receipts_count": "50",
            "on_time_rate": "1",
            **NO_CATALOG_ROWS,
        },
    )
    supplier.refresh_from_db()
    assert (supplier.lead_time_days, supplier.rating, supplier.active) == (3, None, False)
    assert (supplier.receipts_count, supplier.on_time_rate) == (3, Decimal("0.5000"))


def test_the_supplier_page_links_to_its_purchase_orders(clerk):
    supplier = SupplierFactory()

    content = clerk.get(reverse("admin:suppliers_supplier_change", args=[supplier.pk])).content

    changelist = reverse("admin:procurement_purchaseorder_changelist")
    assert f"{changelist}?supplier__supplier_id__exact={supplier.pk}" in content.decode()


def test_editing_a_supplier_keeps_figures_a_receipt_stored_meanwhile(clerk, monkeypatch):
    """The admin writes only the fields the form changed: figures a receipt refreshed between the
    admin reading the supplier and saving it survive the save."""
    supplier = SupplierFactory(name="Old Name", lead_time_days=7)
    url = reverse("admin:suppliers_supplier_change", args=[supplier.pk])
    save_model = SupplierAdmin.save_model

    def receipt_lands_first(self, request, obj, form, change):
        update_supplier_performance(
            supplier_id=obj.pk,
            expected_lead_time_days=5.5,
            lead_time_stddev_days=0.5,
            on_time_rate=0.75,
            receipts_count=3,
        )
        save_model(self, request, obj, form, change)

    monkeypatch.setattr(SupplierAdmin, "save_model", receipt_lands_first)

    response = clerk.post(
        url,
        {
            "name": "New Name",
            "contact_email": supplier.contact_email,
            "lead_time_days": "7",
            "rating": "4.50",
            "active": "on",
            **NO_CATALOG_ROWS,
        },
    )

    assert response.status_code == 302
    supplier.refresh_from_db()
    assert supplier.name == "New Name"
    assert (supplier.receipts_count, supplier.expected_lead_time_days) == (3, Decimal("5.500"))
    assert supplier.on_time_rate == Decimal("0.7500")
