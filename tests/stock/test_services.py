"""stock.services against PostgreSQL: the rules of each reason, the ledger, and the alerts."""

import json
import random
import uuid

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.errors import Conflict, InvalidInput, NotFound
from integrations.models import Event
from stock import services
from stock.figures import CALCULATION_INPUTS
from stock.models import (
    AdjustmentReason,
    ReorderAlert,
    ReorderPointCalculation,
    StockAdjustment,
    StockLevel,
)
from stock.serializers import render_stock_levels
from stock.services import (
    MAX_QUANTITY,
    NOTE_MAX_LENGTH,
    LevelFigures,
    StockChange,
    record_adjustment,
    record_adjustments,
    set_reorder_points,
    sync_alerts,
    update_reorder_settings,
)
from tests.factories import StockLevelFactory
from tests.stock.factories import stocked_level

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

R = AdjustmentReason


def adjust(level, reason, **kwargs):
    return record_adjustment(reason=reason, adjusted_by="clerk", stock_id=level.stock_id, **kwargs)


def state(level):
    """The level's quantity and its number of ledger rows, read from the database."""
    level.refresh_from_db()
    return level.quantity_on_hand, StockAdjustment.objects.filter(stock=level).count()


# --- the rules of each reason ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "delta", "after"),
    [
        (R.CORRECTION, 3, 13),
        (R.CORRECTION, -4, 6),
        (R.DAMAGE, -1, 9),
        (R.CONSUMPTION, -10, 0),
        (R.RECEIPT, 5, 15),
    ],
)
def test_each_delta_reason_changes_quantity_and_records_it(reason, delta, after):
    level = stocked_level(10)

    adjustment = adjust(level, reason, quantity_delta=delta, note="why")

    stored = StockAdjustment.objects.get(pk=adjustment.pk)
    assert (stored.reason, stored.quantity_delta, stored.quantity_after) == (reason, delta, after)
    assert stored.note == "why"
    assert stored.adjusted_by == "clerk"
    assert stored.counted_quantity is None
    assert stored.po_id is None
    assert stored.created_at is not None
    assert adjustment.created_at == stored.created_at
    assert adjustment.stock.quantity_on_hand == after
    assert state(level) == (after, 2)
    assert level.last_counted_at is None


@pytest.mark.parametrize(
    ("reason", "kwargs", "field"),
    [
        (R.CORRECTION, {"quantity_delta": 0}, "quantity_delta"),
        (R.DAMAGE, {"quantity_delta": 0}, "quantity_delta"),
        (R.DAMAGE, {"quantity_delta": 2}, "quantity_delta"),
        (R.CONSUMPTION, {"quantity_delta": 0}, "quantity_delta"),
        (R.CONSUMPTION, {"quantity_delta": 1}, "quantity_delta"),
        (R.RECEIPT, {"quantity_delta": 0}, "quantity_delta"),
        (R.RECEIPT, {"quantity_delta": -1}, "quantity_delta"),
        (R.CORRECTION, {}, "quantity_delta"),
        (R.CORRECTION, {"counted_quantity": 3}, "counted_quantity"),
        (R.RECEIPT, {"quantity_delta": 1, "counted_quantity": 3}, "counted_quantity"),
        (R.COUNT, {}, "counted_quantity"),
        (R.COUNT, {"counted_quantity": -1}, "counted_quantity"),
        (R.COUNT, {"counted_quantity": 3, "quantity_delta": 1}, "quantity_delta"),
        (R.CORRECTION, {"quantity_delta": MAX_QUANTITY + 1}, "quantity_delta"),
        (R.COUNT, {"counted_quantity": MAX_QUANTITY + 1}, "counted_quantity"),
        (R.CORRECTION, {"quantity_delta": 1, "note": "x" * (NOTE_MAX_LENGTH + 1)}, "note"),
        (R.PO_RECEIPT, {"quantity_delta": 1}, "reason"),
        ("restock", {"quantity_delta": 1}, "reason"),
    ],
)
def test_amount_that_breaks_the_reasons_rule_is_invalid_and_writes_nothing(reason, kwargs, field):
    level = stocked_level(10)

    with pytest.raises(InvalidInput) as error:
        adjust(level, reason, **kwargs)

    assert error.value.field == field
    assert state(level) == (10, 1)


def test_a_note_of_the_maximum_length_is_kept():
    level = stocked_level(10)
    adjustment = adjust(level, R.DAMAGE, quantity_delta=-1, note="n" * NOTE_MAX_LENGTH)
    assert StockAdjustment.objects.get(pk=adjustment.pk).note == "n" * NOTE_MAX_LENGTH


