from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.currency import CURRENCY_CODES
from procurement import presenters, selectors
from procurement.models import (
    POApproval,
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
)
from procurement.services import (
    MAX_ITEM_TYPE_LENGTH,
    MAX_LINES,
    MAX_NOTE_LENGTH,
    MAX_QUANTITY,
    MAX_REASON_LENGTH,
    MAX_UNIT_PRICE,
)
from procurement_site.api.fields import (
    CaseInsensitiveChoiceField,
    DecimalStringField,
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictIntegerField,
    StrictUUIDField,
)

# ISO 4217 codes in upper or lower case (stored and returned in upper case): the OpenAPI enum.
CURRENCY_CHOICES = [*CURRENCY_CODES, *(code.lower() for code in CURRENCY_CODES)]


class LineItemInputSerializer(serializers.Serializer):
    item_type = StrictCharField(
        max_length=MAX_ITEM_TYPE_LENGTH,
        allow_blank=False,
        help_text="Gear category from svc-gear-inventory.",
    )
    location_id = StrictUUIDField(help_text="Where the goods are to be received.")
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)
    unit_price = DecimalStringField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.00"),
        max_value=MAX_UNIT_PRICE,
        help_text='Money: a decimal string with at most two decimals, e.g. "149.99".',
    )


def _line_items_field(**kwargs):
    return LineItemInputSerializer(
        many=True,
        allow_empty=True,
        max_length=MAX_LINES,
        help_text=(
            f"All the lines (at most {MAX_LINES}); the total of quantity x unit_price must not "
            "exceed 99999999.99. A draft may have none, but submitting needs one."
        ),
        **kwargs,
    )


def _currency_field(help_text):
    return StrictChoiceField(choices=CURRENCY_CHOICES, required=False, help_text=help_text)


class PurchaseOrderCreateSerializer(serializers.Serializer):
    supplier_id = StrictUUIDField(help_text="An existing, active supplier.")
    currency = _currency_field("ISO 4217 code, upper or lower case; default USD.")
    line_items = _line_items_field()


class PurchaseOrderUpdateSerializer(serializers.Serializer):
    status = CaseInsensitiveChoiceField(
        choices=POStatus.choices,
        required=False,
        help_text="The next status (any case). `rejected` needs a `reason`.",
    )
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=MAX_REASON_LENGTH,
        help_text="Why: required to reject, kept in the history for any status change.",
    )
    supplier_id = StrictUUIDField(required=False, help_text="Drafts only.")
    currency = _currency_field("Drafts only. ISO 4217 code, upper or lower case.")
    line_items = _line_items_field(required=False)


class ReceiptLineInputSerializer(serializers.Serializer):
    line_item_id = StrictUUIDField(help_text="A line of this purchase order.")
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY)


class ReceiptCreateSerializer(serializers.Serializer):
    lines = ReceiptLineInputSerializer(
        many=True,
        allow_empty=True,
        max_length=MAX_LINES,
        help_text=(
            "What arrived: each line of the PO at most once. Empty only with `close: true`."
        ),
    )
    note = StrictCharField(required=False, allow_blank=True, max_length=MAX_NOTE_LENGTH, default="")
    close = StrictBooleanField(
        required=False,
        default=False,
        help_text=(
            "The rest will not come: after this receipt's lines the PO moves to `received` "
            "(`receipt_status` `closed_short` if anything was still open)."
        ),
    )


class LineItemSerializer(serializers.ModelSerializer):
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    quantity_received = serializers.IntegerField(
        read_only=True, help_text="The sum over the PO's receipts."
    )
    quantity_open = serializers.IntegerField(
        read_only=True,
        help_text=(
            "quantity - quantity_received, never below 0; 0 once the PO is final "
            "(received, closed short, cancelled or rejected)."
        ),
    )

    class Meta:
        model = POLineItem
        fields = [
            "line_item_id",
            "item_type",
            "location_id",
            "quantity",
            "unit_price",
            "line_total",
            "quantity_received",
            "quantity_open",
        ]
        read_only_fields = fields


