"""The statements ``stock.queries`` writes out name the levels' columns in the model's order:
the services build instances from their rows (``Model.from_db``), so a column added to the model
and not here would be missing from them."""

import pytest

from integrations.models import Event
from integrations.queries import EVENT_INSERT_COLUMNS
from stock import queries
from stock.models import StockAdjustment, StockLevel

pytestmark = pytest.mark.sqlite


def test_the_written_out_columns_are_the_models():
    columns = tuple(field.column for field in StockLevel._meta.concrete_fields)
    assert columns == queries.LEVEL_TABLE_COLUMNS


def test_the_written_out_inserts_name_every_column_but_those_the_database_sets():
    """A column added to the ledger or the events and not to their ``INSERT`` would be left to
    its default: these fail first."""
    ledger = tuple(field.column for field in StockAdjustment._meta.concrete_fields)
    assert ledger == (*queries.ADJUSTMENT_INSERT_COLUMNS, "created_at")
    events = tuple(field.column for field in Event._meta.concrete_fields)
    assert events == ("id", EVENT_INSERT_COLUMNS[0], "sequence", *EVENT_INSERT_COLUMNS[1:])


def test_an_ordering_outside_the_list_is_refused():
    with pytest.raises(ValueError, match="quantity_at_open"):
        queries.alert_page_sql("", ["quantity_at_open"])