def test_quantity_above_the_integer_column_is_invalid_and_writes_nothing():
    level = stocked_level(10)
    with pytest.raises(InvalidInput) as error:
        adjust(level, R.RECEIPT, quantity_delta=MAX_QUANTITY)
    assert error.value.field == "quantity_delta"
    assert state(level) == (10, 1)


@pytest.mark.parametrize("reason", [R.CONSUMPTION, R.DAMAGE, R.CORRECTION])
def test_going_below_zero_is_a_conflict_and_writes_nothing(reason):
    level = stocked_level(3, reorder_point=1)
    alerts_before = ReorderAlert.objects.count()

    with pytest.raises(Conflict) as error:
        adjust(level, reason, quantity_delta=-4)

    assert error.value.code == "insufficient_stock"
    assert error.value.extra == {"quantity_on_hand": 3, "stock_id": str(level.stock_id)}
    assert state(level) == (3, 1)
    assert ReorderAlert.objects.count() == alerts_before


def test_taking_exactly_all_the_stock_is_allowed():
    level = stocked_level(3)
    adjust(level, R.CONSUMPTION, quantity_delta=-3)
    assert state(level) == (0, 2)


def test_unknown_stock_id_is_not_found():
    with pytest.raises(NotFound) as error:
        record_adjustment(
            reason=R.CONSUMPTION, adjusted_by="clerk", stock_id=uuid.uuid4(), quantity_delta=-1
        )
    assert error.value.field == "stock_id"
    assert StockAdjustment.objects.count() == 0


def test_a_non_uuid_stock_id_is_invalid():
    with pytest.raises(InvalidInput) as error:
        record_adjustment(
            reason=R.CONSUMPTION, adjusted_by="clerk", stock_id="nope", quantity_delta=-1
        )
    assert error.value.field == "stock_id"


@pytest.mark.parametrize("reason", [R.CONSUMPTION, R.CORRECTION, R.DAMAGE])
def test_unknown_pair_is_not_found_unless_receipt(reason):
    with pytest.raises(NotFound):
        record_adjustment(
            reason=reason,
            adjusted_by="clerk",
            item_type="tent",
            location_id=uuid.uuid4(),
            quantity_delta=-1,
        )
    with pytest.raises(NotFound):
        record_adjustment(
            reason=R.COUNT,
            adjusted_by="clerk",
            item_type="tent",
            location_id=uuid.uuid4(),
            counted_quantity=1,
        )
    assert StockLevel.objects.count() == 0
    assert StockAdjustment.objects.count() == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"item_type": "tent"}, "location_id"),
        ({"location_id": uuid.uuid4()}, "item_type"),
        ({}, "item_type"),
        ({"item_type": "t" * 51, "location_id": uuid.uuid4()}, "item_type"),
        ({"item_type": "tent", "location_id": "not-a-uuid"}, "location_id"),
        ({"stock_id": uuid.uuid4(), "item_type": "tent", "location_id": uuid.uuid4()}, "stock_id"),
    ],
)
def test_the_level_must_be_named_one_way(kwargs, field):
    with pytest.raises(InvalidInput) as error:
        record_adjustment(reason=R.RECEIPT, adjusted_by="clerk", quantity_delta=1, **kwargs)
    assert error.value.field == field
    assert StockLevel.objects.count() == 0


def test_an_adjustment_needs_who_made_it():
    level = stocked_level(3)
    with pytest.raises(InvalidInput) as error:
        record_adjustment(
            reason=R.CONSUMPTION, adjusted_by="", stock_id=level.stock_id, quantity_delta=-1
        )
    assert error.value.field == "adjusted_by"
    assert state(level) == (3, 1)


def test_receipt_for_a_missing_pair_creates_the_level_with_zero_point():
    location = uuid.uuid4()

    adjustment = record_adjustment(
        reason=R.RECEIPT,
        adjusted_by="clerk",
        item_type="stove",
        location_id=str(location),
        quantity_delta=7,
    )

    level = StockLevel.objects.get(item_type="stove", location_id=location)
    assert adjustment.stock.pk == level.pk
    assert (level.quantity_on_hand, level.reorder_point, level.reorder_quantity) == (7, 0, 0)
    assert level.last_counted_at is None
    assert list(level.adjustments.values_list("reason", "quantity_delta", "quantity_after")) == [
        ("receipt", 7, 7)
    ]
    assert not ReorderAlert.objects.filter(stock=level).exists()


