"""``procurement.queries`` names the PO table's columns in the model's order: the API's detail
builds the PO from its row (``Model.from_db``)."""

import pytest

from procurement import queries
from procurement.models import PurchaseOrder

pytestmark = pytest.mark.sqlite


def test_the_written_out_columns_are_the_models():
    columns = tuple(field.column for field in PurchaseOrder._meta.concrete_fields)
    assert columns == queries.PO_COLUMNS
