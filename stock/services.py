"""Writes to stock: every change of quantity or reorder point goes through here.

Concurrency: the stock levels a change touches are locked with ``SELECT ... FOR UPDATE`` in
``stock_id`` order (so two batches never deadlock), the quantity is changed by one ``UPDATE``
relative to the row, the ledger rows are inserted with one ``INSERT``, and the alerts are synced
with at most two statements. The statement count does not depend on the number of lines.
"""

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from uuid import UUID, uuid4

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from common.db import retry_on_transient_conflict, temporary_table
from common.errors import Conflict, InvalidInput, NotFound
from common.rows import Columns, FieldValues, ModelColumns, db_value
from integrations.events import SYSTEM_ACTOR, record_events, record_events_from_query
from stock import presenters, queries
from stock.figures import CALCULATION_INPUTS
from stock.models import (
    AdjustmentReason,
    ReorderAlert,
    ReorderPointCalculation,
    StockAdjustment,
    StockLevel,
)

CLIENT_REASONS = (
    AdjustmentReason.CORRECTION,
    AdjustmentReason.DAMAGE,
    AdjustmentReason.RECEIPT,
    AdjustmentReason.CONSUMPTION,
    AdjustmentReason.COUNT,
)
# Reasons whose adjustment may create the stock level of an unknown (item_type, location_id).
CREATING_REASONS = (AdjustmentReason.RECEIPT, AdjustmentReason.PO_RECEIPT)
# The columns are PostgreSQL ``integer``s: a larger amount would fail in the database instead.
MAX_QUANTITY = 2_147_483_647
# One adjustment moves at most this many units, as one purchase order line orders at most this
# many (``procurement.services.MAX_QUANTITY``); a count finds at most this many.
MAX_ADJUSTMENT = 1_000_000
NOTE_MAX_LENGTH = 1000
ITEM_TYPE_MAX_LENGTH = StockLevel._meta.get_field("item_type").max_length
# The levels a change locks and their open alerts, read with ``stock.queries``' statements.
_LEVEL = ModelColumns(StockLevel)
_OPEN_ALERT = Columns(ReorderAlert._meta.get_field(name) for name in ("stock", "alert_id"))
# The ledger rows a change writes (``queries.insert_adjustments_sql``) and what it returns.
_ADJUSTMENT_VALUES = FieldValues(StockAdjustment, queries.ADJUSTMENT_INSERT_COLUMNS)
_CREATED_AT = Columns([StockAdjustment._meta.get_field("created_at")])
# The levels a receipt creates (``queries.create_levels_sql``).
_LEVEL_VALUES = FieldValues(StockLevel, queries.LEVEL_TABLE_COLUMNS)
# A recalculation writes its points this many levels a transaction (``set_reorder_points``).
WRITE_BATCH = 5000
CALCULATIONS_TABLE = "recalculated_points"


@dataclass(frozen=True)
class StockChange:
    """One line of a stock change: a level (by id, or by item type and location) and an amount."""

    stock_id: UUID | None = None
    item_type: str | None = None
    location_id: UUID | None = None
    quantity_delta: int | None = None
    counted_quantity: int | None = None

    @property
    def key(self):
        return (self.item_type, self.location_id)


def record_adjustment(
    *,
    reason,
    adjusted_by,
    stock_id=None,
    item_type=None,
    location_id=None,
    quantity_delta=None,
    counted_quantity=None,
    note="",
):
    """Record one client adjustment (see ``CLIENT_REASONS``) and return it.

    The returned adjustment's ``stock`` is the stock level as it is after the change.
    Raises ``InvalidInput`` (bad amount for the reason), ``NotFound`` (unknown stock level) or
    ``Conflict`` (the stock would go below zero, or above what a level holds); nothing is
    written then. A deadlock is retried once (``record_adjustments``).
    """
    if reason not in CLIENT_REASONS:
        raise InvalidInput(
            f"'{reason}' is not an adjustment reason clients may use.", field="reason"
        )
    if stock_id is not None and (item_type is not None or location_id is not None):
        raise InvalidInput(
            "Give either stock_id, or item_type and location_id, not both.", field="stock_id"
        )
    change = StockChange(
        stock_id=stock_id,
        item_type=item_type,
        location_id=location_id,
        quantity_delta=quantity_delta,
        counted_quantity=counted_quantity,
    )
    [adjustment] = record_adjustments(
        reason=reason, adjusted_by=adjusted_by, changes=[change], note=note
    )
    return adjustment


