"""The stock endpoints: /stock-levels, /stock-adjustments and /reorder-alerts."""

import uuid

import pytest
from django.db import connection
from django.db.models import IntegerField, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stock import queries, selectors
from stock.models import (
    AdjustmentReason,
    ReorderAlert,
    ReorderPointCalculation,
    StockAdjustment,
    StockLevel,
)
from stock.services import NOTE_MAX_LENGTH, record_adjustment
from tests.api.test_schema import OPERATIONS
from tests.conftest import statements_touching
from tests.factories import StockLevelFactory
from tests.stock.factories import stocked_level

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

ADJUSTMENT_FIELDS = {
    "adjustment_id",
    "stock_id",
    "item_type",
    "location_id",
    "reason",
    "quantity_delta",
    "quantity_after",
    "counted_quantity",
    "note",
    "adjusted_by",
    "created_at",
    "quantity_on_hand",
}
LEVEL_FIELDS = {
    "stock_id",
    "item_type",
    "location_id",
    "quantity_on_hand",
    "reorder_point",
    "reorder_quantity",
    "last_counted_at",
    "below_reorder_point",
    "reorder_calculation",
}
ALERT_FIELDS = {
    "alert_id",
    "stock_id",
    "item_type",
    "location_id",
    "quantity_on_hand",
    "reorder_point",
    "reorder_quantity",
    "suggested_quantity",
    "quantity_on_order",
    "created_at",
}


@pytest.fixture
def clerk(make_client):
    return make_client("warehouse.clerk", perms=["stock.add_stockadjustment"])


def post(client, body):
    return client.post("/stock-adjustments", body, format="json")


def assert_nothing_written(level, quantity, rows):
    level.refresh_from_db()
    assert level.quantity_on_hand == quantity
    assert StockAdjustment.objects.filter(stock=level).count() == rows


