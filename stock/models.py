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
    # Not on the service page: the latest reorder point calculation (computed or skipped), so that
    # a list of levels shows its working with one join. Written by the recalculation only.
    # Not indexed: nothing looks levels up by calculation (calculations are never deleted), and
    # without an index on it a recalculation that leaves the point as it was is a HOT update.
    reorder_calculation = models.ForeignKey(
        "ReorderPointCalculation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_column="reorder_calculation_id",
        db_index=False,
        related_name="+",
    )

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
            # The page of levels below their point, in the list's default order: PostgreSQL
            # guesses a column-to-column condition matches a third of the rows, so without this
            # it walks the whole unique index to fill a page.
            models.Index(
                fields=["item_type", "location_id"],
                name="idx_stock_below_reorder",
                condition=Q(quantity_on_hand__lte=F("reorder_point")),
            ),
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
    # The receipt (procurement's ``po_receipts``) a ``po_receipt`` adjustment belongs to.
    receipt_id = models.UUIDField(null=True, blank=True, db_index=True)
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


class LeadTimeSource(models.TextChoices):
    CATALOG = "catalog", "Preferred catalog supplier of this item type"
    LOCATION = "location", "Supplier of the latest PO for this item type and location"
    ITEM_TYPE = "item_type", "Supplier of the latest PO for this item type"
    DEFAULT = "default", "Default lead time setting"


class SkipReason(models.TextChoices):
    SHORT_HISTORY = "short_history", "Fewer than 14 days of history"
    NO_DEMAND = "no_demand", "No consumption in the window"
    NO_SEASONAL_HISTORY = "no_seasonal_history", "Less than a year plus the window of history"
    NO_SEASONAL_TREND = "no_seasonal_trend", "No consumption in the window one year earlier"


class DemandMethod(models.TextChoices):
    STATIONARY = "stationary", "Stationary (the window's demand)"
    SEASONAL = "seasonal", "Seasonal (the same days one year earlier, times the trend)"


class ReorderPointCalculation(models.Model):
    """The inputs and result of one reorder point computation for one stock level (table
    ``reorder_point_calculations``), so that staff can see why a point is what it is.

    ``reorder_point`` = ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)) with L' = L + review days, or
    null when the level was skipped (``skipped_reason``) and its point left as it was.
    ``supplier_id`` is the supplier the lead time came from: a plain column, not a foreign key,
    because the stock app must not depend on suppliers. Rows are only ever inserted.
    """

    calculation_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    stock = models.ForeignKey(
        StockLevel,
        on_delete=models.CASCADE,
        db_column="stock_id",
        related_name="reorder_calculations",
        db_index=False,
    )
    computed_at = models.DateTimeField()
    window_days = models.IntegerField(help_text="Days of consumption looked at.")
    history_days = models.IntegerField(
        help_text="Days in the demand series: the window, or fewer if the level is younger."
    )
    mean_daily_demand = models.FloatField(help_text="d: mean units consumed per day.")
    demand_stddev = models.FloatField(help_text="s_d: sample standard deviation of daily demand.")
    lead_time_days = models.FloatField(help_text="L: expected lead time, at least 1 day.")
    lead_time_stddev_days = models.FloatField(help_text="s_L: spread of the lead time.")
    lead_time_source = models.CharField(max_length=20, choices=LeadTimeSource.choices)
    supplier_id = models.UUIDField(null=True, blank=True)
    review_days = models.IntegerField()
    service_level = models.FloatField()
    z = models.FloatField(help_text="Normal quantile of the service level.")
    previous_reorder_point = models.IntegerField()
    reorder_point = models.IntegerField(null=True, blank=True)
    skipped_reason = models.CharField(
        max_length=20, choices=SkipReason.choices, null=True, blank=True
    )
    # How d and s_d were estimated; the seasonal figures are null for the stationary method.
    method = models.CharField(
        max_length=20,
        choices=DemandMethod.choices,
        default=DemandMethod.STATIONARY,
        db_default=DemandMethod.STATIONARY,
    )
    seasonal_sample_days = models.IntegerField(
        null=True,
        blank=True,
        help_text="Days sampled one year earlier: the coming L' days, widened to at least 28.",
    )
    seasonal_base_demand = models.FloatField(
        null=True, blank=True, help_text="Mean daily demand over those days."
    )
    seasonal_base_stddev = models.FloatField(
        null=True, blank=True, help_text="Sample standard deviation of daily demand over them."
    )
    seasonal_window_total = models.IntegerField(
        null=True, blank=True, help_text="Units consumed over the last window."
    )
    seasonal_window_total_last_year = models.IntegerField(
        null=True, blank=True, help_text="Units consumed over the same window one year earlier."
    )
    seasonal_trend = models.FloatField(
        null=True,
        blank=True,
        help_text="The last window's demand over the same window's a year earlier.",
    )

    class Meta:
        db_table = "reorder_point_calculations"
        ordering = ["-computed_at", "calculation_id"]
        indexes = [
            models.Index(fields=["stock", "-computed_at"], name="idx_reorder_calc_stock_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(reorder_point__isnull=True, skipped_reason__isnull=False)
                | Q(reorder_point__gte=0, skipped_reason__isnull=True),
                name="reorder_calc_result_or_skip_reason",
            ),
        ]

    def __str__(self):
        result = self.skipped_reason if self.reorder_point is None else self.reorder_point
        return f"reorder point {self.previous_reorder_point} -> {result}"

    @property
    def skipped(self):
        return self.reorder_point is None
