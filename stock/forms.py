"""Forms of the stock admin. They only parse input; the rules live in ``stock.services``."""

from django import forms

from stock.models import AdjustmentReason, StockLevel
from stock.services import CLIENT_REASONS, MAX_ADJUSTMENT, MAX_QUANTITY, NOTE_MAX_LENGTH


class StockAdjustmentForm(forms.Form):
    """A correction, write-off, receipt, consumption or count of one stock level."""

    reason = forms.ChoiceField(
        choices=[(reason.value, AdjustmentReason(reason).label) for reason in CLIENT_REASONS]
    )
    quantity_delta = forms.IntegerField(
        label="Amount",
        required=False,
        min_value=-MAX_ADJUSTMENT,
        max_value=MAX_ADJUSTMENT,
        help_text=(
            "Units added (positive) or taken away (negative). Not zero; negative for damage and "
            "consumption, positive for a receipt. Leave empty for a count."
        ),
    )
    counted_quantity = forms.IntegerField(
        label="Counted quantity",
        required=False,
        min_value=0,
        max_value=MAX_ADJUSTMENT,
        help_text="For a count only: the number of units counted on the shelf.",
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class StockLevelForm(forms.ModelForm):
    """Identity and reorder settings of a level; never its quantity (see ``StockLevelAdmin``).
    The bounds make a bad setting a field error rather than a violated database constraint."""

    reorder_point = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)
    reorder_quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY)

    class Meta:
        model = StockLevel
        fields = ["item_type", "location_id", "reorder_point", "reorder_quantity"]