# --- POST /stock-adjustments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "delta", "after"),
    [
        ("correction", 2, 12),
        ("correction", -3, 7),
        ("damage", -1, 9),
        ("consumption", -4, 6),
        ("receipt", 5, 15),
    ],
)
def test_adjustment_by_stock_id_returns_201_with_the_adjustment(clerk, reason, delta, after):
    level = stocked_level(10)

    response = post(
        clerk,
        {
            "stock_id": str(level.stock_id),
            "reason": reason,
            "quantity_delta": delta,
            "note": "  shelf B  ",
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == ADJUSTMENT_FIELDS
    stored = StockAdjustment.objects.get(pk=body["adjustment_id"])
    assert body == {
        "adjustment_id": str(stored.pk),
        "stock_id": str(level.stock_id),
        "item_type": level.item_type,
        "location_id": str(level.location_id),
        "reason": reason,
        "quantity_delta": delta,
        "quantity_after": after,
        "counted_quantity": None,
        "note": "shelf B",
        "adjusted_by": "warehouse.clerk",
        "created_at": body["created_at"],
        "quantity_on_hand": after,
    }
    assert body["created_at"].endswith("Z") or "+00:00" in body["created_at"]
    assert stored.adjusted_by == "warehouse.clerk"
    assert stored.note == "shelf B"
    assert_nothing_written(level, after, 2)


def test_adjustment_by_pair_finds_the_level(clerk):
    level = stocked_level(10)
    response = post(
        clerk,
        {
            "item_type": level.item_type,
            "location_id": str(level.location_id),
            "reason": "consumption",
            "quantity_delta": -10,
            "stock_id": None,
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["stock_id"] == str(level.stock_id)
    assert response.json()["quantity_on_hand"] == 0
    assert_nothing_written(level, 0, 2)


def test_receipt_for_a_missing_pair_creates_the_level(clerk):
    location = uuid.uuid4()

    response = post(
        clerk,
        {
            "item_type": "tent-4p",
            "location_id": str(location),
            "reason": "receipt",
            "quantity_delta": 12,
        },
    )

    assert response.status_code == 201, response.json()
    level = StockLevel.objects.get(item_type="tent-4p", location_id=location)
    assert response.json()["stock_id"] == str(level.stock_id)
    assert response.json()["quantity_on_hand"] == 12
    assert (level.quantity_on_hand, level.reorder_point, level.reorder_quantity) == (12, 0, 0)


def test_count_sets_quantity_last_counted_at_and_records_the_difference(clerk):
    level = stocked_level(10)

    response = post(
        clerk, {"stock_id": str(level.stock_id), "reason": "count", "counted_quantity": 4}
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quantity_delta"], body["quantity_after"], body["counted_quantity"]) == (-6, 4, 4)
    assert body["quantity_on_hand"] == 4
    level.refresh_from_db()
    assert level.quantity_on_hand == 4
    assert level.last_counted_at is not None


def test_below_zero_is_409_and_nothing_is_written(clerk):
    level = stocked_level(3, reorder_point=1)

    response = post(
        clerk, {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": -4}
    )

    assert response.status_code == 409
    body = response.json()
    assert body["status"] == 409
    assert body["code"] == "insufficient_stock"
    assert "below zero" in body["message"]
    assert body["quantity_on_hand"] == 3
    assert_nothing_written(level, 3, 1)
    assert not ReorderAlert.objects.filter(stock=level).exists()


def test_unknown_stock_id_is_404(clerk):
    response = post(
        clerk, {"stock_id": str(uuid.uuid4()), "reason": "consumption", "quantity_delta": -1}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "stock_id" in response.json()["fields"]
    assert StockAdjustment.objects.count() == 0


def test_unknown_pair_is_404_unless_receipt(clerk):
    response = post(
        clerk,
        {
            "item_type": "tent",
            "location_id": str(uuid.uuid4()),
            "reason": "damage",
            "quantity_delta": -1,
        },
    )
    assert response.status_code == 404
    assert StockLevel.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "po_receipt", "quantity_delta": 1}, "reason"),
        ({"reason": "RECEIPT", "quantity_delta": 1}, "reason"),
        ({"reason": None, "quantity_delta": 1}, "reason"),
        ({"quantity_delta": 1}, "reason"),
        ({"reason": "correction", "quantity_delta": 0}, "quantity_delta"),
        ({"reason": "correction"}, "quantity_delta"),
        ({"reason": "correction", "quantity_delta": "two"}, "quantity_delta"),
        ({"reason": "correction", "quantity_delta": 1.5}, "quantity_delta"),
        ({"reason": "correction", "quantity_delta": 2**31}, "quantity_delta"),
        ({"reason": "correction", "quantity_delta": 1, "counted_quantity": 1}, "counted_quantity"),
        ({"reason": "damage", "quantity_delta": 1}, "quantity_delta"),
        ({"reason": "damage", "quantity_delta": 0}, "quantity_delta"),
        ({"reason": "consumption", "quantity_delta": 1}, "quantity_delta"),
        ({"reason": "consumption", "quantity_delta": 0}, "quantity_delta"),
        ({"reason": "receipt", "quantity_delta": -1}, "quantity_delta"),
        ({"reason": "receipt", "quantity_delta": 0}, "quantity_delta"),
        ({"reason": "receipt"}, "quantity_delta"),
        ({"reason": "count"}, "counted_quantity"),
        ({"reason": "count", "counted_quantity": -1}, "counted_quantity"),
        ({"reason": "count", "counted_quantity": "x"}, "counted_quantity"),
        ({"reason": "count", "counted_quantity": 2, "quantity_delta": 1}, "quantity_delta"),
        ({"reason": "damage", "quantity_delta": -1, "note": "n" * (NOTE_MAX_LENGTH + 1)}, "note"),
        ({"reason": "damage", "quantity_delta": -1, "note": None}, "note"),
    ],
)
def test_invalid_adjustment_is_400_naming_the_field_and_writes_nothing(clerk, body, field):
    level = stocked_level(10)

    response = post(clerk, {"stock_id": str(level.stock_id), **body})

    assert response.status_code == 400, response.json()
    error = response.json()
    assert error["status"] == 400
    assert error["code"] == "invalid"
    assert field in error["fields"], error
    assert_nothing_written(level, 10, 1)


@pytest.mark.parametrize(
    ("naming", "field"),
    [
        ({"stock_id": "not-a-uuid"}, "stock_id"),
        ({"stock_id": 42}, "stock_id"),
        ({}, "item_type"),
        ({"item_type": "tent"}, "location_id"),
        ({"location_id": "LOCATION"}, "location_id"),
        ({"item_type": "tent", "location_id": "nope"}, "location_id"),
        ({"item_type": "", "location_id": str(uuid.uuid4())}, "item_type"),
        ({"item_type": "t" * 51, "location_id": str(uuid.uuid4())}, "item_type"),
        ({"location_id": str(uuid.uuid4())}, "item_type"),
    ],
)
def test_the_level_must_be_named_by_id_or_by_pair(clerk, naming, field):
    response = post(clerk, {"reason": "receipt", "quantity_delta": 1, **naming})
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert StockLevel.objects.count() == 0


def test_stock_id_and_pair_together_are_400(clerk):
    level = stocked_level(10)
    response = post(
        clerk,
        {
            "stock_id": str(level.stock_id),
            "item_type": level.item_type,
            "location_id": str(level.location_id),
            "reason": "receipt",
            "quantity_delta": 1,
        },
    )
    assert response.status_code == 400
    assert "stock_id" in response.json()["fields"]
    assert_nothing_written(level, 10, 1)


def test_malformed_json_is_400(clerk):
    response = clerk.post("/stock-adjustments", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_adjustment_without_credentials_is_401(anon_client):
    level = stocked_level(10)
    response = post(
        anon_client, {"stock_id": str(level.stock_id), "reason": "damage", "quantity_delta": -1}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert_nothing_written(level, 10, 1)


def test_adjustment_without_permission_is_403(reader_client, make_client):
    level = stocked_level(10)
    body = {"stock_id": str(level.stock_id), "reason": "damage", "quantity_delta": -1}
    # Other stock permissions do not stand in for stock.add_stockadjustment.
    other = make_client("level.editor", perms=["stock.change_stocklevel"])

    for client in (reader_client, other):
        response = post(client, body)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert_nothing_written(level, 10, 1)


def test_get_on_adjustments_is_405(clerk):
    response = clerk.get("/stock-adjustments")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_an_adjustment_request_runs_a_constant_number_of_statements(clerk):
    level = stocked_level(10)
    body = {"stock_id": str(level.stock_id), "reason": "consumption", "quantity_delta": -1}

    with CaptureQueriesContext(connection) as first:
        assert post(clerk, body).status_code == 201
    with CaptureQueriesContext(connection) as second:
        assert post(clerk, body).status_code == 201

    # Token, permissions (one query), the write count (API_WRITE_RATE, one upsert); then
    # SAVEPOINT, lock, update, ledger row, its event, alert sync (a read of the open alerts),
    # RELEASE (the savepoint stands in for the request's transaction).
    assert len(first) == len(second) == 10


# --- GET /stock-levels -----------------------------------------------------------------------


def levels_of(response):
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_stock_levels_list_fields(reader_client):
    level = stocked_level(3, reorder_point=5, reorder_quantity=7)
    record_adjustment(
        reason=AdjustmentReason.COUNT, adjusted_by="x", stock_id=level.stock_id, counted_quantity=4
    )
    level.refresh_from_db()

    [row] = levels_of(reader_client.get("/stock-levels"))

    assert set(row) == LEVEL_FIELDS
    assert row["stock_id"] == str(level.stock_id)
    assert row["location_id"] == str(level.location_id)
    assert (row["quantity_on_hand"], row["reorder_point"], row["reorder_quantity"]) == (4, 5, 7)
    assert row["below_reorder_point"] is True
    assert row["last_counted_at"] is not None
    assert row["reorder_calculation"] is None


def test_stock_levels_show_the_reorder_point_working(reader_client):
    level = stocked_level(30, reorder_point=5)
    calculation = ReorderPointCalculation.objects.create(
        stock=level,
        computed_at=timezone.now(),
        window_days=90,
        history_days=60,
        mean_daily_demand=3.0,
        demand_stddev=1.5,
        lead_time_days=7.0,
        lead_time_stddev_days=0.5,
        lead_time_source="location",
        review_days=1,
        service_level=0.95,
        z=1.6449,
        previous_reorder_point=5,
        reorder_point=32,
    )
    StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)

    [row] = levels_of(reader_client.get("/stock-levels"))

    working = row["reorder_calculation"]
    assert working["calculation_id"] == str(calculation.calculation_id)
    assert (working["mean_daily_demand"], working["demand_stddev"]) == (3.0, 1.5)
    assert (working["lead_time_days"], working["lead_time_stddev_days"]) == (7.0, 0.5)
    assert (working["z"], working["window_days"], working["review_days"]) == (1.6449, 90, 1)
    assert (working["previous_reorder_point"], working["reorder_point"]) == (5, 32)
    assert working["skipped_reason"] in ("", None)


def test_stock_levels_filter_by_location_and_item_type(reader_client):
    here, there = uuid.uuid4(), uuid.uuid4()
    tent_here = StockLevelFactory(item_type="tent", location_id=here)
    stove_here = StockLevelFactory(item_type="stove", location_id=here)
    tent_there = StockLevelFactory(item_type="tent", location_id=there)

    def ids(params):
        return {row["stock_id"] for row in levels_of(reader_client.get("/stock-levels", params))}

    assert ids({"location_id": str(here)}) == {str(tent_here.pk), str(stove_here.pk)}
    assert ids({"item_type": "tent"}) == {str(tent_here.pk), str(tent_there.pk)}
    assert ids({"item_type": "tent", "location_id": str(there)}) == {str(tent_there.pk)}
    assert ids({"item_type": "kayak"}) == set()


def test_stock_levels_filter_below_reorder_point(reader_client):
    below = StockLevelFactory(quantity_on_hand=2, reorder_point=5)
    at = StockLevelFactory(quantity_on_hand=5, reorder_point=5)
    above = StockLevelFactory(quantity_on_hand=6, reorder_point=5)

    def ids(value):
        rows = levels_of(reader_client.get("/stock-levels", {"below_reorder_point": value}))
        assert all(row["below_reorder_point"] is (value == "true") for row in rows)
        return {row["stock_id"] for row in rows}

    assert ids("true") == {str(below.pk), str(at.pk)}
    assert ids("false") == {str(above.pk)}


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("location_id", "not-a-uuid"),
        ("below_reorder_point", "yes"),
        ("below_reorder_point", "1"),
        ("ordering", "stock_id"),
        ("ordering", "item_type,nope"),
        ("page_size", "x"),
    ],
)
def test_stock_levels_bad_parameter_is_400_naming_it(reader_client, param, value):
    StockLevelFactory()
    response = reader_client.get("/stock-levels", {param: value})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert param in response.json()["fields"]


@pytest.mark.postgresql
def test_below_reorder_point_filter_can_use_the_partial_index(reader_client):
    """The filter's predicate is the partial indexes': with sequential scans priced out,
    PostgreSQL answers the filter from one of them, unordered (the count) and ordered (the
    page: idx_stock_below_reorder holds the default order)."""
    StockLevelFactory.create_batch(3, quantity_on_hand=1, reorder_point=5)
    StockLevelFactory.create_batch(3, quantity_on_hand=9, reorder_point=5)
    where, params = queries.level_conditions(below_reorder_point=True)
    statements = [
        (queries.level_count_sql(where), params),
        (queries.level_page_sql(where), [*params, 50, 0]),
    ]
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        try:
            for sql, values in statements:
                cursor.execute(f"EXPLAIN {sql}", values)
                plans.append("\n".join(line for [line] in cursor.fetchall()))
        finally:
            cursor.execute("SET LOCAL enable_seqscan = on")
    for plan in plans:
        assert "idx_stock_reorder" in plan or "idx_stock_below_reorder" in plan, plan
    assert len(levels_of(reader_client.get("/stock-levels?below_reorder_point=true"))) == 3


def test_stock_levels_default_order_and_each_ordering(reader_client):
    loc_a, loc_b = sorted([uuid.uuid4(), uuid.uuid4()], key=str)
    StockLevelFactory(item_type="b", location_id=loc_a, quantity_on_hand=3, reorder_point=9)
    StockLevelFactory(item_type="a", location_id=loc_b, quantity_on_hand=1, reorder_point=7)
    StockLevelFactory(item_type="a", location_id=loc_a, quantity_on_hand=2, reorder_point=8)

    def order(ordering=None, key="item_type"):
        params = {"ordering": ordering} if ordering else {}
        rows = levels_of(reader_client.get("/stock-levels", params))
        return [(row["item_type"], row["location_id"], row[key]) for row in rows]

    default = order()
    assert [(i, loc) for i, loc, _ in default] == [
        ("a", str(loc_a)),
        ("a", str(loc_b)),
        ("b", str(loc_a)),
    ]
    assert [q for *_, q in order("quantity_on_hand", "quantity_on_hand")] == [1, 2, 3]
    assert [q for *_, q in order("-quantity_on_hand", "quantity_on_hand")] == [3, 2, 1]
    assert [r for *_, r in order("reorder_point", "reorder_point")] == [7, 8, 9]
    assert [r for *_, r in order("-reorder_point", "reorder_point")] == [9, 8, 7]
    assert [loc for _, loc, _ in order("location_id,-item_type")] == [
        str(loc_a),
        str(loc_a),
        str(loc_b),
    ]
    assert order("-item_type")[0][0] == "b"


def test_stock_levels_pagination_is_stable_on_ties(reader_client):
    made = {str(StockLevelFactory(quantity_on_hand=4).pk) for _ in range(5)}
    seen = []
    for page in (1, 2, 3):
        response = reader_client.get(
            "/stock-levels", {"ordering": "quantity_on_hand", "page_size": 2, "page": page}
        )
        body = response.json()
        assert body["count"] == 5
        seen += [row["stock_id"] for row in body["results"]]
    assert len(seen) == 5
    assert set(seen) == made
    assert body["next"] is None
    assert body["previous"] is not None


def test_stock_levels_out_of_range_page_is_404(reader_client):
    response = reader_client.get("/stock-levels", {"page": 2})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_stock_levels_queries_do_not_grow_with_the_page(reader_client):
    StockLevelFactory()
    with CaptureQueriesContext(connection) as one:
        assert len(levels_of(reader_client.get("/stock-levels"))) == 1
    StockLevelFactory.create_batch(60)
    with CaptureQueriesContext(connection) as full:
        assert len(levels_of(reader_client.get("/stock-levels"))) == 50
    assert len(one) == len(full) == 3  # token, count, page


def test_stock_levels_need_credentials(anon_client):
    response = anon_client.get("/stock-levels")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_stock_levels_are_read_only(make_client):
    client = make_client("level.adder", perms=["stock.add_stocklevel"])
    response = client.post("/stock-levels", {"item_type": "x"}, format="json")
    assert response.status_code == 405
    assert StockLevel.objects.count() == 0


# --- GET /reorder-alerts -----------------------------------------------------------------------


def alerts_of(response):
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def test_reorder_alerts_list_open_alerts_with_current_figures(reader_client):
    level = stocked_level(4, reorder_point=5, reorder_quantity=10)
    stocked_level(9, reorder_point=5)  # above its point: no alert
    resolved = stocked_level(1, reorder_point=2)
    record_adjustment(
        reason=AdjustmentReason.RECEIPT,
        adjusted_by="x",
        stock_id=resolved.stock_id,
        quantity_delta=5,
    )
    alert = ReorderAlert.objects.get(stock=level)
    # The quantity drops further after the alert opened: the list shows it as it is now.
    record_adjustment(
        reason=AdjustmentReason.CONSUMPTION,
        adjusted_by="x",
        stock_id=level.stock_id,
        quantity_delta=-3,
    )

    [row] = alerts_of(reader_client.get("/reorder-alerts"))

    assert set(row) == ALERT_FIELDS
    assert row["alert_id"] == str(alert.pk)
    assert row["stock_id"] == str(level.stock_id)
    assert row["item_type"] == level.item_type
    assert row["location_id"] == str(level.location_id)
    assert (row["quantity_on_hand"], row["reorder_point"], row["reorder_quantity"]) == (1, 5, 10)
    assert row["quantity_on_order"] == 0
    assert row["suggested_quantity"] == 5 + 10 - 1
    assert row["created_at"] is not None


@pytest.fixture
def on_order():
    """Registers a provider for quantity_on_order, as the procurement app does, and restores it."""
    previous = (selectors._on_order_provider, selectors._on_order_sql)

    def register(quantity):
        selectors.register_on_order_provider(
            lambda stock_ref: Value(quantity, output_field=IntegerField()),
            sql=lambda level: str(quantity),
        )

    yield register
    selectors.register_on_order_provider(previous[0], sql=previous[1])


def test_suggested_quantity_subtracts_what_is_on_order_and_is_never_negative(
    reader_client, on_order
):
    stocked_level(2, reorder_point=5, reorder_quantity=10)

    on_order(4)
    [row] = alerts_of(reader_client.get("/reorder-alerts"))
    assert (row["quantity_on_order"], row["suggested_quantity"]) == (4, 5 + 10 - 2 - 4)

    on_order(40)
    [row] = alerts_of(reader_client.get("/reorder-alerts"))
    assert (row["quantity_on_order"], row["suggested_quantity"]) == (40, 0)


@pytest.mark.postgresql
def test_suggested_quantity_is_computed_by_the_database():
    """Filtered on in SQL (events read alerts through ``list_open_alerts``' annotations), in
    ``bigint``: figures near 2^31 - 1 do not overflow."""
    stocked_level(2, reorder_point=5, reorder_quantity=10)
    stocked_level(0, reorder_point=2_147_483_647, reorder_quantity=2_147_483_647)
    queryset = selectors.list_open_alerts()
    assert queryset.filter(suggested_quantity=13).count() == 1
    assert queryset.filter(suggested_quantity=2 * 2_147_483_647).count() == 1


def test_reorder_alerts_list_figures_past_the_integer_range(reader_client):
    """The list's written-out SQL computes the suggested quantity in ``bigint`` too."""
    stocked_level(0, reorder_point=2_147_483_647, reorder_quantity=2_147_483_647)
    [row] = alerts_of(reader_client.get("/reorder-alerts", {"ordering": "-suggested_quantity"}))
    assert row["suggested_quantity"] == 2 * 2_147_483_647


def test_reorder_alerts_filter_by_location_and_item_type(reader_client):
    here, there = uuid.uuid4(), uuid.uuid4()
    tent_here = stocked_level(0, item_type="tent", location_id=here)
    stove_here = stocked_level(0, item_type="stove", location_id=here)
    tent_there = stocked_level(0, item_type="tent", location_id=there)

    def stock_ids(params):
        return {row["stock_id"] for row in alerts_of(reader_client.get("/reorder-alerts", params))}

    assert stock_ids({"location_id": str(here)}) == {str(tent_here.pk), str(stove_here.pk)}
    assert stock_ids({"item_type": "tent"}) == {str(tent_here.pk), str(tent_there.pk)}
    assert stock_ids({"item_type": "tent", "location_id": str(here)}) == {str(tent_here.pk)}


@pytest.mark.parametrize(
    ("param", "value"), [("location_id", "nope"), ("ordering", "quantity_at_open")]
)
def test_reorder_alerts_bad_parameter_is_400_naming_it(reader_client, param, value):
    response = reader_client.get("/reorder-alerts", {param: value})
    assert response.status_code == 400
    assert param in response.json()["fields"]


def test_reorder_alerts_ordering(reader_client):
    a = stocked_level(1, item_type="b", reorder_point=5, reorder_quantity=1)  # suggests 5
    b = stocked_level(4, item_type="a", reorder_point=5, reorder_quantity=20)  # suggests 21
    c = stocked_level(0, item_type="c", reorder_point=2, reorder_quantity=1)  # suggests 3

    def order(ordering=None):
        params = {"ordering": ordering} if ordering else {}
        return [row["stock_id"] for row in alerts_of(reader_client.get("/reorder-alerts", params))]

    ids = [str(a.pk), str(b.pk), str(c.pk)]
    assert order() == ids, "oldest first"
    assert order("-created_at") == ids[::-1]
    assert order("-suggested_quantity") == [str(b.pk), str(a.pk), str(c.pk)]
    assert order("suggested_quantity") == [str(c.pk), str(a.pk), str(b.pk)]
    assert order("item_type") == [str(b.pk), str(a.pk), str(c.pk)]
    assert order("quantity_on_hand") == [str(c.pk), str(a.pk), str(b.pk)]
    assert order("-reorder_point,quantity_on_hand") == [str(a.pk), str(b.pk), str(c.pk)]
    assert len(order("location_id")) == 3
    assert len(order("quantity_on_order")) == 3


def test_reorder_alerts_pagination(reader_client):
    for _ in range(3):
        stocked_level(0)
    first = reader_client.get("/reorder-alerts", {"page_size": 2}).json()
    second = reader_client.get("/reorder-alerts", {"page_size": 2, "page": 2}).json()
    assert first["count"] == 3
    assert len(first["results"]) == 2
    assert first["next"] is not None
    assert len(second["results"]) == 1
    seen = {row["alert_id"] for row in first["results"] + second["results"]}
    assert len(seen) == 3


def test_reorder_alerts_count_joins_the_levels_only_to_filter_on_them(reader_client):
    here = uuid.uuid4()
    stocked_level(0, item_type="tent", location_id=here)
    stocked_level(0, item_type="stove", location_id=here)
    stocked_level(0, item_type="tent")
    stocked_level(5, reorder_point=2)  # no alert

    def count(params):
        with CaptureQueriesContext(connection) as queries:
            body = reader_client.get("/reorder-alerts", {"page_size": 1, **params}).json()
        return body["count"], len(queries), statements_touching(queries, "stock_levels")

    # Token, count, page; the page joins the levels, the count only to filter on them.
    assert count({}) == (3, 3, 1)
    assert count({"location_id": str(here)}) == (2, 3, 2)
    assert count({"item_type": "tent", "location_id": str(here)}) == (1, 3, 2)


def test_reorder_alerts_queries_do_not_grow_with_the_page(reader_client, on_order):
    on_order(1)
    stocked_level(0)
    with CaptureQueriesContext(connection) as one:
        assert len(alerts_of(reader_client.get("/reorder-alerts"))) == 1
    for _ in range(55):
        stocked_level(0)
    with CaptureQueriesContext(connection) as full:
        assert len(alerts_of(reader_client.get("/reorder-alerts"))) == 50
    assert len(one) == len(full) == 3  # token, count, page


def test_reorder_alerts_need_credentials(anon_client):
    response = anon_client.get("/reorder-alerts")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


# --- the OpenAPI document ----------------------------------------------------------------------


def test_schema_documents_the_stock_endpoints(anon_client):
    schema = anon_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    paths = schema["paths"]
    # The statuses of each operation are pinned once, in tests/api/test_schema.py.
    expected = {
        operation: OPERATIONS[operation]
        for operation in [
            ("/stock-levels", "get"),
            ("/stock-adjustments", "post"),
            ("/reorder-alerts", "get"),
        ]
    }
    for (path, method), statuses in expected.items():
        operation = paths[path][method]
        assert operation["summary"]
        assert set(operation["responses"]) == statuses
        # 414 is the HTTP server's own HTML page (see tests/api/test_schema.py).
        for status in statuses - {"200", "201", "304", "414"}:
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"]["$ref"] == "#/components/schemas/Error"
    post_op = paths["/stock-adjustments"]["post"]
    assert post_op["requestBody"]["content"]["application/json"]["examples"]
    body = schema["components"]["schemas"]["StockAdjustmentRequest"]
    reasons = body["discriminator"]["mapping"]
    assert set(reasons) == {"correction", "damage", "receipt", "consumption", "count"}