class ReceiptLineSerializer(serializers.ModelSerializer):
    line_item_id = serializers.UUIDField(read_only=True)
    item_type = serializers.CharField(source="line_item.item_type", read_only=True)
    location_id = serializers.UUIDField(source="line_item.location_id", read_only=True)

    class Meta:
        model = ReceiptLine
        fields = ["line_item_id", "item_type", "location_id", "quantity"]
        read_only_fields = fields


class ReceiptSummarySerializer(serializers.ModelSerializer):
    """A receipt inside its purchase order."""

    po_id = serializers.UUIDField(source="purchase_order_id", read_only=True)
    lines = ReceiptLineSerializer(many=True, read_only=True)

    class Meta:
        model = Receipt
        fields = ["receipt_id", "po_id", "received_by", "received_at", "note", "lines"]
        read_only_fields = fields


class StatusChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = POStatusChange
        fields = ["from_status", "to_status", "changed_by", "changed_at", "reason"]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer):
    class Meta:
        model = POApproval
        fields = ["approved_by", "approved_at"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    """A purchase order as returned. ``available_transitions`` depends on the requesting user.
    Extend ``Meta.fields`` (or subclass) to show more of a PO."""

    supplier_id = serializers.UUIDField(read_only=True)
    available_transitions = serializers.SerializerMethodField()
    line_items = LineItemSerializer(many=True, read_only=True)
    status_history = StatusChangeSerializer(many=True, read_only=True)
    receipt_status = serializers.ChoiceField(
        choices=ReceiptStatus.choices,
        read_only=True,
        help_text=(
            "`none` nothing received, `partial` some, `full` every line in, `closed_short` "
            "ended with `close: true` before every line was in."
        ),
    )
    receipts = ReceiptSummarySerializer(many=True, read_only=True, help_text="Newest last.")
    approvals = ApprovalSerializer(
        many=True,
        read_only=True,
        help_text="Every approval so far (who, when): one, or two above "
        "PO_SECOND_APPROVAL_ABOVE (the first leaves the PO submitted).",
    )
    sent_to_supplier_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="When the approved PO was last e-mailed to the supplier; null until then.",
    )
    is_overdue = serializers.BooleanField(
        read_only=True,
        help_text="Past expected_delivery_date and still awaiting delivery.",
    )

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
            "available_transitions",
            "approvals",
            "line_items",
            "status_history",
            "receipt_status",
            "receipts",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(POStatus.choices)))
    def get_available_transitions(self, po):
        return selectors.available_transitions(po=po, user=self.context["request"].user)


class ReceiptSerializer(ReceiptSummarySerializer):
    """A receipt as ``POST /purchase-orders/{po_id}/receipts`` returns it: with its purchase
    order as ``GET`` returns it, after this receipt."""

    purchase_order = PurchaseOrderSerializer(read_only=True)

    class Meta(ReceiptSummarySerializer.Meta):
        fields = [*ReceiptSummarySerializer.Meta.fields, "purchase_order"]
        read_only_fields = fields


def render_purchase_orders(purchase_orders):
    """Event ``data`` of saved purchase orders (their relations read in one query each, for all
    of them at once)."""
    return presenters.purchase_orders(
        [selectors.fresh_copy(po) for po in purchase_orders], user=None
    )


MAX_ALERTS_PER_REQUEST = 500


class PurchaseOrdersFromAlertsSerializer(serializers.Serializer):
    alert_ids = serializers.ListField(
        child=StrictUUIDField(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_ALERTS_PER_REQUEST,
        help_text=f"The open reorder alerts to order for (1 to {MAX_ALERTS_PER_REQUEST}).",
    )


class SkippedAlertSerializer(serializers.Serializer):
    alert_id = serializers.UUIDField(read_only=True)
    reason = serializers.CharField(read_only=True, help_text="Why nothing was ordered for it.")


class PurchaseOrdersFromAlertsResultSerializer(serializers.Serializer):
    purchase_orders = PurchaseOrderSerializer(
        many=True, read_only=True, help_text="The drafts created or added to."
    )
    skipped = SkippedAlertSerializer(many=True, read_only=True)
