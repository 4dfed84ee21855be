from decimal import Decimal

from rest_framework import serializers

from suppliers.models import Supplier


class SupplierSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=200, allow_blank=False, trim_whitespace=True)
    contact_email = serializers.EmailField(max_length=255)
    lead_time_days = serializers.IntegerField(min_value=0, max_value=3650)
    rating = serializers.DecimalField(
        max_digits=3,
        decimal_places=2,
        min_value=Decimal("0.00"),
        max_value=Decimal("5.00"),
        allow_null=True,
        required=False,
    )
    active = serializers.BooleanField(required=False, default=True)

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
            "receipts_count",
        ]
        read_only_fields = [
            "supplier_id",
            "created_at",
            "expected_lead_time_days",
            "lead_time_stddev_days",
            "on_time_rate",
            "receipts_count",
        ]
