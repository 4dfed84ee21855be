"""The statements ``stock.queries`` writes out name the levels' columns in the model's order:
the services build instances from their rows (``Model.from_db``), so a column added to the model
and not here would be missing from them."""

import pytest

from stock import queries
from stock.models import StockLevel

pytestmark = pytest.mark.sqlite


def test_the_written_out_columns_are_the_models():
    columns = tuple(field.column for field in StockLevel._meta.concrete_fields)
    assert columns == queries.LEVEL_TABLE_COLUMNS


def test_an_ordering_outside_the_list_is_refused():
    with pytest.raises(ValueError, match="quantity_at_open"):
        queries.alert_page_sql("", ["quantity_at_open"])
