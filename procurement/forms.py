"""Forms of the purchase-order admin. They parse input and show the services' own validation
(``procurement.services``) as form errors; they never save anything themselves."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from common.errors import InvalidInput
from procurement import services
from procurement.models import PurchaseOrder
from suppliers.models import Supplier


class PurchaseOrderForm(forms.ModelForm):
    """Supplier and currency of a draft. ``version_seen`` carries the version the page showed,
    so that saving over someone else's newer edit is refused instead of silently undoing it."""

    version_seen = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = PurchaseOrder
        fields = ["supplier", "currency"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "supplier" in self.fields:
            # New orders go to active suppliers; a draft may keep the one it has.
            current = self.instance.supplier_id if self.instance.pk else None
            self.fields["supplier"].queryset = Supplier.objects.filter(
                Q(active=True) | Q(pk=current)
            )
        if kwargs.get("instance") is not None:  # changing a PO, not adding one
            self.fields["version_seen"].initial = self.instance.version

    def clean_currency(self):
        try:
            return services.clean_currency(self.cleaned_data.get("currency"))
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class POLineItemForm(forms.ModelForm):
    """One line. The bounds keep a bad amount a field error (rather than a violated database
    constraint); the formset's ``clean`` then validates the lines as the service does."""

    quantity = forms.IntegerField(min_value=1, max_value=services.MAX_QUANTITY)
    unit_price = forms.DecimalField(
        min_value=0, max_value=services.MAX_UNIT_PRICE, max_digits=10, decimal_places=2
    )


class POLineItemFormSet(forms.BaseInlineFormSet):
    def submitted_lines(self):
        """``(form, line)`` for each line kept or added, in the order shown; ``line`` is the
        dict the services take."""
        lines = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data"):
                continue
            if self.can_delete and form.cleaned_data.get("DELETE"):
                continue
            if form in self.extra_forms and not form.has_changed():
                continue
            data = form.cleaned_data
            lines.append(
                (
                    form,
                    {
                        "item_type": data["item_type"],
                        "location_id": data["location_id"],
                        "quantity": data["quantity"],
                        "unit_price": data["unit_price"],
                    },
                )
            )
        return lines

    def clean(self):
        """The lines as a whole, as the service checks them (the total must fit, at most so many
        lines); each line's own fields were checked by its form."""
        super().clean()
        if any(self.errors):
            return
        try:
            services.validate_line_items([line for _, line in self.submitted_lines()])
        except InvalidInput as error:
            raise ValidationError(error.message) from None


class ReceiveGoodsForm(forms.Form):
    """The "Receive goods" form: one quantity per open line of the PO (prefilled with what is
    open; 0 skips the line), a note and "close short". ``version`` carries the version the page
    showed. The service checks everything else (limits, status) under the PO's lock."""

    note = forms.CharField(
        required=False, max_length=services.MAX_NOTE_LENGTH, widget=forms.TextInput
    )
    close_short = forms.BooleanField(
        required=False,
        label="Close short",
        help_text="The rest will not come: the order ends received after these quantities.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            self.fields[self.field_name(line)] = forms.IntegerField(
                min_value=0,
                max_value=services.MAX_QUANTITY,
                initial=line.quantity_open,
                label=f"{line.item_type} at {line.location_id}",
            )

    @staticmethod
    def field_name(line):
        return f"quantity_{line.line_item_id}"

    def rows(self):
        """``(line, bound quantity field)`` in the order of the lines."""
        return [(line, self[self.field_name(line)]) for line in self.lines]

    def receipt_lines(self):
        """The lines the service takes: the non-zero quantities."""
        lines = []
        for line in self.lines:
            quantity = self.cleaned_data.get(self.field_name(line))
            if quantity:
                lines.append({"line_item_id": line.line_item_id, "quantity": quantity})
        return lines
