from decimal import Decimal

from rest_framework import serializers

from procurement_site.api.fields import (
    DecimalStringField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
    StrictUUIDField,
)
from suppliers import services
from suppliers.models import MAX_LEAD_TIME_DAYS, MAX_ORDER_QUANTITY, Supplier, SupplierItem

# 0.00 to 5.00 with at most two decimals, as the text a client sends.
CURRENCY_PATTERN = r"^[A-Za-z]{3}$"
RATING_PATTERN = r"^([0-4](\.[0-9]{1,2})?|5(\.0{1,2})?)$"


class SupplierSerializer(serializers.ModelSerializer):
    name = StrictCharField(max_length=200, allow_blank=False, trim_whitespace=True)
    contact_email = StrictEmailField(max_length=255)
    lead_time_days = StrictIntegerField(
        min_value=0, max_value=MAX_LEAD_TIME_DAYS, help_text="Declared lead time, in days."
    )
    rating = DecimalStringField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("0.00"),
        max_value=Decimal("5.00"),
        pattern=RATING_PATTERN,
        allow_null=True,
        required=False,
        help_text='From "0.00" to "5.00", or null.',
    )
    active = StrictBooleanField(required=False, default=True)

    class Meta:
        model = Supplier
        fields = [
            "supplier_id",
            "name",
            "contact_email",
            "lead_time_days",
            "rating",
            "active",
            "created_at",
            "expected_lead_time_days",
            "lead_time_stddev_days",
            "on_time_rate",
            "in_full_rate",
            "receipts_count",
        ]
        read_only_fields = [
            "supplier_id",
            "created_at",
            "expected_lead_time_days",
            "lead_time_stddev_days",
            "on_time_rate",
            "in_full_rate",
            "receipts_count",
        ]


def render_suppliers(suppliers):
    """Event ``data`` of suppliers as the API returns them (no queries)."""
    return [SupplierSerializer(supplier).data for supplier in suppliers]


def _unit_price_field(**kwargs):
    return DecimalStringField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.00"),
        max_value=services.MAX_UNIT_PRICE,
        help_text='Money: a decimal string with at most two decimals, e.g. "149.99".',
        **kwargs,
    )


class SupplierItemUpdateSerializer(serializers.Serializer):
    """A catalog entry's terms, each optional; its supplier and item type do not change."""

    supplier_sku = StrictCharField(
        max_length=services.MAX_SKU_LENGTH,
        allow_blank=True,
        required=False,
        help_text="The supplier's own code for the item.",
    )
    unit_price = _unit_price_field(required=False)
    currency = StrictCharField(
        required=False,
        pattern=CURRENCY_PATTERN,
        trim_whitespace=False,
        help_text="ISO 4217 code, any case; default USD.",
    )
    min_order_quantity = StrictIntegerField(
        min_value=1,
        max_value=MAX_ORDER_QUANTITY,
        required=False,
        help_text="The least the supplier sells in one order; default 1.",
    )
    order_multiple = StrictIntegerField(
        min_value=1,
        max_value=MAX_ORDER_QUANTITY,
        required=False,
        help_text="The pack size: quantities are ordered in multiples of it; default 1.",
    )
    lead_time_days = StrictIntegerField(
        min_value=0,
        max_value=services.MAX_LEAD_TIME_DAYS,
        allow_null=True,
        required=False,
        help_text="Days from order to delivery for this item; null: the supplier's.",
    )
    preferred = StrictBooleanField(
        required=False,
        help_text="The supplier to buy this item type from; making one preferred un-prefers "
        "the item type's previous preferred supplier.",
    )


class SupplierItemCreateSerializer(SupplierItemUpdateSerializer):
    supplier_id = StrictUUIDField(help_text="An existing supplier.")
    item_type = StrictCharField(
        max_length=services.MAX_ITEM_TYPE_LENGTH,
        allow_blank=False,
        help_text="Gear category from svc-gear-inventory.",
    )
    unit_price = _unit_price_field()


class SupplierItemSerializer(serializers.ModelSerializer):
    supplier_id = serializers.UUIDField(read_only=True)
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)

    class Meta:
        model = SupplierItem
        fields = [
            "supplier_item_id",
            "supplier_id",
            "supplier_name",
            "item_type",
            "supplier_sku",
            "unit_price",
            "currency",
            "min_order_quantity",
            "order_multiple",
            "lead_time_days",
            "preferred",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