def test_receipt_by_pair_for_an_existing_level_adds_to_it():
    level = stocked_level(4)
    record_adjustment(
        reason=R.RECEIPT,
        adjusted_by="clerk",
        item_type=level.item_type,
        location_id=level.location_id,
        quantity_delta=6,
    )
    assert StockLevel.objects.filter(item_type=level.item_type).count() == 1
    assert state(level) == (10, 2)


def test_count_sets_the_quantity_and_records_the_difference():
    level = stocked_level(10, reorder_point=2)

    adjustment = adjust(level, R.COUNT, counted_quantity=6, note="cycle count")

    stored = StockAdjustment.objects.get(pk=adjustment.pk)
    assert (stored.quantity_delta, stored.quantity_after, stored.counted_quantity) == (-4, 6, 6)
    assert state(level) == (6, 2)
    assert level.last_counted_at is not None
    assert level.last_counted_at == adjustment.stock.last_counted_at


def test_count_above_the_quantity_records_a_positive_difference():
    level = stocked_level(2)
    adjustment = adjust(level, R.COUNT, counted_quantity=9)
    assert (adjustment.quantity_delta, adjustment.quantity_after) == (7, 9)
    assert state(level) == (9, 2)


def test_count_matching_the_quantity_records_zero_and_stamps_the_count():
    level = stocked_level(5)

    adjustment = adjust(level, R.COUNT, counted_quantity=5)

    assert (adjustment.quantity_delta, adjustment.quantity_after) == (0, 5)
    assert state(level) == (5, 2)
    assert level.last_counted_at is not None


def test_count_to_zero_is_allowed():
    level = stocked_level(5)
    adjust(level, R.COUNT, counted_quantity=0)
    assert state(level) == (0, 2)


# --- several changes at once (the purchase order receipt) ------------------------------------


def test_po_receipt_lines_apply_in_one_go_creating_missing_levels():
    existing = stocked_level(1, reorder_point=3)
    assert ReorderAlert.objects.filter(stock=existing, resolved_at__isnull=True).exists()
    new_location = uuid.uuid4()
    po_id = uuid.uuid4()

    adjustments = record_adjustments(
        reason=R.PO_RECEIPT,
        adjusted_by="receiver",
        po_id=po_id,
        changes=[
            StockChange(
                item_type=existing.item_type,
                location_id=str(existing.location_id),
                quantity_delta=5,
            ),
            StockChange(item_type="kayak", location_id=new_location, quantity_delta=2),
            StockChange(
                item_type=existing.item_type, location_id=existing.location_id, quantity_delta=1
            ),
        ],
    )

    assert [a.quantity_after for a in adjustments] == [6, 2, 7]
    assert {a.po_id for a in adjustments} == {po_id}
    assert state(existing) == (7, 3)
    assert StockLevel.objects.get(item_type="kayak", location_id=new_location).quantity_on_hand == 2
    alert = ReorderAlert.objects.get(stock=existing)
    assert alert.resolved_at is not None


def test_a_batch_with_one_line_below_zero_writes_nothing_at_all():
    level = stocked_level(2)
    location = uuid.uuid4()

    with pytest.raises(Conflict):
        record_adjustments(
            reason=R.CORRECTION,
            adjusted_by="clerk",
            changes=[
                StockChange(stock_id=level.stock_id, quantity_delta=5),
                StockChange(stock_id=level.stock_id, quantity_delta=-8),
            ],
        )
    with pytest.raises(NotFound):
        record_adjustments(
            reason=R.PO_RECEIPT,
            adjusted_by="clerk",
            changes=[
                StockChange(item_type="kayak", location_id=location, quantity_delta=2),
                StockChange(stock_id=uuid.uuid4(), quantity_delta=1),
            ],
        )

    assert state(level) == (2, 1)
    assert not StockLevel.objects.filter(location_id=location).exists()


def test_no_changes_write_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert record_adjustments(reason=R.PO_RECEIPT, adjusted_by="x", changes=[]) == []
    assert len(queries) == 0


# --- the written-out INSERTs (stock.queries, integrations.queries) ----------------------------

LEDGER_COLUMNS = [field.attname for field in StockAdjustment._meta.concrete_fields]
EVENT_COLUMNS = [field.attname for field in Event._meta.concrete_fields]


