import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now

from common.fields import FixedCharField
from suppliers.figures import MAX_LEAD_TIME_DAYS


class Supplier(models.Model):
    """An approved supplier (table ``suppliers``), with performance learned from receipts."""

    supplier_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(max_length=255)
    lead_time_days = models.IntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_LEAD_TIME_DAYS)],
        help_text=f"Declared lead time, in days (0 to {MAX_LEAD_TIME_DAYS}).",
    )
    rating = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    active = models.BooleanField(default=True, db_default=True)
    # Not on the service page: ordering by newest and auditing need a creation time.
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    # Performance figures, read-only through the API, computed from received purchase orders.
    expected_lead_time_days = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        editable=False,
        help_text="Exponentially weighted average of actual lead times (seeded with the declared).",
    )
    lead_time_stddev_days = models.DecimalField(
        max_digits=8,
        decimal_places=3,
        null=True,
        blank=True,
        editable=False,
        help_text="Sample standard deviation of the last 10 actual lead times.",
    )
    on_time_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        editable=False,
        help_text="Share of POs received in the last 365 days on or before their expected date.",
    )
    in_full_rate = models.DecimalField(
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        editable=False,
        help_text="Share of POs received in the last 365 days that were not closed short.",
    )
    receipts_count = models.IntegerField(default=0, db_default=0, editable=False)

    class Meta:
        db_table = "suppliers"
        ordering = ["name", "supplier_id"]
        indexes = [models.Index(fields=["active"], name="idx_supplier_active")]
        constraints = [
            models.CheckConstraint(
                condition=Q(lead_time_days__gte=0), name="suppliers_lead_time_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(lead_time_days__lte=MAX_LEAD_TIME_DAYS),
                name="suppliers_lead_time_at_most_3650",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=0, rating__lte=5),
                name="suppliers_rating_0_to_5",
            ),
        ]

    def __str__(self):
        return self.name


class SupplierDeliveryDay(models.Model):
    """The purchase orders of one supplier completed (moved to ``received``) on one day: the
    running totals the 365-day rates are computed from (table ``supplier_delivery_days``).

    One row per supplier and day, incremented by ``suppliers.services.record_completed_order``;
    a rate over the last 365 days reads at most 366 rows per supplier through the unique index.
    """

    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.CASCADE,
        db_column="supplier_id",
        related_name="delivery_days",
        db_index=False,
    )
    day = models.DateField()
    completed_count = models.IntegerField(default=0, db_default=0)
    # POs with an expected delivery date (the on-time rate's denominator), and those on time.
    judged_count = models.IntegerField(default=0, db_default=0)
    on_time_count = models.IntegerField(default=0, db_default=0)
    in_full_count = models.IntegerField(default=0, db_default=0)

    class Meta:
        db_table = "supplier_delivery_days"
        ordering = ["supplier", "day"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "day"], name="supplier_delivery_days_key"),
            models.CheckConstraint(
                condition=Q(
                    judged_count__lte=models.F("completed_count"),
                    on_time_count__lte=models.F("judged_count"),
                    in_full_count__lte=models.F("completed_count"),
                    on_time_count__gte=0,
                    in_full_count__gte=0,
                ),
                name="supplier_delivery_days_counts_consistent",
            ),
        ]

    def __str__(self):
        return f"{self.supplier_id} {self.day}: {self.completed_count} completed"


class LeadTimeObservation(models.Model):
    """One receipt's actual lead time and the supplier's learned figures right after it (table
    ``supplier_lead_times``): the history behind ``expected_lead_time_days``.

    Written by the service that learns lead times, one row per received purchase order; only
    ever inserted. ``po_id`` is a plain column, not a foreign key: suppliers must not depend on
    procurement.
    """

    observation_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.CASCADE,
        db_column="supplier_id",
        related_name="lead_time_history",
        db_index=False,
    )
    po_id = models.UUIDField()
    received_at = models.DateTimeField()
    actual_lead_time_days = models.FloatField(help_text="received_at - approved_at, in days.")
    expected_lead_time_days = models.DecimalField(
        max_digits=8, decimal_places=3, help_text="The learned lead time after this receipt."
    )
    lead_time_stddev_days = models.DecimalField(
        max_digits=8, decimal_places=3, help_text="The learned spread after this receipt."
    )
    receipts_count = models.IntegerField(help_text="Receipts counted, this one included.")

    class Meta:
        db_table = "supplier_lead_times"
        ordering = ["supplier", "received_at", "observation_id"]
        indexes = [
            models.Index(fields=["supplier", "received_at"], name="idx_lead_time_supplier_time")
        ]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "po_id"], name="uniq_lead_time_per_po"),
        ]

    def __str__(self):
        return f"{self.actual_lead_time_days:.1f} days (learned {self.expected_lead_time_days})"


# Bounds of the catalog's quantities: those of a purchase order line.
MAX_ORDER_QUANTITY = 1_000_000
PREFERRED_INDEX = "supplier_items_one_preferred_per_item"


class SupplierItem(models.Model):
    """What a supplier sells of one item type, and on what terms (table ``supplier_items``):
    its SKU, price, minimum order, pack size (``order_multiple``) and lead time (null: the
    supplier's). At most one supplier is preferred per item type (a partial unique index);
    ``suppliers.services`` moves the preference under a per-item-type lock."""

    supplier_item_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey(
        Supplier,
        on_delete=models.PROTECT,
        db_column="supplier_id",
        related_name="catalog_items",
        db_index=False,
    )
    item_type = models.CharField(max_length=50, help_text="Gear category from svc-gear-inventory.")
    supplier_sku = models.CharField(
        max_length=100, blank=True, default="", db_default="", help_text="The supplier's code."
    )
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = FixedCharField(max_length=3, default="USD", db_default="USD")
    min_order_quantity = models.IntegerField(default=1, db_default=1)
    order_multiple = models.IntegerField(default=1, db_default=1)
    lead_time_days = models.IntegerField(
        null=True, blank=True, help_text="Days from order to delivery; empty: the supplier's."
    )
    preferred = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "supplier_items"
        ordering = ["item_type", "supplier_id"]
        verbose_name = "supplier item"
        indexes = [models.Index(fields=["item_type"], name="idx_supplier_item_type")]
        constraints = [
            models.UniqueConstraint(
                fields=["supplier", "item_type"], name="supplier_items_one_per_supplier_item"
            ),
            models.UniqueConstraint(
                fields=["item_type"],
                condition=Q(preferred=True),
                name=PREFERRED_INDEX,
            ),
            models.CheckConstraint(
                condition=~Q(item_type=""), name="supplier_items_item_type_not_empty"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="supplier_items_unit_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(min_order_quantity__gte=1, min_order_quantity__lte=MAX_ORDER_QUANTITY),
                name="supplier_items_min_order_quantity_range",
            ),
            models.CheckConstraint(
                condition=Q(order_multiple__gte=1, order_multiple__lte=MAX_ORDER_QUANTITY),
                name="supplier_items_order_multiple_range",
            ),
            models.CheckConstraint(
                condition=Q(lead_time_days__isnull=True) | Q(lead_time_days__gte=0),
                name="supplier_items_lead_time_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.item_type} from {self.supplier_id}"

    def get_constraints(self):
        """Model validation (forms) skips the one-preferred index: making an entry preferred
        is allowed and un-prefers the other one (``suppliers.services``); the index guards the
        database."""
        return [
            (model_class, [c for c in constraints if c.name != PREFERRED_INDEX])
            for model_class, constraints in super().get_constraints()
        ]
