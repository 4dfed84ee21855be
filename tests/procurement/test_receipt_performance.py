"""Supplier performance from receipts: the lead time of each PO's first delivery, the on-time
and in-full rates of the last 365 days, kept incrementally and moving with time."""

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from procurement import services
from procurement.lead_times import learn_lead_time, refresh_supplier_performance
from procurement.models import PurchaseOrder
from suppliers.models import Supplier, SupplierDeliveryDay
from suppliers.services import record_completed_order, refresh_supplier_rates
from tests.conftest import statements_touching
from tests.factories import SupplierFactory
from tests.procurement.conftest import line
from tests.replenishment.factories import received_po

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

DAY = timedelta(days=1)


def _approved_days_ago(po, days):
    PurchaseOrder.objects.filter(pk=po.pk).update(
        approved_at=timezone.now() - days * DAY, expected_delivery_date=timezone.localdate()
    )


def _receive(po, operator, quantities, close=False):
    lines = list(po.line_items.order_by("line_number"))
    return services.record_receipt(
        po_id=po.po_id,
        user=operator,
        lines=[
            {"line_item_id": li.line_item_id, "quantity": q}
            for li, q in zip(lines, quantities, strict=True)
            if q
        ],
        close=close,
    )


def test_the_first_delivery_teaches_the_lead_time_not_the_last(po_in, operator, supplier):
    po = po_in("shipped", line_items=[line("tent", 10)])
    _approved_days_ago(po, 4)

    _receive(po, operator, [6])
    supplier.refresh_from_db()
    first = PurchaseOrder.objects.get(pk=po.pk).first_received_at
    actual = (first - PurchaseOrder.objects.get(pk=po.pk).approved_at).total_seconds() / 86400
    # EWMA seeded with the declared 7 days: 0.3 * ~4 + 0.7 * 7
    assert float(supplier.expected_lead_time_days) == pytest.approx(0.3 * actual + 4.9, abs=1e-3)
    assert supplier.receipts_count == 1
    assert supplier.on_time_rate is None  # not complete yet

    _receive(po, operator, [4])
    supplier.refresh_from_db()
    assert supplier.receipts_count == 1
    assert PurchaseOrder.objects.get(pk=po.pk).first_received_at == first
    assert supplier.on_time_rate == 1
    assert supplier.in_full_rate == 1


def test_in_full_rate_counts_pos_closed_short(po_in, operator, supplier):
    for closed_short in (False, True, True, False):
        po = po_in("shipped", line_items=[line("tent", 10)])
        _receive(po, operator, [8 if closed_short else 10], close=closed_short)

    supplier.refresh_from_db()
    assert supplier.in_full_rate == Decimal("0.5000")
    assert supplier.on_time_rate == 1
    [day] = SupplierDeliveryDay.objects.filter(supplier=supplier)
    assert (day.completed_count, day.judged_count, day.on_time_count, day.in_full_count) == (
        4,
        4,
        4,
        2,
    )


def test_the_rates_move_with_time_without_new_receipts():
    supplier = SupplierFactory()
    today = date(2026, 6, 1)
    record_completed_order(supplier_id=supplier.pk, day=today, on_time=True, in_full=True)
    record_completed_order(
        supplier_id=supplier.pk, day=today - 300 * DAY, on_time=False, in_full=False
    )
    record_completed_order(
        supplier_id=supplier.pk, day=today - 10 * DAY, on_time=None, in_full=True
    )

    refresh_supplier_rates(today=today)
    supplier.refresh_from_db()
    assert (supplier.on_time_rate, supplier.in_full_rate) == (Decimal("0.5000"), Decimal("0.6667"))

    refresh_supplier_rates(today=today + 70 * DAY)  # the late, short PO is 370 days old
    supplier.refresh_from_db()
    assert (supplier.on_time_rate, supplier.in_full_rate) == (Decimal("1.0000"), Decimal("1.0000"))

    refresh_supplier_rates(today=today + 400 * DAY)  # nothing left in the window
    supplier.refresh_from_db()
    assert (supplier.on_time_rate, supplier.in_full_rate) == (None, None)


def _rates_by_the_orm(today):
    """The rates as the ORM's expression computed them before the statement was written out
    (``suppliers.figures.refresh_rates_sql``): the reference the statement must match."""
    from django.db.models import DecimalField, F, FloatField, OuterRef, Subquery, Sum
    from django.db.models.functions import Cast, NullIf

    window = (
        SupplierDeliveryDay.objects.filter(supplier=OuterRef("pk"), day__gt=today - 365 * DAY)
        .order_by()
        .values("supplier")
    )
    if connection.vendor == "sqlite":
        rate = FloatField()
    else:
        rate = DecimalField(max_digits=12, decimal_places=6)

    def share(part, whole):
        return Subquery(
            window.annotate(share=Cast(Sum(part), rate) / Cast(NullIf(Sum(whole), 0), rate)).values(
                "share"
            ),
            output_field=rate,
        )

    Supplier.objects.update(
        on_time_rate=share(F("on_time_count"), F("judged_count")),
        in_full_rate=share(F("in_full_count"), F("completed_count")),
    )


