import uuid

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now


class StockLevel(models.Model):
    """Current stock of one gear category at one location (table ``stock_levels``).

    ``quantity_on_hand`` only ever changes through ``stock.services``, which writes a
    ``StockAdjustment`` for every change: the level always equals the sum of its adjustments.
    """

    stock_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item_type = models.CharField(max_length=50, help_text="Gear category from svc-gear-inventory.")
    location_id = models.UUIDField()
    quantity_on_hand = models.IntegerField(editable=False)
    reorder_point = models.IntegerField()
    reorder_quantity = models.IntegerField()
    last_counted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "stock_levels"
        ordering = ["item_type", "location_id"]
        indexes = [
            models.Index(
                fields=["quantity_on_hand"],
                name="idx_stock_reorder",
                condition=Q(quantity_on_hand__lte=F("reorder_point")),
            ),
            # The dashboard lists a location's stock; the unique index leads with item_type.
            models.Index(fields=["location_id", "item_type"], name="idx_stock_location"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["item_type", "location_id"], name="idx_stock_item_loc"),
            models.CheckConstraint(
                condition=Q(quantity_on_hand__gte=0), name="stock_levels_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0), name="stock_levels_reorder_point_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(reorder_quantity__gte=0),
                name="stock_levels_reorder_quantity_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.item_type} @ {self.location_id}"

    @property
    def below_reorder_point(self):
        return self.quantity_on_hand <= self.reorder_point


class AdjustmentReason(models.TextChoices):
    CORRECTION = "correction", "Manual correction"
    DAMAGE = "damage", "Damage write-off"
    RECEIPT = "receipt", "Receipt outside the PO flow"
    CONSUMPTION = "consumption", "Consumption"
    COUNT = "count", "Physical count"
    PO_RECEIPT = "po_receipt", "Purchase order receipt"


class StockAdjustment(models.Model):
    """One change of a stock level's quantity: the ledger (table ``stock_adjustments``).

    Rows are only ever inserted. ``po_id`` names the purchase order a ``po_receipt`` came from;
    it is a plain column, not a foreign key, because the stock app must not depend on procurement.
    """

    adjustment_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stock = models.ForeignKey(
        StockLevel,
        on_delete=models.PROTECT,
        db_column="stock_id",
        related_name="adjustments",
        db_index=False,
    )
    reason = models.CharField(max_length=20, choices=AdjustmentReason.choices)
    quantity_delta = models.IntegerField()
    quantity_after = models.IntegerField()
    counted_quantity = models.IntegerField(null=True, blank=True)
    note = models.TextField(blank=True, default="", db_default="")
    adjusted_by = models.CharField(max_length=150, help_text="Username of who made it.")
    po_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "stock_adjustments"
        ordering = ["-created_at", "adjustment_id"]
        indexes = [
            models.Index(fields=["stock", "created_at"], name="idx_adjustment_stock_time"),
            models.Index(
                fields=["created_at", "stock"],
                name="idx_adjustment_consumption",
                condition=Q(reason="consumption"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reason__in=[choice.value for choice in AdjustmentReason]),
                name="stock_adjustments_reason_known",
            ),
            models.CheckConstraint(
                condition=Q(quantity_after__gte=0),
                name="stock_adjustments_quantity_after_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(reason="count") | ~Q(quantity_delta=0),
                name="stock_adjustments_delta_non_zero",
            ),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="stock_adjustments_counted_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.reason} {self.quantity_delta:+d} -> {self.quantity_after}"


class ReorderAlert(models.Model):
    """A stock level at or below its reorder point (table ``reorder_alerts``).

    Open while ``resolved_at`` is null; the database allows one open alert per stock level.
    ``po_id`` links the alert to the draft purchase order raised for it (no foreign key: the stock
    app must not depend on procurement).
    """

    alert_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stock = models.ForeignKey(
        StockLevel, on_delete=models.PROTECT, db_column="stock_id", related_name="alerts"
    )
    quantity_at_open = models.IntegerField()
    reorder_point_at_open = models.IntegerField()
    po_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "reorder_alerts"
        ordering = ["created_at", "alert_id"]
        indexes = [
            models.Index(
                fields=["created_at"], name="idx_alert_open", condition=Q(resolved_at__isnull=True)
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["stock"],
                condition=Q(resolved_at__isnull=True),
                name="uniq_open_alert_per_stock",
            ),
        ]

    def __str__(self):
        state = "resolved" if self.resolved_at else "open"
        return f"alert {state}: {self.stock_id}"

    @property
    def is_open(self):
        return self.resolved_at is None