@retry_on_transient_conflict
def record_adjustments(
    *,
    reason,
    adjusted_by,
    changes: Sequence[StockChange],
    note="",
    po_id=None,
    receipt_id=None,
):
    """Apply several changes of one reason in one transaction, one ledger row per change.

    Used by the API (one change), the admin's correction form and the receipts of a purchase
    order (one change per receipt line, reason ``po_receipt``, linked to the PO and the receipt).
    Changes to the same level apply in order.
    """
    reason = _reason(reason)
    if not adjusted_by:
        raise InvalidInput("An adjustment needs the username of who made it.", field="adjusted_by")
    if note and len(note) > NOTE_MAX_LENGTH:
        raise InvalidInput(f"note is longer than {NOTE_MAX_LENGTH} characters.", field="note")
    if not changes:
        return []
    changes = [_normalised(change) for change in changes]
    for change in changes:
        _validate_amount(reason, change)
    by_id = [c for c in changes if c.stock_id is not None]
    by_key = [c for c in changes if c.stock_id is None]
    now = timezone.now()

    with transaction.atomic():
        stock_ids, keys = {c.stock_id for c in by_id}, {c.key for c in by_key}
        if keys and reason in CREATING_REASONS:
            # Before any level is locked: the insert may wait for a concurrent receipt creating
            # the same level, and must not do so while holding locks that receipt then needs.
            _create_missing_levels(keys)
        # Once, in primary-key order, whatever was just created (by us or a concurrent receipt).
        levels = _lock_levels(stock_ids=stock_ids, keys=keys)
        by_pk = {level.stock_id: level for level in levels}
        by_pair = {(level.item_type, level.location_id): level for level in levels}

        quantity = {level.stock_id: level.quantity_on_hand for level in levels}
        adjustments = []
        for change in changes:
            level = by_pk.get(change.stock_id) if change.stock_id else by_pair.get(change.key)
            if level is None:
                raise _not_found(change)
            before = quantity[level.stock_id]
            if change.counted_quantity is not None:
                after = change.counted_quantity
            else:
                after = before + change.quantity_delta
            if after > MAX_QUANTITY:
                raise Conflict(
                    f"Stock of {level.item_type} at {level.location_id} (stock level "
                    f"{level.stock_id}) is {before}; a change of {after - before} would take it "
                    f"above {MAX_QUANTITY}, the most a stock level holds.",
                    code="stock_level_full",
                    extra={"quantity_on_hand": before, "stock_id": str(level.stock_id)},
                )
            if after < 0:
                raise Conflict(
                    f"Stock of {level.item_type} at {level.location_id} is {before}; "
                    f"a change of {after - before} would take it below zero.",
                    code="insufficient_stock",
                    extra={"quantity_on_hand": before, "stock_id": str(level.stock_id)},
                )
            quantity[level.stock_id] = after
            adjustments.append(
                StockAdjustment(
                    stock=level,
                    reason=reason,
                    quantity_delta=after - before,
                    quantity_after=after,
                    counted_quantity=change.counted_quantity,
                    note=note or "",
                    adjusted_by=adjusted_by,
                    po_id=po_id,
                    receipt_id=receipt_id,
                )
            )

        counted = reason == AdjustmentReason.COUNT
        deltas = {
            level.stock_id: quantity[level.stock_id] - level.quantity_on_hand for level in levels
        }
        to_update = levels if counted else [level for level in levels if deltas[level.stock_id]]
        if to_update:
            _add_quantities(to_update, deltas, counted_at=now if counted else None)
        for level in levels:
            level.quantity_on_hand = quantity[level.stock_id]
            if counted:
                level.last_counted_at = now

        _insert_adjustments(adjustments)
        record_events(
            entity="stock_level",
            action="adjusted",
            objects=adjustments,
            actor=adjusted_by,
            representation="stock_adjustment",
            subject=lambda adjustment: adjustment.stock_id,
        )
        sync_alerts(levels=levels, now=now, actor=adjusted_by)
    return adjustments