def test_the_written_out_rates_are_what_the_orms_expression_computes():
    today = date(2026, 6, 1)
    suppliers = [SupplierFactory() for _ in range(4)]
    # Thirds, sevenths, none judged, nothing in the window.
    for index, (on_time, in_full) in enumerate(
        [(True, True), (False, True), (None, False), (True, False), (False, False)]
    ):
        for supplier, days in zip(suppliers, (index, 2 * index, 3 * index, 366), strict=True):
            record_completed_order(
                supplier_id=supplier.pk, day=today - days * DAY, on_time=on_time, in_full=in_full
            )

    def rates():
        return {
            pk: (on_time, in_full)
            for pk, on_time, in_full in Supplier.objects.values_list(
                "pk", "on_time_rate", "in_full_rate"
            )
        }

    assert refresh_supplier_rates(today=today) == 4
    written_out = rates()
    Supplier.objects.update(on_time_rate=None, in_full_rate=None)
    _rates_by_the_orm(today)
    assert written_out == rates()
    assert written_out[suppliers[0].pk] == (Decimal("0.5000"), Decimal("0.4000"))
    assert written_out[suppliers[3].pk] == (None, None)

    Supplier.objects.update(on_time_rate=None, in_full_rate=None)
    assert refresh_supplier_rates(today=today, supplier_ids=[suppliers[1].pk]) == 1
    assert rates()[suppliers[1].pk] == written_out[suppliers[1].pk]
    assert rates()[suppliers[0].pk] == (None, None)
    assert refresh_supplier_rates(today=today, supplier_ids=[]) == 0


def test_the_nightly_command_refreshes_every_supplier_in_one_statement():
    today = timezone.localdate()
    suppliers = [SupplierFactory() for _ in range(5)]
    for supplier in suppliers:
        record_completed_order(
            supplier_id=supplier.pk, day=today - 366 * DAY, on_time=True, in_full=True
        )
    Supplier.objects.update(on_time_rate=1, in_full_rate=1)

    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("refresh_supplier_rates", stdout=out)

    assert statements_touching(queries, "suppliers") == 1
    assert set(Supplier.objects.values_list("on_time_rate", "in_full_rate")) == {(None, None)}
    assert "Refreshed the rates of 5 suppliers." in out.getvalue()


def test_learning_a_lead_time_reads_a_bounded_history():
    """The incremental update costs the same whatever the supplier's history (the hardening
    issue: a receipt must not re-read every received PO of its supplier)."""
    counts = []
    for history in (1, 30):
        supplier = SupplierFactory(lead_time_days=5)
        now = timezone.now()
        for i in range(history):
            po = received_po(supplier=supplier, approved_at=now - (100 - i) * DAY, lead_time_days=4)
            PurchaseOrder.objects.filter(pk=po.pk).update(first_received_at=po.received_at)
        with CaptureQueriesContext(connection) as queries:
            learn_lead_time(supplier_id=supplier.pk)
        counts.append(len(queries))
    # Four statements in a savepoint (two more).
    assert counts[0] == counts[1] == 6


def test_incremental_learning_matches_the_full_recompute(po_in, operator, supplier):
    for days in (9, 4, 12, 6):
        po = po_in("shipped", line_items=[line("tent", 10)])
        _approved_days_ago(po, days)
        _receive(po, operator, [3])
    supplier.refresh_from_db()
    incremental = (supplier.expected_lead_time_days, supplier.lead_time_stddev_days)

    refresh_supplier_performance(supplier_id=supplier.pk)
    supplier.refresh_from_db()

    full = (supplier.expected_lead_time_days, supplier.lead_time_stddev_days)
    assert [float(v) for v in incremental] == pytest.approx([float(v) for v in full], abs=2e-3)
    assert supplier.receipts_count == 4


def test_the_supplier_api_returns_the_in_full_rate(po_in, operator, supplier, reader_client):
    def listed():
        [row] = reader_client.get("/suppliers", {"search": supplier.name}).json()["results"]
        return row

    assert listed()["in_full_rate"] is None
    for closed_short in (False, True):
        po = po_in("shipped", line_items=[line("tent", 10)])
        _receive(po, operator, [7 if closed_short else 10], close=closed_short)

    body = listed()

    assert Decimal(body["in_full_rate"]) == Decimal("0.5")
    assert Decimal(body["on_time_rate"]) == 1
    assert body["receipts_count"] == 2
