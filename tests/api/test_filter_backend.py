"""``procurement_site.api.filters.FilterBackend`` (the default): a list whose selector writes its
own SQL (``common.rows.PageRows``) gets its filterset's cleaned values, the empty ones left out,
and a 400 naming a bad parameter; without a filterset, its rows as they are."""

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from procurement_site.api.filters import FilterBackend
from stock.filters import StockLevelFilter
from stock.models import StockLevel

pytestmark = pytest.mark.sqlite


class Rows:
    """A stand-in selector: records what it was filtered with."""

    model = StockLevel

    def __init__(self, **values):
        self.values = values

    def filter(self, **values):
        return Rows(**values)


class View:
    filterset_class = StockLevelFilter


def _request(query):
    return Request(APIRequestFactory().get(f"/stock-levels{query}"))


def test_the_rows_get_the_cleaned_values_that_filter():
    location = "0b6e2f4a-91c3-4d8e-a7f0-5c2b9e1d3a64"
    rows = FilterBackend().filter_queryset(
        _request(f"?location_id={location.upper()}&item_type=&ordering=-quantity_on_hand"),
        Rows(),
        View(),
    )
    assert {name: str(value) for name, value in rows.values.items()} == {
        "location_id": location,
        "ordering": "['-quantity_on_hand']",
    }


def test_a_bad_parameter_is_a_400_naming_it():
    with pytest.raises(ValidationError) as raised:
        FilterBackend().filter_queryset(_request("?below_reorder_point=maybe"), Rows(), View())
    assert "below_reorder_point" in raised.value.detail


def test_without_a_filterset_the_rows_are_as_they_are():
    rows = Rows()
    assert FilterBackend().filter_queryset(_request("?item_type=tent"), rows, object()) is rows


def test_an_empty_value_is_a_400_unless_the_filter_takes_free_text():
    with pytest.raises(ValidationError) as raised:
        FilterBackend().filter_queryset(_request("?location_id=&item_type="), Rows(), View())
    assert raised.value.detail == {"location_id": ["Give a value, or leave the parameter out."]}
