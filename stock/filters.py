import django_filters
from django.db.models import F
from drf_spectacular.utils import extend_schema_field
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from procurement_site.api.filters import StrictBooleanFilter
from stock.models import ReorderAlert, StockLevel


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` as DRF parses it, but an unknown field is a 400 naming ``ordering`` instead
    of being ignored, and the primary key is appended as a tie-breaker so that pages are stable
    whatever the requested order."""

    def get_ordering(self, request, queryset, view):
        params = request.query_params.get(self.ordering_param)
        if params:
            fields = [param.strip() for param in params.split(",")]
            valid = self.remove_invalid_fields(queryset, fields, view, request)
            if len(valid) != len(fields):
                allowed = sorted(name for name, _ in self.get_valid_fields(queryset, view))
                bad = next(field for field in fields if field not in valid)
                raise ValidationError(
                    {
                        self.ordering_param: [
                            f"'{bad}' is not a field to order by; use one of "
                            f"{', '.join(allowed)} (prefix '-' for descending)."
                        ]
                    }
                )
            ordering = valid
        else:
            ordering = list(self.get_default_ordering(view) or [])
        if ordering and not {"pk", "-pk"} & set(ordering):
            ordering = [*ordering, "pk"]
        return ordering

    def get_schema_operation_parameters(self, view):
        names = [name for name, _ in self.get_valid_fields(view.get_queryset(), view)]
        default = ",".join(self.get_default_ordering(view) or [])
        return [
            {
                "name": self.ordering_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Comma-separated fields to order by, '-' for descending; default {default}."
                ),
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "string",
                        "enum": [*names, *(f"-{name}" for name in names)],
                    },
                },
                "style": "form",
                "explode": False,
            }
        ]


class StockLevelFilter(django_filters.FilterSet):
    location_id = django_filters.UUIDFilter(help_text="Only this location.")
    item_type = django_filters.CharFilter(help_text="Only this gear category (exact).")
    below_reorder_point = StrictBooleanFilter(method="filter_below_reorder_point")

    class Meta:
        model = StockLevel
        fields = ["location_id", "item_type", "below_reorder_point"]

    @extend_schema_field(
        {
            "type": "boolean",
            "description": "Only levels at or below (true) or above (false) their reorder point.",
        }
    )
    def filter_below_reorder_point(self, queryset, name, value):
        # Written as the predicate of the partial index idx_stock_reorder so PostgreSQL can use it.
        if value:
            return queryset.filter(quantity_on_hand__lte=F("reorder_point"))
        return queryset.filter(quantity_on_hand__gt=F("reorder_point"))


class ReorderAlertFilter(django_filters.FilterSet):
    location_id = django_filters.UUIDFilter(
        field_name="stock__location_id", help_text="Only this location."
    )
    item_type = django_filters.CharFilter(
        field_name="stock__item_type", help_text="Only this gear category (exact)."
    )

    class Meta:
        model = ReorderAlert
        fields = ["location_id", "item_type"]
