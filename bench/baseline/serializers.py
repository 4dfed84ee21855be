"""ModelSerializers of the baseline: the fields of the app's bodies, roughly (docs/benchmark.md
lists what differs)."""

from rest_framework import serializers

from procurement.models import POApproval, POLineItem, POStatusChange, PurchaseOrder, Receipt
from stock.models import ReorderAlert, ReorderPointCalculation, StockAdjustment, StockLevel


class ReorderPointCalculationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReorderPointCalculation
        exclude = ["stock"]


class StockLevelSerializer(serializers.ModelSerializer):
    below_reorder_point = serializers.ReadOnlyField()
    reorder_calculation = ReorderPointCalculationSerializer(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "stock_id",
            "item_type",
            "location_id",
            "quantity_on_hand",
            "reorder_point",
            "reorder_quantity",
            "last_counted_at",
            "below_reorder_point",
            "reorder_calculation",
        ]


class StockAdjustmentSerializer(serializers.ModelSerializer):
    stock_id = serializers.PrimaryKeyRelatedField(source="stock", queryset=StockLevel.objects.all())
    item_type = serializers.CharField(source="stock.item_type", read_only=True)
    location_id = serializers.UUIDField(source="stock.location_id", read_only=True)
    quantity_on_hand = serializers.IntegerField(source="stock.quantity_on_hand", read_only=True)

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
        read_only_fields = ["quantity_after", "adjusted_by", "created_at"]


class ReorderAlertSerializer(serializers.ModelSerializer):
    stock_id = serializers.UUIDField(read_only=True)
    item_type = serializers.CharField(source="stock.item_type", read_only=True)
    location_id = serializers.UUIDField(source="stock.location_id", read_only=True)
    quantity_on_hand = serializers.IntegerField(source="stock.quantity_on_hand", read_only=True)
    reorder_point = serializers.IntegerField(source="stock.reorder_point", read_only=True)
    reorder_quantity = serializers.IntegerField(source="stock.reorder_quantity", read_only=True)
    quantity_on_order = serializers.IntegerField(read_only=True)

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
            "quantity_on_order",
            "created_at",
        ]


class LineItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = POLineItem
        fields = [
            "line_item_id",
            "line_number",
            "item_type",
            "location_id",
            "quantity",
            "unit_price",
            "line_total",
            "quantity_received",
        ]


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = POStatusChange
        fields = ["from_status", "to_status", "changed_by", "changed_at", "reason"]


class ApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = POApproval
        fields = ["approved_by", "approved_at"]


class ReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = Receipt
        fields = ["receipt_id", "received_by", "received_at", "note"]


class PurchaseOrderSerializer(serializers.ModelSerializer):
    """Every field read-only but ``status``, which the view moves (``PurchaseOrderViewSet``)."""

    supplier_id = serializers.UUIDField(read_only=True)
    is_overdue = serializers.ReadOnlyField()
    approvals = ApprovalSerializer(many=True, read_only=True)
    line_items = LineItemSerializer(many=True, read_only=True)
    status_history = StatusChangeSerializer(many=True, read_only=True)
    receipts = ReceiptSerializer(many=True, read_only=True)

    class Meta:
        model = PurchaseOrder
        fields = [
            "po_id",
            "supplier_id",
            "status",
            "total_amount",
            "currency",
            "approved_by",
            "submitted_at",
            "approved_at",
            "created_at",
            "created_by",
            "expected_delivery_date",
            "received_at",
            "sent_to_supplier_at",
            "is_overdue",
            "approvals",
            "line_items",
            "status_history",
            "receipt_status",
            "receipts",
        ]
        read_only_fields = [name for name in fields if name != "status"]