def test_the_ledger_rows_and_their_events_are_the_rows_the_orm_writes():
    """The ledger's and the events' ``INSERT``, written out, write what ``bulk_create`` of the
    same instances writes, the database's defaults included; the instances carry the
    ``created_at`` the database gave (as ``bulk_create`` sets it)."""
    level = stocked_level(5, reorder_point=0)
    po_id, receipt_id = uuid.uuid4(), uuid.uuid4()
    Event.objects.all().delete()

    written = record_adjustments(
        reason=R.PO_RECEIPT,
        adjusted_by="receiver",
        changes=[
            StockChange(item_type=level.item_type, location_id=level.location_id, quantity_delta=3),
            StockChange(item_type="new", location_id=uuid.uuid4(), quantity_delta=2),
        ],
        note="Pallet 1 \u2028 of 2",
        po_id=po_id,
        receipt_id=receipt_id,
    )
    [first_event, second_event] = Event.objects.order_by("id")

    # New ids; ``created_at`` left to the database, as the service leaves it.
    copies = [
        StockAdjustment(
            **{name: getattr(adjustment, name) for name in LEDGER_COLUMNS if name != "created_at"}
            | {"adjustment_id": uuid.uuid4()}
        )
        for adjustment in written
    ]
    StockAdjustment.objects.bulk_create(copies)
    event_copies = Event.objects.bulk_create(
        Event(
            **{
                name: getattr(event, name)
                for name in EVENT_COLUMNS
                if name not in ("id", "event_id")
            }
        )
        for event in (first_event, second_event)
    )

    def rows(model, ids, skip):
        names = [name for name in (LEDGER_COLUMNS if model is StockAdjustment else EVENT_COLUMNS)]
        found = model.objects.filter(pk__in=ids).order_by("pk").values(*names)
        return [{key: value for key, value in row.items() if key not in skip} for row in found]

    ids = [adjustment.pk for adjustment in written]
    skip = {"adjustment_id", "created_at"}
    ours = sorted(rows(StockAdjustment, ids, skip), key=lambda row: row["quantity_delta"])
    theirs = sorted(
        rows(StockAdjustment, [c.pk for c in copies], skip), key=lambda row: row["quantity_delta"]
    )
    assert ours == theirs
    assert ours[0]["note"] == "Pallet 1 \u2028 of 2" and ours[0]["po_id"] == po_id
    stored = dict(StockAdjustment.objects.filter(pk__in=ids).values_list("pk", "created_at"))
    assert {adjustment.pk: adjustment.created_at for adjustment in written} == stored
    assert all(not adjustment._state.adding for adjustment in written)

    skip = {"id", "event_id"}
    assert rows(Event, [first_event.pk, second_event.pk], skip) == rows(
        Event, [copy.pk for copy in event_copies], skip
    )
    assert first_event.data["note"] == "Pallet 1 \u2028 of 2"


def test_more_ledger_rows_than_sqlite_takes_parameters_for_are_all_written():
    """SQLite takes 999 parameters a statement: the rows go in batches there (one statement on
    PostgreSQL); each gets its ``created_at`` and its event."""
    level = stocked_level(0)
    Event.objects.all().delete()

    written = record_adjustments(
        reason=R.PO_RECEIPT,
        adjusted_by="receiver",
        changes=[
            StockChange(item_type=level.item_type, location_id=level.location_id, quantity_delta=1)
        ]
        * 150,
    )

    assert [adjustment.quantity_after for adjustment in written] == list(range(1, 151))
    assert all(adjustment.created_at is not None for adjustment in written)
    assert state(level) == (150, 150)
    assert Event.objects.filter(type__endswith="stock_level.adjusted").count() == 150


def test_more_new_levels_than_sqlite_takes_parameters_for_are_all_created_as_the_orm_would():
    """The missing levels of a receipt (``stock.queries.create_levels_sql``; on SQLite in
    batches of its 999 parameters): nothing on hand but the receipt, no point, no count, no
    calculation, and an existing one left as it is."""
    existing = stocked_level(4, reorder_point=1)
    location = uuid.uuid4()
    changes = [
        StockChange(item_type=f"new-{n}", location_id=location, quantity_delta=1)
        for n in range(150)
    ]
    changes.append(
        StockChange(
            item_type=existing.item_type, location_id=existing.location_id, quantity_delta=1
        )
    )

    record_adjustments(reason=R.PO_RECEIPT, adjusted_by="receiver", changes=changes)

    created = StockLevel.objects.filter(location_id=location)
    assert created.count() == 150
    assert set(
        created.values_list(
            "quantity_on_hand",
            "reorder_point",
            "reorder_quantity",
            "last_counted_at",
            "reorder_calculation",
        )
    ) == {(1, 0, 0, None, None)}
    assert state(existing) == (5, 2)


# --- statement counts ------------------------------------------------------------------------


