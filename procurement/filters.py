import django_filters
from django_filters.fields import ChoiceField

from procurement import selectors
from procurement.models import POStatus, PurchaseOrder
from procurement_site.api.filters import StrictBooleanFilter


class LowerCaseChoiceField(ChoiceField):
    def to_python(self, value):
        return super().to_python(value).strip().lower()


class CaseInsensitiveChoiceFilter(django_filters.ChoiceFilter):
    """A choice in any case; an unknown one is a 400 naming the parameter."""

    field_class = LowerCaseChoiceField


class PurchaseOrderFilter(django_filters.FilterSet):
    status = CaseInsensitiveChoiceFilter(choices=POStatus.choices, help_text="Any case.")
    supplier_id = django_filters.UUIDFilter(field_name="supplier_id")
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        help_text="Created at or after this ISO 8601 date or date-time (UTC unless an offset).",
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        help_text="Created before this ISO 8601 date or date-time (UTC unless an offset).",
    )
    overdue = StrictBooleanFilter(
        method="filter_overdue",
        help_text="true: only POs past their expected delivery date and not yet delivered; "
        "false: only the others.",
    )

    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier_id", "created_after", "created_before", "overdue"]

    def filter_overdue(self, queryset, name, value):
        condition = selectors.overdue_condition()
        return queryset.filter(condition) if value else queryset.exclude(condition)