@retry_on_transient_conflict
def update_reorder_settings(
    *, stock_id, reorder_point=None, reorder_quantity=None, actor=SYSTEM_ACTOR
):
    """Change a level's reorder point and/or quantity, then open or resolve its alert.
    ``actor``: who changed them (the events' ``actor``)."""
    for field, value in (("reorder_point", reorder_point), ("reorder_quantity", reorder_quantity)):
        if value is not None and not 0 <= value <= MAX_QUANTITY:
            raise InvalidInput(f"{field} must be from 0 to {MAX_QUANTITY}.", field=field)
    stock_id = _uuid(stock_id, "stock_id")
    with transaction.atomic():
        levels = _lock_levels(stock_ids={stock_id}, keys=set())
        if not levels:
            raise NotFound(f"No stock level {stock_id}.", field="stock_id")
        [level] = levels
        before = (level.reorder_point, level.reorder_quantity)
        if reorder_point is not None:
            level.reorder_point = reorder_point
        if reorder_quantity is not None:
            level.reorder_quantity = reorder_quantity
        level.save(update_fields=["reorder_point", "reorder_quantity"])
        if (level.reorder_point, level.reorder_quantity) != before:
            record_events(
                entity="stock_level", action="reorder_point_changed", objects=[level], actor=actor
            )
        sync_alerts(levels=[level], actor=actor)
    return level


@dataclass(frozen=True)
class LevelFigures:
    """What the alert rule reads of a level (a ``StockLevel`` serves as well)."""

    stock_id: UUID
    quantity_on_hand: int
    reorder_point: int


def sync_alerts(*, levels: Iterable, open_alerts=None, now=None, actor=SYSTEM_ACTOR):
    """The alert rule, for every change of a level's quantity or point: open an alert for each
    level at or below its point that has none open; resolve the open alert of each level above
    its point; an event for each alert opened or resolved.

    ``levels``: ``StockLevel``s or ``LevelFigures`` holding current values (callers lock them).
    ``open_alerts``: ``{stock_id: alert_id}`` of the levels' open alerts when the caller read
    them with the levels (the recalculation); else one read of the alerts (their table alone).
    The statement count does not depend on the number of levels: that read, then at most one
    ``UPDATE``, one ``INSERT`` and, with their events, one read and one ``INSERT`` per kind."""
    now = now or timezone.now()
    levels = list(levels)
    if not levels:
        return
    # No savepoint inside the caller's transaction; its own one when called alone.
    with transaction.atomic(savepoint=False):
        if open_alerts is None:
            stock_ids = [db_value(StockLevel, "stock_id", level.stock_id) for level in levels]
            open_alerts = dict(
                _OPEN_ALERT.rows(queries.open_alerts_of_sql(len(stock_ids)), stock_ids)
            )
        resolved, opened = [], []
        for level in levels:
            alert_id = open_alerts.get(level.stock_id)
            if level.quantity_on_hand > level.reorder_point and alert_id is not None:
                # An instance for the alerts resolved alone (a recalculation passes the open
                # alerts of up to 100,000 levels).
                resolved.append(ReorderAlert(alert_id=alert_id, stock_id=level.stock_id))
            elif level.quantity_on_hand <= level.reorder_point and alert_id is None:
                opened.append(
                    ReorderAlert(
                        stock_id=level.stock_id,
                        quantity_at_open=level.quantity_on_hand,
                        reorder_point_at_open=level.reorder_point,
                    )
                )
        if resolved:
            with connection.cursor() as cursor:
                cursor.execute(
                    queries.resolve_alerts_sql(len(resolved)),
                    [
                        db_value(ReorderAlert, "resolved_at", now),
                        *(db_value(ReorderAlert, "alert_id", alert.pk) for alert in resolved),
                    ],
                )
            record_events(entity="reorder_alert", action="resolved", objects=resolved, actor=actor)
        if opened:
            # The partial unique index lets at most one open alert exist; an open one stays as it
            # is (and an alert that was not written gets no event: see ``render_alerts``).
            ReorderAlert.objects.bulk_create(opened, ignore_conflicts=True)
            record_events(entity="reorder_alert", action="opened", objects=opened, actor=actor)


