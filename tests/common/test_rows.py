"""``common.rows.PageRows``: a page read with hand-written SQL holds what its presenters write,
the same values as the ORM reads (ids as their text on PostgreSQL, which is all the body and
the ETag make of them)."""

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from stock.selectors import LEVEL_ROW_COLUMNS, StockLevelRows, list_stock_levels, stock_level_rows
from tests.stock.factories import stocked_level

pytestmark = pytest.mark.sqlite


def _as_text(value):
    return str(value) if isinstance(value, uuid.UUID) else value


@pytest.mark.django_db
def test_a_page_holds_the_values_the_orm_reads():
    counted = timezone.now()
    levels = [stocked_level(quantity, last_counted_at=counted) for quantity in (3, 0, 7)]

    page = StockLevelRows()[0:10]
    expected = list(stock_level_rows(list_stock_levels().order_by("item_type", "location_id")))

    assert len(page) == len(levels) == len(expected)
    assert [tuple(map(_as_text, row)) for row in page] == [
        tuple(map(_as_text, row)) for row in expected
    ]
    counted_at = LEVEL_ROW_COLUMNS.index("last_counted_at")
    assert all(
        row[counted_at] == counted and row[counted_at].utcoffset() is not None for row in page
    )
    if connection.vendor == "postgresql":
        assert all(isinstance(row[0], str) for row in page)
