"""Supplier lead times learned from receipts, the on-time rate and delivery estimates."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common.errors import NotFound
from procurement.lead_times import (
    expected_delivery_date,
    expected_lead_time_days,
    refresh_supplier_performance,
)
from procurement.models import POStatus
from suppliers.models import Supplier
from suppliers.services import update_supplier_performance
from tests.factories import PurchaseOrderFactory, SupplierFactory
from tests.replenishment.factories import received_po

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _refresh(supplier, now=NOW):
    refresh_supplier_performance(supplier_id=supplier.supplier_id, now=now)
    supplier.refresh_from_db()
    return supplier


def _figures(supplier):
    return (
        supplier.expected_lead_time_days,
        supplier.lead_time_stddev_days,
        supplier.receipts_count,
    )


def test_ewma_and_spread_across_receipts():
    supplier = SupplierFactory(lead_time_days=10)
    start = NOW - 200 * DAY
    # Received in this order (approved in another): lead times 8, 12, 6, 9 days.
    plan = [
        (start + 5 * DAY, 8),
        (start + 2 * DAY, 12),
        (start + 20 * DAY, 6),
        (start + 30 * DAY, 9),
    ]
    expected = [
        # e1 = 0.3 * 8 + 0.7 * 10 = 9.4; spread 0 with fewer than 3
        (Decimal("9.400"), Decimal("0.000"), 1),
        # e2 = 0.3 * 12 + 0.7 * 9.4 = 10.18
        (Decimal("10.180"), Decimal("0.000"), 2),
        # e3 = 0.3 * 6 + 0.7 * 10.18 = 8.926; stdev(8, 12, 6) = sqrt(18.6667 / 2) = 3.0551
        (Decimal("8.926"), Decimal("3.055"), 3),
        # e4 = 0.3 * 9 + 0.7 * 8.926 = 8.9482; stdev(8, 12, 6, 9) = sqrt(18.75 / 3) = 2.5
        (Decimal("8.948"), Decimal("2.500"), 4),
    ]
    for (approved_at, lead_time), figures in zip(plan, expected, strict=True):
        received_po(supplier=supplier, approved_at=approved_at, lead_time_days=lead_time)
        assert _figures(_refresh(supplier)) == figures


def test_fractional_lead_time_in_days():
    supplier = SupplierFactory(lead_time_days=2)
    received_po(supplier=supplier, approved_at=NOW - 10 * DAY, lead_time_days=1.5)  # 36 hours

    # 0.3 * 1.5 + 0.7 * 2 = 1.85
    assert _refresh(supplier).expected_lead_time_days == Decimal("1.850")


def test_spread_uses_the_last_ten_lead_times():
    supplier = SupplierFactory(lead_time_days=5)
    start = NOW - 200 * DAY
    lead_times = [100, 100] + [4, 6] * 5
    for i, lead_time in enumerate(lead_times):
        received_at = start + 10 * i * DAY  # received in list order
        received_po(
            supplier=supplier, approved_at=received_at - lead_time * DAY, lead_time_days=lead_time
        )

    # last ten: 4, 6, 4, 6, ... mean 5, squares sum 10, stdev = sqrt(10 / 9) = 1.0541
    assert _refresh(supplier).lead_time_stddev_days == Decimal("1.054")
    assert supplier.receipts_count == 12


def test_only_received_pos_of_the_supplier_with_both_times_count():
    supplier = SupplierFactory(lead_time_days=10)
    received_po(supplier=supplier, approved_at=NOW - 30 * DAY, lead_time_days=20)
    PurchaseOrderFactory(supplier=supplier, status=POStatus.SHIPPED, approved_at=NOW - 40 * DAY)
    PurchaseOrderFactory(supplier=supplier, status=POStatus.RECEIVED, received_at=NOW - DAY)
    received_po(supplier=SupplierFactory(), approved_at=NOW - 30 * DAY, lead_time_days=1)

    # one receipt: 0.3 * 20 + 0.7 * 10 = 13
    assert _figures(_refresh(supplier)) == (Decimal("13.000"), Decimal("0.000"), 1)


def test_no_receipts_leaves_the_declared_lead_time():
    supplier = _refresh(SupplierFactory(lead_time_days=6))
    assert _figures(supplier) == (Decimal("6.000"), Decimal("0.000"), 0)
    assert supplier.on_time_rate is None


def test_on_time_rate_over_the_last_365_days():
    supplier = SupplierFactory(lead_time_days=5)

    def receive(received_days_ago, due_offset_days):
        received_at = NOW - received_days_ago * DAY
        received_po(
            supplier=supplier,
            approved_at=received_at - 5 * DAY,
            lead_time_days=5,
            expected_delivery_date=received_at.date() + timedelta(days=due_offset_days),
        )

    receive(10, 0)  # on the expected day: on time
    receive(20, -1)  # a day late
    receive(30, 3)  # early
    receive(400, -10)  # late, but more than 365 days ago: not counted
    received_po(supplier=supplier, approved_at=NOW - 50 * DAY, lead_time_days=5)  # no due date

    assert _refresh(supplier).on_time_rate == Decimal("0.6667")  # 2 of 3
    assert supplier.receipts_count == 5


def test_on_time_rate_is_null_without_receipts_in_the_year():
    supplier = SupplierFactory(lead_time_days=5)
    received_po(
        supplier=supplier,
        approved_at=NOW - 500 * DAY,
        lead_time_days=5,
        expected_delivery_date=(NOW - 400 * DAY).date(),
    )
    assert _refresh(supplier).on_time_rate is None
    assert supplier.receipts_count == 1


def test_refresh_uses_the_same_statements_whatever_the_receipts():
    """The repair reads the history in a fixed number of statements."""
    counts = []
    for receipts in (1, 12):
        supplier = SupplierFactory(lead_time_days=5)
        for i in range(receipts):
            received_po(supplier=supplier, approved_at=NOW - (100 - i) * DAY, lead_time_days=4)
        with CaptureQueriesContext(connection) as queries:
            refresh_supplier_performance(supplier_id=supplier.supplier_id, now=NOW)
        statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_refresh_unknown_supplier_is_not_found():
    with pytest.raises(NotFound):
        refresh_supplier_performance(supplier_id=uuid.uuid4(), now=NOW)


def test_update_supplier_performance_rounds_and_checks_the_supplier():
    supplier = SupplierFactory()
    update_supplier_performance(
        supplier_id=supplier.supplier_id,
        expected_lead_time_days=4.12345,
        lead_time_stddev_days=0.5,
        on_time_rate=2 / 3,
        receipts_count=7,
    )
    supplier.refresh_from_db()
    assert _figures(supplier) == (Decimal("4.123"), Decimal("0.500"), 7)
    assert supplier.on_time_rate == Decimal("0.6667")
    with pytest.raises(NotFound):
        update_supplier_performance(
            supplier_id=uuid.uuid4(),
            expected_lead_time_days=1,
            lead_time_stddev_days=0,
            on_time_rate=None,
            receipts_count=0,
        )


@pytest.mark.parametrize(
    ("receipts_count", "expected"),
    [(0, 7.0), (2, 7.0), (3, 4.5), (10, 4.5)],
)
def test_expected_lead_time_is_declared_until_three_receipts(receipts_count, expected):
    supplier = SupplierFactory(
        lead_time_days=7, expected_lead_time_days=Decimal("4.500"), receipts_count=receipts_count
    )
    assert expected_lead_time_days(supplier) == expected


@pytest.mark.parametrize(
    ("at", "learned", "receipts", "due"),
    [
        # declared 7: Mar 1 + 7 days, whatever the hour
        (datetime(2025, 3, 1, 9, 0, tzinfo=UTC), None, 0, date(2025, 3, 8)),
        (datetime(2025, 3, 1, 0, 0, tzinfo=UTC), None, 0, date(2025, 3, 8)),
        (datetime(2025, 3, 1, 23, 59, tzinfo=UTC), None, 0, date(2025, 3, 8)),
        # learned 6.5 -> 7 days
        (datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "6.500", 3, date(2025, 3, 8)),
        # learned 7.2 -> 8 days
        (datetime(2025, 3, 1, 9, 0, tzinfo=UTC), "7.200", 3, date(2025, 3, 9)),
        # learned but only 2 receipts: declared 7
        (datetime(2025, 3, 1, 12, 0, tzinfo=UTC), "6.500", 2, date(2025, 3, 8)),
    ],
)
def test_expected_delivery_date_rounds_up_to_whole_days(at, learned, receipts, due):
    supplier = SupplierFactory(
        lead_time_days=7,
        expected_lead_time_days=Decimal(learned) if learned else None,
        receipts_count=receipts,
    )
    assert expected_delivery_date(supplier=supplier, at=at) == due


def test_refresh_then_delivery_estimate_uses_learned_lead_time():
    supplier = SupplierFactory(lead_time_days=10)
    for i in range(3):
        received_po(supplier=supplier, approved_at=NOW - (60 - 10 * i) * DAY, lead_time_days=4)
    _refresh(supplier)
    # 10 -> 0.3*4 + 0.7*10 = 8.2 -> 0.3*4 + 0.7*8.2 = 6.94 -> 0.3*4 + 0.7*6.94 = 6.058
    assert Supplier.objects.get(pk=supplier.pk).expected_lead_time_days == Decimal("6.058")
    # Jun 1 + 6.058 days rounded up to 7 -> Jun 8
    assert expected_delivery_date(supplier=supplier, at=NOW) == date(2025, 6, 8)