@dataclass(frozen=True)
class PointSet:
    """One level's new calculation as ``set_reorder_points`` stored it; ``reorder_point`` is
    None when the calculation skipped the level (it kept ``previous_reorder_point``)."""

    stock_id: UUID
    calculation_id: UUID
    previous_reorder_point: int
    reorder_point: int | None

    @property
    def changed(self):
        # In SQL, for the events of a batch: ``_record_points_changed``'s last condition.
        return self.reorder_point is not None and self.reorder_point != self.previous_reorder_point


@dataclass(frozen=True)
class IdRange:
    """The levels whose ids are from ``low`` to before ``high`` (None: no bound), in the order
    PostgreSQL sorts ``uuid`` (as Python sorts ``UUID``): a part of a recalculation."""

    low: UUID | None = None
    high: UUID | None = None

    def __contains__(self, stock_id):
        return (self.low is None or stock_id >= self.low) and (
            self.high is None or stock_id < self.high
        )

    def condition(self, alias):
        """(SQL to append to a ``WHERE`` on the levels aliased ``alias``, its parameters)."""
        sql, params = "", []
        if self.low is not None:
            sql += f" AND {alias}.stock_id >= %s"
            params.append(self.low)
        if self.high is not None:
            sql += f" AND {alias}.stock_id < %s"
            params.append(self.high)
        return sql, params


ALL_LEVELS = IdRange()


def set_reorder_points(
    *,
    computed=None,
    rows=(),
    location_id=None,
    item_type=None,
    stock_range=ALL_LEVELS,
    now=None,
    actor=SYSTEM_ACTOR,
    progress=None,
):
    """Store a reorder-point calculation for each level of a recalculation and set the levels'
    points from them (a skipped level keeps its point), set-based; then an event per level whose
    point moved, and the alerts of those levels synced (``sync_alerts``).

    The calculations, one per level, with the columns ``stock.figures.CALCULATION_INPUTS``:
    ``computed``, ``(sql, params)`` of a ``SELECT`` computing them in the database (PostgreSQL),
    and/or ``rows``, tuples computed by the caller (which win for a level in both). Only levels
    of the recalculation's scope (all, or a location's, or an item type's; within
    ``stock_range``, an ``IdRange``) are written; each calculation's ``previous_reorder_point``
    is its level's point when it is written. Returns a ``PointSet`` per level written, in
    ``stock_id`` order; ``progress(done, total)`` is called after each batch (an exception it
    raises stops the run there: the batches written stay).

    On PostgreSQL the calculations are first computed into a temporary table, with no lock
    held (the demand aggregate is most of a run's time); then ``WRITE_BATCH`` levels at a time,
    each batch one transaction: its levels locked in primary-key order, one statement that
    inserts their calculations and updates them, one that writes their events (the data built
    by the database: up to every level moves on a run, too many bodies to render in Python),
    then their alerts. So adjustments and receipts wait for one batch at most, never for the
    aggregate. Elsewhere (SQLite, for ``make run``; ``rows`` only) the ORM, in one
    transaction."""
    now = now or timezone.now()
    rows = list(rows)
    if connection.vendor != "postgresql":
        if computed is not None:
            raise ValueError("computed calculations need PostgreSQL; give rows")
        with transaction.atomic():
            written, figures, open_alerts = _set_points_portable(
                [row for row in rows if row[0] in stock_range],
                location_id=location_id,
                item_type=item_type,
            )
            _after_points_set(figures, open_alerts, now=now, actor=actor)
        if progress:
            progress(len(written), len(written))
        return written
    written = []
    scope = _scope(location_id=location_id, item_type=item_type, stock_range=stock_range)
    with _calculations_table(computed, rows, scope=scope) as ids:
        for start in range(0, len(ids), WRITE_BATCH):
            batch_ids = ids[start : start + WRITE_BATCH]
            with transaction.atomic():
                batch, figures, open_alerts = _set_points(batch_ids[0], batch_ids[-1])
                _record_points_changed(batch_ids[0], batch_ids[-1], actor=actor)
                sync_alerts(levels=figures, open_alerts=open_alerts, now=now, actor=actor)
            written += batch
            if progress:
                progress(len(written), len(ids))
    return written


def _after_points_set(figures, open_alerts, *, now, actor):
    record_events(
        entity="stock_level",
        action="reorder_point_changed",
        objects=[StockLevel(stock_id=level.stock_id) for level in figures],
        actor=actor,
    )
    sync_alerts(levels=figures, open_alerts=open_alerts, now=now, actor=actor)