def _statements(queries):
    """The statements run, without the transaction control (``SAVEPOINT``/``RELEASE`` stand in
    for ``BEGIN``/``COMMIT`` inside the test's transaction)."""
    return [
        query["sql"]
        for query in queries
        if not query["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK"))
    ]


@pytest.mark.postgresql
def test_an_adjustment_by_id_runs_five_statements():
    level = stocked_level(10, reorder_point=2)

    with CaptureQueriesContext(connection) as queries:
        adjust(level, R.CONSUMPTION, quantity_delta=-1)

    # Lock, update, ledger row, its event, alert sync (the level stays above its point: a read
    # of the open alerts finds none to resolve).
    assert len(_statements(queries)) == 5
    assert StockLevel.objects.get(pk=level.pk).quantity_on_hand == 9
    assert Event.objects.filter(type__endswith="stock_level.adjusted").count() == 2  # and stocking


def test_a_receipt_by_pair_runs_the_same_statements_whatever_the_number_of_lines():
    levels = [stocked_level(0, reorder_point=0) for _ in range(3)]

    def receive(count, new):
        with CaptureQueriesContext(connection) as queries:
            record_adjustments(
                reason=R.PO_RECEIPT,
                adjusted_by="receiver",
                changes=[
                    StockChange(
                        item_type=lv.item_type, location_id=lv.location_id, quantity_delta=1
                    )
                    for lv in levels[:count]
                ]
                + [
                    StockChange(item_type="new", location_id=uuid.uuid4(), quantity_delta=1)
                    for _ in range(new)
                ],
            )
        return len(_statements(queries))

    # Create the missing levels before locking anything, lock every level once, add the
    # quantities, ledger rows, their events; alert sync: read the open alerts, and where some
    # are lifted (each of the first two calls lifts some) resolve them, read them for their
    # events and insert these. The same count whatever the number of lines, and whether levels
    # are missing or not.
    assert receive(1, new=0) == receive(3, new=0) == 6 + 3
    assert receive(1, new=1) == receive(3, new=2) == 6
    assert [StockLevel.objects.get(pk=lv.pk).quantity_on_hand for lv in levels] == [4, 2, 2]
    assert sorted(
        StockLevel.objects.filter(item_type="new").values_list("quantity_on_hand", flat=True)
    ) == [1, 1, 1]


# --- reorder alerts --------------------------------------------------------------------------


def open_alerts(level):
    return list(ReorderAlert.objects.filter(stock=level, resolved_at__isnull=True))


def test_alert_opens_at_the_point_not_above_it():
    level = stocked_level(7, reorder_point=5)
    adjust(level, R.CONSUMPTION, quantity_delta=-1)
    assert open_alerts(level) == []

    adjust(level, R.CONSUMPTION, quantity_delta=-1)

    [alert] = open_alerts(level)
    assert (alert.quantity_at_open, alert.reorder_point_at_open) == (5, 5)
    assert alert.created_at is not None


def test_a_second_drop_below_the_point_keeps_the_one_open_alert():
    level = stocked_level(5, reorder_point=5)
    [first] = open_alerts(level)

    adjust(level, R.CONSUMPTION, quantity_delta=-2)
    adjust(level, R.COUNT, counted_quantity=1)

    assert open_alerts(level) == [first]
    assert ReorderAlert.objects.filter(stock=level).count() == 1


def test_alert_resolves_when_the_quantity_rises_above_the_point_and_reopens_later():
    level = stocked_level(2, reorder_point=5)
    [alert] = open_alerts(level)

    adjust(level, R.RECEIPT, quantity_delta=3)
    assert open_alerts(level) == [alert], "at the point is still at or below"

    adjust(level, R.RECEIPT, quantity_delta=1)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert open_alerts(level) == []

    adjust(level, R.DAMAGE, quantity_delta=-4)
    [reopened] = open_alerts(level)
    assert reopened.pk != alert.pk
    assert ReorderAlert.objects.filter(stock=level).count() == 2


def test_a_count_resolves_or_opens_the_alert():
    level = stocked_level(1, reorder_point=3)
    adjust(level, R.COUNT, counted_quantity=10)
    assert open_alerts(level) == []
    adjust(level, R.COUNT, counted_quantity=3)
    assert len(open_alerts(level)) == 1


