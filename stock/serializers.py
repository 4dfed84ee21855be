from rest_framework import serializers

from procurement_site.api.fields import (
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictUUIDField,
)
from stock import presenters
from stock.figures import CALCULATION_FIELDS, LEVEL_COLUMNS
from stock.models import ReorderAlert, ReorderPointCalculation, StockAdjustment, StockLevel
from stock.selectors import alert_rows, alerts_with_figures, list_stock_levels, stock_level_rows
from stock.services import CLIENT_REASONS, ITEM_TYPE_MAX_LENGTH, MAX_ADJUSTMENT, NOTE_MAX_LENGTH


class ReorderPointCalculationSerializer(serializers.ModelSerializer):
    """The working behind a level's reorder point: the inputs and result of its latest
    recalculation (``reorder_point`` is null when the level was skipped)."""

    class Meta:
        model = ReorderPointCalculation
        fields = list(CALCULATION_FIELDS)
        read_only_fields = fields


class StockLevelSerializer(serializers.ModelSerializer):
    """A stock level as listed. Subclass it, or extend ``Meta.fields``, to show more of a level."""

    below_reorder_point = serializers.BooleanField(
        read_only=True, help_text="`quantity_on_hand` is at or below `reorder_point`."
    )
    reorder_calculation = ReorderPointCalculationSerializer(
        read_only=True,
        allow_null=True,
        help_text="How the reorder point was last computed from consumption; null if never.",
    )

    class Meta:
        model = StockLevel
        fields = [*LEVEL_COLUMNS, "below_reorder_point", "reorder_calculation"]
        read_only_fields = fields


class StockAdjustmentCreateSerializer(serializers.Serializer):
    """An adjustment to record. Name the stock level by `stock_id` or by (`item_type`,
    `location_id`); an explicit `null` counts as not given. The shape only: the rules (one way
    of naming the level, the amount each reason takes) are ``stock.services``'."""

    stock_id = StrictUUIDField(
        required=False, allow_null=True, help_text="The stock level; or give both of the next two."
    )
    item_type = StrictCharField(
        required=False,
        allow_null=True,
        max_length=ITEM_TYPE_MAX_LENGTH,
        help_text="With `location_id`, names the stock level instead of `stock_id`.",
    )
    location_id = StrictUUIDField(
        required=False, allow_null=True, help_text="With `item_type`, names the stock level."
    )
    reason = StrictChoiceField(
        choices=[(reason.value, reason.label) for reason in CLIENT_REASONS],
        help_text=(
            "`correction` (any non-zero delta), `damage` and `consumption` (negative delta), "
            "`receipt` (positive delta; creates the stock level if missing), `count` "
            "(`counted_quantity`). `po_receipt` is written by purchase orders only."
        ),
    )
    quantity_delta = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text="The change; for every reason but `count`. At most 1,000,000 units either way.",
    )
    counted_quantity = StrictIntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=MAX_ADJUSTMENT,
        help_text="The quantity counted; for `count` only. At most 1,000,000.",
    )
    note = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_LENGTH,
        default="",
        help_text="Why, for the ledger.",
    )


class StockAdjustmentSerializer(serializers.ModelSerializer):
    """An adjustment as recorded, with its stock level's quantity after it."""

    stock_id = serializers.UUIDField(read_only=True)
    item_type = serializers.CharField(source="stock.item_type", read_only=True)
    location_id = serializers.UUIDField(source="stock.location_id", read_only=True)
    quantity_on_hand = serializers.IntegerField(
        source="stock.quantity_on_hand",
        read_only=True,
        help_text="The stock level's quantity now (after this adjustment).",
    )

    class Meta:
        model = StockAdjustment
        fields = [
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
        ]
        read_only_fields = fields


class ReorderAlertSerializer(serializers.ModelSerializer):
    """An open alert with its stock level's figures as they are now."""

    stock_id = serializers.UUIDField(read_only=True)
    item_type = serializers.CharField(source="stock.item_type", read_only=True)
    location_id = serializers.UUIDField(source="stock.location_id", read_only=True)
    quantity_on_hand = serializers.IntegerField(source="stock.quantity_on_hand", read_only=True)
    reorder_point = serializers.IntegerField(source="stock.reorder_point", read_only=True)
    reorder_quantity = serializers.IntegerField(source="stock.reorder_quantity", read_only=True)
    quantity_on_order = serializers.IntegerField(
        read_only=True,
        help_text="Units on approved and shipped purchase orders not yet received.",
    )
    suggested_quantity = serializers.IntegerField(
        read_only=True,
        help_text=(
            "max(0, reorder_point + reorder_quantity - quantity_on_hand - quantity_on_order)."
        ),
    )

    class Meta:
        model = ReorderAlert
        fields = [
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
        ]
        read_only_fields = fields


def render_adjustments(adjustments):
    """Event ``data`` of recorded adjustments (their ``stock`` as it is after them): as
    ``POST /stock-adjustments`` returns them, without queries."""
    return presenters.adjustments(adjustments)


def render_alerts(alerts):
    """Event ``data`` of alerts as ``GET /reorder-alerts`` returns them, their figures as they
    are now (one query); ``None`` for an alert that was not written."""
    rows = alert_rows(alerts_with_figures(alert_ids=[a.pk for a in alerts]))
    found = {body["alert_id"]: body for body in presenters.alerts(rows)}
    return [found.get(str(alert.pk)) for alert in alerts]


def render_stock_levels(levels):
    """Event ``data`` of stock levels as ``GET /stock-levels`` returns them (one query)."""
    rows = stock_level_rows(list_stock_levels().filter(pk__in=[lv.pk for lv in levels]))
    found = {body["stock_id"]: body for body in presenters.stock_levels(rows)}
    return [found[str(level.pk)] for level in levels]