def _record_points_changed(first, last, *, actor):
    """``reorder_point_changed`` for the levels from ``first`` to ``last`` whose point the
    calculation just written moved (``PointSet.changed``), in ``stock_id`` order, their data built
    by the database (``stock.presenters.stock_level_sql``: the body ``render_stock_levels``
    renders). One statement; no row goes through Python."""
    body, params = presenters.stock_level_sql("s", "c")
    record_events_from_query(
        entity="stock_level",
        action="reorder_point_changed",
        query=(
            f"SELECT s.stock_id::text AS subject, {body} AS data "
            f"FROM {CALCULATIONS_TABLE} t "
            "JOIN stock_levels s ON s.stock_id = t.stock_id "
            "JOIN reorder_point_calculations c ON c.calculation_id = s.reorder_calculation_id "
            "WHERE t.stock_id BETWEEN %s AND %s AND s.stock_id BETWEEN %s AND %s "
            "AND c.reorder_point <> c.previous_reorder_point "
            "ORDER BY s.stock_id"
        ),
        params=[*params, first, last, first, last],
        actor=actor,
    )


def _input_types():
    """The database types of ``CALCULATION_INPUTS`` (arrays of them carry ``rows``)."""
    meta = ReorderPointCalculation._meta
    return [meta.get_field(name).db_type(connection) for name in CALCULATION_INPUTS]


def _scope(*, location_id, item_type, stock_range):
    """(SQL condition on the levels aliased ``s``, its parameters) of a recalculation's scope."""
    conditions, params = ["TRUE"], []
    if location_id is not None:
        conditions.append("s.location_id = %s")
        params.append(_uuid(location_id, "location_id"))
    if item_type is not None:
        conditions.append("s.item_type = %s")
        params.append(item_type)
    range_sql, range_params = stock_range.condition("s")
    return " AND ".join(conditions) + range_sql, [*params, *range_params]


@contextmanager
def _calculations_table(computed, rows, *, scope):
    """The calculations of the levels of ``scope`` (``_scope``) in a temporary table
    (``CALCULATIONS_TABLE``), computed with no lock held; yields the ids of the levels they are
    for, in order. Dropped afterwards (``common.db.temporary_table``)."""
    where, scope_params = scope
    types = _input_types()
    columns = ", ".join(CALCULATION_INPUTS)
    sources, params = [], []
    if computed is not None:
        sql, computed_params = computed
        typed = ", ".join(
            f"computed.{name}::{db_type}"
            for name, db_type in zip(CALCULATION_INPUTS, types, strict=True)
        )
        sources.append(
            f"SELECT {typed} FROM ({sql}) AS computed "
            "WHERE NOT (computed.stock_id = ANY(%s::uuid[]))"
        )
        params += [*computed_params, [row[0] for row in rows]]
    if rows or computed is None:
        arrays = ", ".join(f"%s::{db_type}[]" for db_type in types)
        sources.append(f"SELECT * FROM unnest({arrays}) AS given ({columns})")
        params += [list(values) for values in zip(*rows, strict=True)] or [
            [] for _ in CALCULATION_INPUTS
        ]
    select = (
        f"SELECT * FROM ({' UNION ALL '.join(sources)}) AS calculated "
        "WHERE EXISTS (SELECT 1 FROM stock_levels s "
        f"WHERE s.stock_id = calculated.stock_id AND {where}) "
        # In order: a batch's rows are then together, a few pages of the table.
        "ORDER BY calculated.stock_id"
    )
    with temporary_table(CALCULATIONS_TABLE, select, [*params, *scope_params]) as cursor:
        # Each batch reads its rows by a range of ids: the planner needs their statistics
        # alone (no batch filters on another column of the table).
        cursor.execute(f"CREATE UNIQUE INDEX ON {CALCULATIONS_TABLE} (stock_id)")
        cursor.execute(f"ANALYZE {CALCULATIONS_TABLE} (stock_id)")
        cursor.execute(f"SELECT stock_id FROM {CALCULATIONS_TABLE} ORDER BY stock_id")
        yield [stock_id for (stock_id,) in cursor.fetchall()]