def test_a_new_reorder_point_opens_and_resolves_the_alert():
    level = stocked_level(10, reorder_point=2)

    updated = update_reorder_settings(stock_id=level.stock_id, reorder_point=10, reorder_quantity=4)
    assert (updated.reorder_point, updated.reorder_quantity) == (10, 4)
    [alert] = open_alerts(level)

    update_reorder_settings(stock_id=str(level.stock_id), reorder_point=9)
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    level.refresh_from_db()
    assert (level.reorder_point, level.reorder_quantity) == (9, 4)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"reorder_point": -1}, "reorder_point"), ({"reorder_quantity": -1}, "reorder_quantity")],
)
def test_negative_reorder_settings_are_invalid(kwargs, field):
    level = stocked_level(1, reorder_point=0)
    with pytest.raises(InvalidInput) as error:
        update_reorder_settings(stock_id=level.stock_id, **kwargs)
    assert error.value.field == field
    level.refresh_from_db()
    assert (level.reorder_point, level.reorder_quantity) == (0, 20)


def test_reorder_settings_of_unknown_level_is_not_found():
    with pytest.raises(NotFound):
        update_reorder_settings(stock_id=uuid.uuid4(), reorder_point=1)


def test_sync_alerts_runs_at_most_two_statements_for_many_levels():
    levels = [StockLevelFactory(quantity_on_hand=q, reorder_point=5) for q in (0, 3, 8, 9)]
    with CaptureQueriesContext(connection) as queries:
        sync_alerts(levels=levels)
        sync_alerts(levels=levels)
    # First: read the open alerts, open two, read them for their events, insert the events.
    # Then: read the open alerts, nothing to do.
    assert len(queries) == 5
    assert ReorderAlert.objects.filter(resolved_at__isnull=True).count() == 2


# --- the ledger --------------------------------------------------------------------------------


def assert_ledger_holds():
    """For every level: quantity == sum of its ledger, the latest row's quantity_after agrees,
    and exactly one alert is open when it is at or below its point (none otherwise)."""
    ledger = dict(
        StockAdjustment.objects.values("stock")
        .annotate(total=Sum("quantity_delta"))
        .values_list("stock", "total")
    )
    open_alerts = dict(
        ReorderAlert.objects.filter(resolved_at__isnull=True)
        .values("stock")
        .annotate(n=Count("pk"))
        .values_list("stock", "n")
    )
    levels = list(StockLevel.objects.all())
    assert levels
    for level in levels:
        assert level.quantity_on_hand == ledger.get(level.stock_id, 0), level
        latest = level.adjustments.order_by("-created_at", "-quantity_after").first()
        if latest is not None:
            assert latest.quantity_after == level.quantity_on_hand
        expected_open = 1 if level.quantity_on_hand <= level.reorder_point else 0
        assert open_alerts.get(level.stock_id, 0) == expected_open, level


def test_ledger_invariant_holds_after_a_random_mix_of_operations():
    rng = random.Random(20260504)
    locations = [uuid.uuid4() for _ in range(3)]
    pairs = [(item, loc) for item in ("tent", "stove", "rope") for loc in locations]
    outcomes = {"ok": 0, "conflict": 0, "invalid": 0, "not_found": 0}

    for _ in range(300):
        item_type, location_id = rng.choice(pairs)
        level = StockLevel.objects.filter(item_type=item_type, location_id=location_id).first()
        op = rng.choice(["receipt", "po", "consume", "damage", "correct", "count", "point"])
        try:
            if op == "receipt" or level is None:
                record_adjustment(
                    reason=R.RECEIPT,
                    adjusted_by="r",
                    item_type=item_type,
                    location_id=location_id,
                    quantity_delta=rng.randint(1, 9),
                )
            elif op == "po":
                other = rng.choice(pairs)
                record_adjustments(
                    reason=R.PO_RECEIPT,
                    adjusted_by="po",
                    po_id=uuid.uuid4(),
                    changes=[
                        StockChange(item_type=i, location_id=loc, quantity_delta=rng.randint(1, 5))
                        for i, loc in ((item_type, location_id), other)
                    ],
                )
            elif op == "consume":
                adjust(level, R.CONSUMPTION, quantity_delta=-rng.randint(1, 8))
            elif op == "damage":
                adjust(level, R.DAMAGE, quantity_delta=-rng.randint(0, 3))
            elif op == "correct":
                adjust(level, R.CORRECTION, quantity_delta=rng.randint(-6, 6))
            elif op == "count":
                adjust(level, R.COUNT, counted_quantity=rng.randint(0, 12))
            else:
                update_reorder_settings(stock_id=level.stock_id, reorder_point=rng.randint(0, 8))
            outcomes["ok"] += 1
        except Conflict:
            outcomes["conflict"] += 1
        except InvalidInput:
            outcomes["invalid"] += 1

    assert outcomes["ok"] > 150
    assert outcomes["conflict"] > 0
    assert outcomes["invalid"] > 0
    assert StockLevel.objects.count() == len(pairs)
    assert_ledger_holds()


