"""The bodies the database builds (``stock.presenters.stock_level_sql`` and the values of
``common.presenting``'s ``*_sql``) are the JSON of the Python ones as ``integrations.events``
stores it: compared as ``jsonb`` text, which keeps each number's scale (``2.0`` is not ``2``),
so an event written either way reads back the same, byte for byte."""

import json
from datetime import UTC, datetime

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from common.presenting import datetime_text, datetime_text_sql, float_sql
from stock.models import ReorderPointCalculation, StockLevel
from stock.presenters import stock_level_sql
from stock.serializers import render_stock_levels
from tests.stock.factories import stocked_level

pytestmark = pytest.mark.postgresql


def _stored(value):
    """``value`` as an event's ``data`` stores it (``json.dumps``, then ``jsonb``), as text."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb::text", [json.dumps(value, cls=DjangoJSONEncoder)])
        return cursor.fetchone()[0]


def _built(value_sql, value, cast):
    """``{"v": value}`` built by the database, ``value_sql`` an expression of ``given.value``."""
    sql, params = value_sql("given.value")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT jsonb_build_object('v', {sql})::text FROM (SELECT %s::{cast} AS value) given",
            [*params, value],
        )
        return cursor.fetchone()[0]


FLOATS = [
    0.0,
    -0.0,
    1.0,
    2.5,
    0.1,
    1 / 3,
    1.6448536269514722,
    1e-05,
    0.0001,
    1.5e-07,
    123456789.0,
    1e15,
    1234567890123456.0,
    9007199254740993.0,
    1e16,
    1.5e16,
    1e22,
    1e300,
    5e-324,
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -3.0,
    -2.5e-06,
]


@pytest.mark.parametrize("value", [*FLOATS, None])
def test_a_float_is_the_number_json_dumps_writes(db, value):
    assert _built(float_sql, value, "float8") == _stored({"v": value})


MOMENTS = [
    datetime(2026, 12, 2, 4, 46, 26, tzinfo=UTC),
    datetime(2026, 12, 2, 4, 46, 26, 120000, tzinfo=UTC),
    datetime(2026, 6, 30, 23, 59, 59, 1, tzinfo=UTC),
    datetime(1960, 1, 1, 12, 0, tzinfo=UTC),
    None,
]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/St_Johns", "Africa/Monrovia"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_datetime_is_the_text_datetime_text_writes(db, zone, moment):
    with timezone.override(zone):
        built = _built(datetime_text_sql, moment, "timestamptz")
        assert built == _stored({"v": datetime_text(moment)})


def _body_sql(level):
    sql, params = stock_level_sql("s", "c")
    return (
        f"SELECT ({sql})::text FROM stock_levels s LEFT JOIN reorder_point_calculations c "
        "ON c.calculation_id = s.reorder_calculation_id WHERE s.stock_id = %s",
        [*params, level.stock_id],
    )


def _level_body(level):
    sql, params = _body_sql(level)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_a_level_without_a_calculation(db):
    level = stocked_level(7, reorder_point=3, item_type='rope "50 m" \\ ø')

    assert _level_body(level) == _stored(render_stock_levels([level])[0])


@pytest.mark.parametrize("zone", ["UTC", "America/St_Johns"])
@pytest.mark.parametrize(
    "figures",
    [
        {"mean_daily_demand": 3.0, "demand_stddev": 0.0, "lead_time_days": 7.0},
        {"mean_daily_demand": 0.1, "demand_stddev": 1 / 3, "lead_time_days": 2.5},
        {"mean_daily_demand": 1e-05, "demand_stddev": 1e16, "lead_time_days": 1234567890123456.0},
    ],
)
def test_a_level_with_its_calculation(db, zone, figures):
    level = stocked_level(2, reorder_point=24)
    StockLevel.objects.filter(pk=level.pk).update(
        last_counted_at=datetime(2026, 11, 30, 8, 15, 0, 250, tzinfo=UTC)
    )
    calculation = ReorderPointCalculation.objects.create(
        stock_id=level.stock_id,
        computed_at=datetime(2026, 12, 2, 4, 0, tzinfo=UTC),
        window_days=90,
        history_days=60,
        lead_time_stddev_days=0.5,
        lead_time_source="location",
        supplier_id=None,
        review_days=1,
        service_level=0.95,
        z=1.6448536269514722,
        previous_reorder_point=5,
        reorder_point=24,
        method="seasonal",
        seasonal_sample_days=98,
        seasonal_base_demand=2.0,
        seasonal_base_stddev=0.75,
        seasonal_window_total=180,
        seasonal_window_total_last_year=170,
        seasonal_trend=180 / 170,
        **figures,
    )
    StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)
    level.refresh_from_db()

    with timezone.override(zone):
        assert _level_body(level) == _stored(render_stock_levels([level])[0])
