"""Reorder-point lead times: the preferred catalog supplier of the item first (its entry's
``lead_time_days``, else that supplier's learned lead time), then the fallbacks."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from procurement.replenishment import recalculate_reorder_points
from suppliers.models import SupplierItem
from tests.factories import StockLevelFactory, SupplierFactory
from tests.replenishment.factories import committed_po, consume

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
STEADY = {days_ago: 3 for days_ago in range(1, 31)}  # 3 a day, no spread: point = 3 * (L + 1)


def steady_level(item_type="tent"):
    level = StockLevelFactory(item_type=item_type, location_id=uuid.uuid4(), quantity_on_hand=99)
    consume(level, STEADY, now=NOW)
    # The last supplier of the item at this location: 7 days, the fallback.
    committed_po(
        supplier=SupplierFactory(lead_time_days=7),
        item_type=item_type,
        location_id=level.location_id,
        approved_at=NOW - timedelta(days=40),
    )
    return level


def calculation(level):
    level.refresh_from_db()
    return level.reorder_calculation


def catalog(supplier, item_type="tent", **values):
    return SupplierItem.objects.create(
        supplier=supplier, item_type=item_type, unit_price=Decimal("1.00"), **values
    )


def test_the_preferred_entrys_own_lead_time_comes_first():
    level = steady_level()
    preferred = SupplierFactory(lead_time_days=20)
    catalog(preferred, lead_time_days=4, preferred=True)
    catalog(SupplierFactory(lead_time_days=1), lead_time_days=1)  # not preferred: ignored

    recalculate_reorder_points(now=NOW)

    calc = calculation(level)
    assert (calc.lead_time_source, calc.supplier_id, calc.lead_time_days) == (
        "catalog",
        preferred.supplier_id,
        4.0,
    )
    assert level.reorder_point == 15  # 3 * (4 + 1)


def test_without_its_own_lead_time_the_suppliers_is_used():
    level = steady_level()
    declared = SupplierFactory(lead_time_days=10)
    catalog(declared, preferred=True)

    recalculate_reorder_points(now=NOW)

    calc = calculation(level)
    assert (calc.lead_time_source, calc.lead_time_days) == ("catalog", 10.0)
    assert level.reorder_point == 33


def test_the_suppliers_learned_lead_time_once_it_has_three_receipts():
    level = steady_level()
    learned = SupplierFactory(
        lead_time_days=10,
        expected_lead_time_days=Decimal("5.000"),
        lead_time_stddev_days=Decimal("0.000"),
        receipts_count=3,
    )
    catalog(learned, preferred=True)

    recalculate_reorder_points(now=NOW)

    calc = calculation(level)
    assert (calc.lead_time_source, calc.lead_time_days) == ("catalog", 5.0)
    assert level.reorder_point == 18


def test_an_inactive_preferred_supplier_falls_back_to_the_last_purchase():
    level = steady_level()
    catalog(SupplierFactory(lead_time_days=2, active=False), lead_time_days=2, preferred=True)

    recalculate_reorder_points(now=NOW)

    calc = calculation(level)
    assert (calc.lead_time_source, calc.lead_time_days) == ("location", 7.0)
    assert level.reorder_point == 24


def test_one_item_types_entry_leaves_the_others():
    tent, stove = steady_level("tent"), steady_level("stove")
    catalog(SupplierFactory(), item_type="tent", lead_time_days=4, preferred=True)

    recalculate_reorder_points(now=NOW, item_type="stove")
    recalculate_reorder_points(now=NOW, item_type="tent")

    assert calculation(stove).lead_time_source == "location"
    assert calculation(tent).lead_time_source == "catalog"