@pytest.mark.postgresql
def test_sync_alerts_takes_figures_and_the_open_alerts_read_by_the_caller():
    below = StockLevelFactory(quantity_on_hand=2, reorder_point=5)
    already = StockLevelFactory(quantity_on_hand=0, reorder_point=1)
    sync_alerts(levels=[already])
    [kept] = open_alerts(already)
    lifted = StockLevelFactory(quantity_on_hand=2, reorder_point=5)
    sync_alerts(levels=[lifted])
    [lifted_alert] = open_alerts(lifted)
    untouched = StockLevelFactory(quantity_on_hand=9, reorder_point=1)
    ReorderAlert.objects.create(stock=untouched, quantity_at_open=0, reorder_point_at_open=0)
    figures = [
        LevelFigures(below.pk, 2, 5),
        LevelFigures(already.pk, 0, 1),
        LevelFigures(lifted.pk, 2, 1),
    ]

    with CaptureQueriesContext(connection) as queries:
        sync_alerts(levels=figures, open_alerts={already.pk: kept.pk, lifted.pk: lifted_alert.pk})

    # No read of the open alerts (given); resolve one and open one, each with its events (the
    # alerts read as the API shows them, the events inserted).
    assert len(_statements(queries)) == 6
    [opened] = open_alerts(below)
    assert (opened.quantity_at_open, opened.reorder_point_at_open) == (2, 5)
    assert open_alerts(already) == [kept]
    assert open_alerts(lifted) == []
    assert ReorderAlert.objects.get(stock=lifted).resolved_at is not None
    assert len(open_alerts(untouched)) == 1, "only the levels named"
    assert Event.objects.filter(type__endswith="reorder_alert.opened").count() == 3
    assert Event.objects.filter(type__endswith="reorder_alert.resolved").count() == 1
    with CaptureQueriesContext(connection) as none:
        sync_alerts(levels=[])
    assert len(none) == 0


# --- reorder points set by a recalculation -------------------------------------------------


def _calculation_row(level, *, point, skipped=None, now=None):
    values = dict.fromkeys(CALCULATION_INPUTS)
    values |= {
        "stock_id": level.stock_id,
        "computed_at": now or timezone.now(),
        "window_days": 90,
        "history_days": 0 if skipped else 30,
        "mean_daily_demand": 0.0 if skipped else 3.0,
        "demand_stddev": 0.0,
        "lead_time_days": 7.0,
        "lead_time_stddev_days": 0.0,
        "lead_time_source": "default",
        "review_days": 1,
        "service_level": 0.95,
        "z": 1.6448536269514722,
        "reorder_point": point,
        "skipped_reason": skipped,
        "method": "stationary",
    }
    return tuple(values[name] for name in CALCULATION_INPUTS)


def _computed(rows):
    """A ``SELECT`` of ``rows`` as a recalculation's SQL would compute them."""
    columns = ", ".join(f"%s AS {name}" for name in CALCULATION_INPUTS)
    return (
        " UNION ALL ".join(f"SELECT {columns}" for _ in rows),
        [value for row in rows for value in row],
    )


def test_set_reorder_points_stores_a_calculation_per_level_and_moves_the_points():
    raised = stocked_level(10, reorder_point=5)
    lowered = stocked_level(3, reorder_point=8)
    kept = stocked_level(20, reorder_point=4)
    skipped = stocked_level(1, reorder_point=2)
    sync_alerts(levels=[lowered, skipped])

    written = set_reorder_points(
        rows=[
            _calculation_row(raised, point=24),
            _calculation_row(lowered, point=2),
            _calculation_row(kept, point=4),
            _calculation_row(skipped, point=None, skipped="no_demand"),
        ]
    )

    assert {(p.stock_id, p.previous_reorder_point, p.reorder_point) for p in written} == {
        (raised.pk, 5, 24),
        (lowered.pk, 8, 2),
        (kept.pk, 4, 4),
        (skipped.pk, 2, None),
    }
    assert [p.stock_id for p in written] == sorted(p.stock_id for p in written)
    points = dict(StockLevel.objects.values_list("stock_id", "reorder_point"))
    assert points == {raised.pk: 24, lowered.pk: 2, kept.pk: 4, skipped.pk: 2}
    for level in (raised, lowered, kept, skipped):
        level.refresh_from_db()
        calculation = level.reorder_calculation
        assert calculation.previous_reorder_point == {raised: 5, lowered: 8, kept: 4}.get(level, 2)
    # The alerts of the moved levels follow their new points; the others are left as they were.
    assert len(open_alerts(raised)) == 1
    assert open_alerts(lowered) == []
    assert len(open_alerts(skipped)) == 1
    moved = Event.objects.filter(type__endswith="stock_level.reorder_point_changed")
    assert sorted(moved.values_list("subject", flat=True)) == sorted(
        [str(raised.pk), str(lowered.pk)]
    )