def _set_points(first, last):
    """Write the calculations of ``CALCULATIONS_TABLE`` for the levels from ``first`` to
    ``last`` (ids): lock those levels in primary-key order, then one statement inserts their
    calculations and updates them from them, reading the open alerts of the levels with them.
    Each statement reads the range through the primary key and the table's index."""
    columns = ", ".join(CALCULATION_INPUTS)
    prefixed = ", ".join(f"c.{name}" for name in CALCULATION_INPUTS)
    sql = f"""
        WITH inserted AS (
            INSERT INTO reorder_point_calculations (calculation_id, previous_reorder_point,
                                                    {columns})
            SELECT gen_random_uuid(), s.reorder_point, {prefixed}
            FROM {CALCULATIONS_TABLE} c JOIN stock_levels s ON s.stock_id = c.stock_id
            WHERE c.stock_id BETWEEN %(first)s AND %(last)s
              AND s.stock_id BETWEEN %(first)s AND %(last)s
            RETURNING calculation_id, stock_id, previous_reorder_point, reorder_point
        ),
        updated AS (
            UPDATE stock_levels AS s
            SET reorder_point = COALESCE(i.reorder_point, s.reorder_point),
                reorder_calculation_id = i.calculation_id
            FROM inserted i
            WHERE s.stock_id = i.stock_id AND s.stock_id BETWEEN %(first)s AND %(last)s
            RETURNING s.stock_id, s.quantity_on_hand, s.reorder_point
        )
        SELECT i.stock_id, i.calculation_id, i.previous_reorder_point, i.reorder_point,
               u.quantity_on_hand, a.alert_id
        FROM inserted i
        JOIN updated u ON u.stock_id = i.stock_id
        LEFT JOIN reorder_alerts a ON a.stock_id = i.stock_id AND a.resolved_at IS NULL
        ORDER BY i.stock_id
    """
    bounds = {"first": first, "last": last}
    written, figures, open_alerts = [], [], {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM stock_levels s "
            "WHERE s.stock_id BETWEEN %(first)s AND %(last)s AND s.stock_id IN ("
            f"SELECT c.stock_id FROM {CALCULATIONS_TABLE} c "
            "WHERE c.stock_id BETWEEN %(first)s AND %(last)s) "
            "ORDER BY s.stock_id FOR UPDATE OF s) AS locked",
            bounds,
        )
        cursor.execute(sql, bounds)
        for stock_id, calculation_id, previous, point, on_hand, alert_id in cursor:
            level = PointSet(stock_id, calculation_id, previous, point)
            written.append(level)
            if level.changed:
                figures.append(LevelFigures(stock_id, on_hand, point))
                if alert_id is not None:
                    open_alerts[stock_id] = alert_id
    return written, figures, open_alerts


def _set_points_portable(rows, *, location_id, item_type):
    levels = StockLevel.objects.select_for_update().order_by("stock_id")
    if location_id is not None:
        levels = levels.filter(location_id=location_id)
    if item_type is not None:
        levels = levels.filter(item_type=item_type)
    levels = {
        level.stock_id: level
        for level in levels.only("stock_id", "quantity_on_hand", "reorder_point")
    }
    calculations, changed, written = [], [], []
    for row in sorted(rows, key=lambda row: str(row[0])):
        values = dict(zip(CALCULATION_INPUTS, row, strict=True))
        level = levels.get(values["stock_id"])
        if level is None:
            continue
        calculation = ReorderPointCalculation(
            calculation_id=uuid4(), previous_reorder_point=level.reorder_point, **values
        )
        calculations.append(calculation)
        point = PointSet(
            level.stock_id, calculation.calculation_id, level.reorder_point, values["reorder_point"]
        )
        written.append(point)
        level.reorder_calculation_id = calculation.calculation_id
        if point.changed:
            level.reorder_point = point.reorder_point
            changed.append(level)
    ReorderPointCalculation.objects.bulk_create(calculations)
    updated = [levels[point.stock_id] for point in written]
    StockLevel.objects.bulk_update(
        updated, ["reorder_point", "reorder_calculation"], batch_size=500
    )
    return written, changed, None


def _reason(reason):
    try:
        return AdjustmentReason(reason)
    except ValueError:
        raise InvalidInput(f"'{reason}' is not an adjustment reason.", field="reason") from None


