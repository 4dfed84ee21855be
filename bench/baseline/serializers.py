"""ModelSerializers of the baseline: the fields of the app's bodies, roughly (docs/benchmark.md
lists what differs)."""

from rest_framework import serializers

from procurement import serializers as app_procurement
from procurement.models import POApproval, POLineItem, POStatusChange, PurchaseOrder, Receipt
from stock import serializers as app_stock
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
        fields = app_stock.StockLevelSerializer.Meta.fields


class StockAdjustmentSerializer(serializers.ModelSerializer):
    stock_id = serializers.PrimaryKeyRelatedField(source="stock", queryset=StockLevel.objects.all())
    item_type = serializers.CharField(source="stock.item_type", read_only=True)
    location_id = serializers.UUIDField(source="stock.location_id", read_only=True)
    quantity_on_hand = serializers.IntegerField(source="stock.quantity_on_hand", read_only=True)

    class Meta:
        model = StockAdjustment
        fields = app_stock.StockAdjustmentSerializer.Meta.fields
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
        # Not the suggested quantity: the baseline annotates nothing.
        fields = [
            name
            for name in app_stock.ReorderAlertSerializer.Meta.fields
            if name != "suggested_quantity"
        ]


class LineItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = POLineItem
        # Not the open quantity, which the app computes; the line number, which it does not show.
        fields = [
            "line_number",
            *(f for f in app_procurement.LineItemSerializer.Meta.fields if f != "quantity_open"),
        ]


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = POStatusChange
        fields = app_procurement.StatusChangeSerializer.Meta.fields


class ApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = POApproval
        fields = app_procurement.ApprovalSerializer.Meta.fields


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
        # Not the transitions, which depend on the user.
        fields = [
            name
            for name in app_procurement.PurchaseOrderSerializer.Meta.fields
            if name != "available_transitions"
        ]
        read_only_fields = [name for name in fields if name != "status"]