@pytest.mark.postgresql
def test_set_reorder_points_runs_the_same_statements_for_many_levels():
    def run(count, rows_too):
        levels = [stocked_level(10 + i % 2 * 30, reorder_point=5) for i in range(count)]
        rows = [_calculation_row(level, point=24) for level in levels]
        given = rows[:1] if rows_too else []
        with CaptureQueriesContext(connection) as queries:
            written = set_reorder_points(computed=_computed(rows[len(given) :]), rows=given)
        assert len(written) == count
        return len(_statements(queries))

    # JIT off and the calculations computed into a temporary table, indexed and analysed, the
    # levels they are for read, the table dropped; per batch: lock, the calculations and points
    # in one statement, the moved levels' events built and inserted in one; the alerts opened
    # (the levels at 10), read and their events.
    assert run(2, rows_too=False) == run(9, rows_too=False) == run(9, rows_too=True) == 12


@pytest.mark.postgresql
def test_the_moved_levels_events_are_built_by_the_database_as_python_renders_them(monkeypatch):
    """The events of a recalculation (``reorder_point_changed``, their data built in SQL) are
    those ``render_stock_levels`` renders, stored alike (compared as ``jsonb`` text: each
    number's scale too), in ``stock_id`` order within each batch, the batch's alert events
    after them."""
    monkeypatch.setattr(services, "WRITE_BATCH", 2)
    levels = sorted(
        (stocked_level(10 + n, reorder_point=5) for n in range(5)), key=lambda lv: lv.stock_id
    )
    StockLevel.objects.filter(pk=levels[0].pk).update(last_counted_at=timezone.now())
    points = [24, 5, None, 3, 30]  # raised, unchanged, skipped, lowered, raised
    rows = [
        _calculation_row(level, point=point, skipped=None if point is not None else "no_demand")
        for level, point in zip(levels, points, strict=True)
    ]
    Event.objects.all().delete()

    set_reorder_points(computed=_computed(rows[1:]), rows=rows[:1])

    written = list(Event.objects.order_by("id"))
    moved = [level for level, point in zip(levels, points, strict=True) if point not in (5, None)]
    level_type = "novatrek.procurement.stock_level.reorder_point_changed"
    assert [(event.type.rsplit(".", 2)[1], event.subject) for event in written] == [
        ("stock_level", str(moved[0].pk)),  # batch 1: levels 0 and 1; 10 on hand <= 24
        ("reorder_alert", str(ReorderAlert.objects.get(stock=moved[0]).pk)),
        ("stock_level", str(moved[1].pk)),  # batch 2: levels 2 and 3
        ("stock_level", str(moved[2].pk)),  # batch 3: level 4; 14 on hand <= 30
        ("reorder_alert", str(ReorderAlert.objects.get(stock=moved[2]).pk)),
    ]
    stored = {event.subject: _jsonb_text(event.pk) for event in written if event.type == level_type}
    for level in moved:
        level.refresh_from_db()
        rendered = json.dumps(render_stock_levels([level])[0], cls=DjangoJSONEncoder)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::jsonb::text", [rendered])
            assert stored[str(level.pk)] == cursor.fetchone()[0]


def _jsonb_text(event_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT data::text FROM events WHERE id = %s", [event_id])
        return cursor.fetchone()[0]


@pytest.mark.postgresql
def test_set_reorder_points_covers_the_scope_only_and_rows_win_over_computed():
    location = uuid.uuid4()
    inside = StockLevelFactory(location_id=location, quantity_on_hand=50, reorder_point=5)
    outside = StockLevelFactory(quantity_on_hand=50, reorder_point=5)

    written = set_reorder_points(
        computed=_computed([_calculation_row(inside, point=7), _calculation_row(outside, point=7)]),
        rows=[_calculation_row(inside, point=9)],
        location_id=location,
    )

    assert [(p.stock_id, p.reorder_point) for p in written] == [(inside.pk, 9)]
    assert StockLevel.objects.get(pk=outside.pk).reorder_point == 5
    assert ReorderPointCalculation.objects.get().stock_id == inside.pk