def _uuid(value, field):
    if value is None or isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInput(f"{field} is not a UUID.", field=field) from None


def _normalised(change):
    """The change with its ids as ``UUID``s (callers may pass strings), so that they compare
    equal to the ids of the rows read back."""
    return replace(
        change,
        stock_id=_uuid(change.stock_id, "stock_id"),
        location_id=_uuid(change.location_id, "location_id"),
    )


def _validate_amount(reason, change):
    delta, counted = change.quantity_delta, change.counted_quantity
    if change.stock_id is None:
        if not change.item_type:
            raise InvalidInput(
                "Give either stock_id, or item_type and location_id.", field="item_type"
            )
        if change.location_id is None:
            raise InvalidInput(
                "Give either stock_id, or item_type and location_id.", field="location_id"
            )
        if len(change.item_type) > ITEM_TYPE_MAX_LENGTH:
            raise InvalidInput(
                f"item_type is longer than {ITEM_TYPE_MAX_LENGTH} characters.", field="item_type"
            )
    if reason == AdjustmentReason.COUNT:
        if counted is None:
            raise InvalidInput("A count needs counted_quantity.", field="counted_quantity")
        if delta is not None:
            raise InvalidInput(
                "A count takes counted_quantity, not quantity_delta.", field="quantity_delta"
            )
        if not 0 <= counted <= MAX_ADJUSTMENT:
            raise InvalidInput(
                f"counted_quantity must be from 0 to {MAX_ADJUSTMENT}.", field="counted_quantity"
            )
        return
    if counted is not None:
        raise InvalidInput("Only a count takes counted_quantity.", field="counted_quantity")
    if delta is None:
        raise InvalidInput(f"A {reason} needs quantity_delta.", field="quantity_delta")
    rules = {
        AdjustmentReason.CORRECTION: (delta != 0, "must not be zero"),
        AdjustmentReason.DAMAGE: (delta < 0, "must be negative for damage"),
        AdjustmentReason.CONSUMPTION: (delta < 0, "must be negative for consumption"),
        AdjustmentReason.RECEIPT: (delta > 0, "must be positive for a receipt"),
        AdjustmentReason.PO_RECEIPT: (delta > 0, "must be positive for a receipt"),
    }
    ok, message = rules[reason]
    if abs(delta) > MAX_ADJUSTMENT:
        ok, message = False, f"must be from -{MAX_ADJUSTMENT} to {MAX_ADJUSTMENT}"
    if not ok:
        raise InvalidInput(f"quantity_delta {message}.", field="quantity_delta")


ADD_QUANTITIES_SQL = (
    'UPDATE "stock_levels" SET "quantity_on_hand" = "stock_levels"."quantity_on_hand" + v.delta'
    "{counted} FROM unnest(%s::uuid[], %s::integer[]) AS v (stock_id, delta) "
    'WHERE "stock_levels"."stock_id" = v.stock_id'
)


def _add_quantities(levels, deltas, *, counted_at=None):
    """Add ``deltas[stock_id]`` to each locked level's quantity (and set ``last_counted_at`` when
    given), relative to the row, never as a value computed in Python: on PostgreSQL one
    ``UPDATE ... FROM unnest(arrays)`` (two parameters, whatever the number of levels), elsewhere
    (SQLite, for ``make run``) ``bulk_update`` with ``F()`` expressions."""
    if connection.vendor != "postgresql":
        for level in levels:
            level.quantity_on_hand = F("quantity_on_hand") + deltas[level.stock_id]
            if counted_at is not None:
                level.last_counted_at = counted_at
        fields = (
            ["quantity_on_hand"] if counted_at is None else ["quantity_on_hand", "last_counted_at"]
        )
        StockLevel.objects.bulk_update(levels, fields)
        return
    counted = ', "last_counted_at" = %s' if counted_at is not None else ""
    with connection.cursor() as cursor:
        cursor.execute(
            ADD_QUANTITIES_SQL.format(counted=counted),
            [
                *([counted_at] if counted_at is not None else []),
                [level.stock_id for level in levels],
                [deltas[level.stock_id] for level in levels],
            ],
        )


