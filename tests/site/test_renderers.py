"""The orjson renderer writes the bytes DRF's JSONRenderer writes (floats with an exponent: the
same numbers)."""

import datetime
import decimal
import json
import uuid
import zoneinfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from procurement_site.api.renderers import JSONRenderer
from tests.factories import StockLevelFactory

UTC = datetime.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

SAMPLES = [
    None,
    {},
    [],
    {"a": 1, "b": [True, False, None], "c": {"d": "e"}},
    {"text": 'Zürich — 東京 \u2028 line \u2029 para " \\ \n \t \x01'},
    {"big": 2**63 - 1, "bigger": 2**70, "negative": -(2**63)},
    {"float": 0.1, "whole": 2.0, "third": 1 / 3, "small": 0.0001, "large": 1e15, "zero": 0.0},
    {"decimal": decimal.Decimal("12.50"), "as_string": "12.50"},
    {"id": uuid.UUID("6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10")},
    {
        "utc": datetime.datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
        "micro": datetime.datetime(2026, 5, 4, 9, 30, 0, 123456, tzinfo=UTC),
        "paris": datetime.datetime(2026, 5, 4, 9, 30, tzinfo=PARIS),
        "naive": datetime.datetime(2026, 5, 4, 9, 30),
        "date": datetime.date(2026, 5, 4),
        "time": datetime.time(9, 30, 15),
        "duration": datetime.timedelta(hours=1, seconds=1),
    },
    {"lazy": gettext_lazy("This field is required.")},
    {"fields": {"name": [ErrorDetail("Required.", code="required")]}},
    ReturnDict({"x": ReturnList([1, 2], serializer=None)}, serializer=None),
    {1: "int key", None: "none key"},
    ("a", "tuple"),
]


@pytest.mark.parametrize("data", SAMPLES)
def test_bytes_are_drfs(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_floats_with_an_exponent_are_the_same_numbers():
    """Only the exponent's spelling differs (``1e-7`` for DRF's ``1e-07``): no figure of the API
    comes near (demand per day over 90 days is 0 or at least 1/90)."""
    data = {"tiny": 1e-7, "huge": 1e16, "both": [-2.5e-05, 3.1e20]}
    ours, drfs = JSONRenderer().render(data), renderers.JSONRenderer().render(data)
    assert json.loads(ours) == json.loads(drfs) == data


def test_indent_is_drfs():
    data = {"a": [1, {"b": "c"}]}
    for media_type in ("application/json; indent=4", "application/json; indent=0"):
        assert JSONRenderer().render(data, media_type) == renderers.JSONRenderer().render(
            data, media_type
        )


def test_what_neither_encodes_fails_as_in_drf():
    with pytest.raises(TypeError):
        renderers.JSONRenderer().render({"x": object()})
    with pytest.raises(TypeError):
        JSONRenderer().render({"x": object()})


def test_the_api_renders_with_it(reader_client):
    StockLevelFactory(item_type="tente-été")
    response = reader_client.get("/stock-levels")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert isinstance(response.accepted_renderer, JSONRenderer)
    assert response.content == renderers.JSONRenderer().render(response.data)
    assert "tente-été".encode() in response.content
