"""The statements ``stock.queries`` writes out name the tables' columns in the models' order:
the services build instances from their rows (``Model.from_db``), so a column added to a model
and not here would be missing from them."""

import pytest

from stock import queries
from stock.models import ReorderAlert, StockLevel

pytestmark = pytest.mark.sqlite


@pytest.mark.parametrize(
    ("model", "columns"),
    [(StockLevel, queries.LEVEL_TABLE_COLUMNS), (ReorderAlert, queries.ALERT_TABLE_COLUMNS)],
)
def test_the_written_out_columns_are_the_models(model, columns):
    assert columns == tuple(field.column for field in model._meta.concrete_fields)


def test_an_ordering_outside_the_list_is_refused():
    with pytest.raises(ValueError, match="quantity_at_open"):
        queries.alert_page_sql("", ["quantity_at_open"])
