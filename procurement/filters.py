from procurement import selectors
from procurement.models import POStatus, PurchaseOrder
from procurement_site.api.filters import (
    CaseInsensitiveChoiceFilter,
    DateTimeBoundFilter,
    OrderingFilter,
    StrictBooleanFilter,
    StrictFilterSet,
    StrictUUIDFilter,
)


class PurchaseOrderFilter(StrictFilterSet):
    status = CaseInsensitiveChoiceFilter(choices=POStatus.choices, help_text="Any case.")
    supplier_id = StrictUUIDFilter(field_name="supplier_id", help_text="Only this supplier's.")
    created_after = DateTimeBoundFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Created at or after this moment: an RFC 3339 date-time with its offset, or a "
        "date (its midnight, UTC).",
    )
    created_before = DateTimeBoundFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Created before this moment: an RFC 3339 date-time with its offset, or a date "
        "(its midnight, UTC).",
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        help_text="true: only POs past their expected delivery date and not yet delivered; "
        "false: only the others.",
    )
    ordering = OrderingFilter(
        fields=[
            "created_at",
            "total_amount",
            "status",
            "submitted_at",
            "approved_at",
            "expected_delivery_date",
            "received_at",
        ],
        default=["-created_at", "po_id"],
    )

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier_id", "created_after", "created_before", "overdue"]

    def filter_overdue(self, queryset, name, value):
        condition = selectors.overdue_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)
