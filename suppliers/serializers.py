from decimal import Decimal

from rest_framework import serializers

from procurement_site.api.fields import (
    DecimalStringField,
    StrictBooleanField,
    StrictCharField,
    StrictEmailField,
    StrictIntegerField,
)
from suppliers.models import MAX_LEAD_TIME_DAYS, Supplier

# 0.00 to 5.00 with at most two decimals, as the text a client sends.
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
