from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.db.models import Count, Max, Min, Sum
from django.test import RequestFactory

from procurement.models import POStatus, POStatusChange, PurchaseOrder
from stock.models import ReorderAlert, ReorderPointCalculation, StockAdjustment, StockLevel
from suppliers.models import LeadTimeObservation, Supplier

# A sign-in as the admin does it: django-axes, the first authentication backend, needs the request.
LOGIN_REQUEST = RequestFactory().post("/admin/login/")

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def seed(**options):
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def check_every_status_with_history(seeded):
    counts = dict(PurchaseOrder.objects.values_list("status").annotate(n=Count("pk")))
    assert set(counts) == set(POStatus.values)
    for po in PurchaseOrder.objects.exclude(status="draft").prefetch_related("status_history"):
        steps = [change.to_status for change in po.status_history.all()]
        assert steps and steps[-1] == po.status
        times = [change.changed_at for change in po.status_history.all()]
        assert times == sorted(times)
        assert po.created_at <= times[0]
    rejected = POStatusChange.objects.get(to_status="rejected")
    assert rejected.reason and rejected.changed_by == "approver"
    assert PurchaseOrder.objects.filter(status="submitted", created_by="approver").exists()
    assert "Demo data loaded:" in seeded


def check_90_days_of_consumption_consistent_with_the_ledger():
    assert StockLevel.objects.values("location_id").distinct().count() == 3
    span = StockAdjustment.objects.filter(reason="consumption").aggregate(
        first=Min("created_at"), last=Max("created_at")
    )
    assert (span["last"] - span["first"]).days >= 85
    totals = dict(
        StockAdjustment.objects.values_list("stock_id").annotate(total=Sum("quantity_delta"))
    )
    for level in StockLevel.objects.all():
        assert level.quantity_on_hand == totals[level.stock_id]
        rows = level.adjustments.order_by("created_at", "adjustment_id")
        running = 0
        for row in rows:
            running += row.quantity_delta
            assert row.quantity_after == running >= 0
    receipts = StockAdjustment.objects.filter(reason="po_receipt")
    received = PurchaseOrder.objects.filter(status="received")
    assert {r.po_id for r in receipts} == {po.pk for po in received}
    for po in received:
        assert {r.created_at for r in receipts.filter(po_id=po.pk)} == {po.received_at}


def check_reorder_points_suppliers_and_alerts():
    assert ReorderPointCalculation.objects.count() == StockLevel.objects.count()
    assert not StockLevel.objects.filter(reorder_calculation__isnull=True).exists()
    assert ReorderAlert.objects.filter(resolved_at__isnull=True).exists()
    learned = Supplier.objects.filter(receipts_count__gte=3)
    assert learned.exists()
    assert all(s.on_time_rate is not None for s in learned)
    assert Supplier.objects.filter(active=False).exists()
    # a lead-time history row per receipt, the last one the supplier's figures
    received = PurchaseOrder.objects.filter(status="received")
    assert set(LeadTimeObservation.objects.values_list("po_id", flat=True)) == {
        po.pk for po in received
    }
    for supplier in learned:
        last = supplier.lead_time_history.order_by("received_at").last()
        assert last.expected_lead_time_days == supplier.expected_lead_time_days
        assert last.receipts_count == supplier.receipts_count


def check_demo_users(seeded):
    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups")}
    assert users["admin"].is_superuser
    roles = {name: [g.name for g in users[name].groups.all()] for name in users}
    assert roles["clerk"] == ["Procurement clerks"]
    assert roles["approver"] == ["Approvers"]
    assert roles["warehouse"] == ["Warehouse staff"]
    assert all(users[name].is_staff for name in ("clerk", "approver", "approver2", "warehouse"))
    assert authenticate(LOGIN_REQUEST, username="approver", password="demo-pass-123") is not None
    assert "Password of the demo users: demo-pass-123" in seeded
    assert "approver   Approvers" in seeded


def check_a_second_run_loads_nothing():
    before = (PurchaseOrder.objects.count(), StockAdjustment.objects.count())

    out = seed()

    assert "already holds data" in out
    assert "nothing was loaded" in out
    assert (PurchaseOrder.objects.count(), StockAdjustment.objects.count()) == before


def test_seed_demo_fills_an_empty_database():
    """One run (it takes a few seconds), several checks."""
    out = seed(password="demo-pass-123")

    check_every_status_with_history(out)
    check_90_days_of_consumption_consistent_with_the_ledger()
    check_reorder_points_suppliers_and_alerts()
    check_demo_users(out)
    check_a_second_run_loads_nothing()


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="the embedded database is SQLite",
)
def test_embedded_only_loads_the_demo_into_the_embedded_database():
    """What `make run` does on its first start."""
    out = seed(embedded_only=True, password="demo-pass-123")

    assert "Demo data loaded:" in out
    assert Supplier.objects.exists() and StockLevel.objects.exists()
    check_a_second_run_loads_nothing()


@pytest.mark.postgresql
def test_embedded_only_does_nothing_on_postgresql():
    out = seed(embedded_only=True)

    assert "Not the embedded database: nothing loaded." in out
    assert not Supplier.objects.exists()


def test_existing_users_are_kept(db):
    get_user_model().objects.create_user("clerk", password="mine")

    out = seed(password="demo-pass-123")

    assert "clerk      Procurement clerks (existing user: password unchanged)" in out
    clerk = authenticate(LOGIN_REQUEST, username="clerk", password="mine")
    assert clerk is not None
    assert [group.name for group in clerk.groups.all()] == ["Procurement clerks"]