def _insert_adjustments(adjustments):
    """Write the ledger rows (one ``INSERT`` of ``stock.queries``: every adjustment sends it;
    on SQLite one per batch its parameters allow) and set each one's ``created_at`` from the
    database, as ``bulk_create`` does."""
    rows = [
        [getattr(adjustment, name) for name in queries.ADJUSTMENT_INSERT_COLUMNS]
        for adjustment in adjustments
    ]
    returned = []
    with connection.cursor() as cursor:
        for count, params in _ADJUSTMENT_VALUES.batches(rows):
            cursor.execute(queries.insert_adjustments_sql(count), params)
            returned += _CREATED_AT.convert(cursor.fetchall())
    for adjustment, (created_at,) in zip(adjustments, returned, strict=True):
        adjustment.created_at = created_at
        # Saved, as ``bulk_create`` leaves them (``Model._state``, in Django's model instance
        # reference).
        adjustment._state.adding, adjustment._state.db = False, connection.alias


def _create_missing_levels(keys):
    """A level with nothing on hand and no point for each (item type, location) of ``keys``
    that has none, in key order (one ``INSERT ... ON CONFLICT DO NOTHING`` of
    ``stock.queries``; on SQLite one per batch its parameters allow)."""
    rows = [
        (uuid4(), item_type, location_id, 0, 0, 0, None, None)
        for item_type, location_id in sorted(keys, key=lambda k: (k[0], str(k[1])))
    ]
    with connection.cursor() as cursor:
        for count, params in _LEVEL_VALUES.batches(rows):
            cursor.execute(queries.create_levels_sql(count), params)


def _lock_levels(*, stock_ids, keys):
    """Lock the levels named by id or by (item_type, location_id), in primary-key order (one
    statement of ``stock.queries``: every adjustment sends it)."""
    stock_ids, keys = list(stock_ids), list(keys)
    if not stock_ids and not keys:
        return []
    params = [db_value(StockLevel, "stock_id", stock_id) for stock_id in stock_ids]
    for item_type, location_id in keys:
        params += [item_type, db_value(StockLevel, "location_id", location_id)]
    sql = queries.lock_levels_sql(
        ids=len(stock_ids), keys=len(keys), lock=connection.features.has_select_for_update
    )
    return _LEVEL.read(sql, params)


def _not_found(change):
    if change.stock_id is not None:
        return NotFound(f"No stock level {change.stock_id}.", field="stock_id")
    return NotFound(
        f"No stock level for {change.item_type} at {change.location_id}.", field="item_type"
    )


@retry_on_transient_conflict
def create_stock_level(
    *, item_type, location_id, reorder_point, reorder_quantity, actor=SYSTEM_ACTOR
):
    """Register a stock level with nothing on hand (stock only ever arrives through adjustments)
    and open its alert at once when 0 is at or below its point. ``Conflict`` if the
    (item_type, location_id) already has a level."""
    item_type = (item_type or "").strip()
    if not item_type or len(item_type) > ITEM_TYPE_MAX_LENGTH:
        raise InvalidInput(
            f"item_type is 1 to {ITEM_TYPE_MAX_LENGTH} characters.", field="item_type"
        )
    location_id = _uuid(location_id, "location_id")
    if location_id is None:
        raise InvalidInput("location_id is required.", field="location_id")
    for field, value in (("reorder_point", reorder_point), ("reorder_quantity", reorder_quantity)):
        if value is None or not 0 <= value <= MAX_QUANTITY:
            raise InvalidInput(f"{field} must be from 0 to {MAX_QUANTITY}.", field=field)
    try:
        with transaction.atomic():
            level = StockLevel.objects.create(
                item_type=item_type,
                location_id=location_id,
                quantity_on_hand=0,
                reorder_point=reorder_point,
                reorder_quantity=reorder_quantity,
            )
            sync_alerts(levels=[level], actor=actor)
    except IntegrityError:
        raise Conflict(
            f"{item_type} at {location_id} already has a stock level.",
            code="duplicate_stock_level",
            field="item_type",
        ) from None
    return level


def link_alerts_to_purchase_order(*, alert_ids, po_id):
    """Record on open alerts the purchase order raised for them (one ``UPDATE``); returns how
    many were linked. The caller holds the alerts' row locks."""
    return ReorderAlert.objects.filter(pk__in=list(alert_ids), resolved_at__isnull=True).update(
        po_id=po_id
    )
