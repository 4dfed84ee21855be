"""Query parameters that accept exactly what the OpenAPI document describes.

django-filter and DRF are lenient: an empty ``?supplier_id=`` means "no filter", a UUID may come in
braces or without dashes, a date-time without its offset, an unknown ``?ordering=`` field is
ignored. Each of those is a 400 naming the parameter here. A filter's ``openapi_schema`` is the
schema the document gives it (see ``procurement_site.api.schema.StrictFilterExtension``).
"""

import re
from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters import utils
from django_filters.constants import EMPTY_VALUES
from django_filters.rest_framework import DjangoFilterBackend

from procurement_site.api.fields import NO_NUL, UUID_PATTERN

_UUID = re.compile(UUID_PATTERN)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# RFC 3339 ``date-time``: the offset is required.
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, also for a list whose selector writes its own SQL (an object with
    a ``model`` and ``filter(**values)``, such as ``stock.selectors.StockLevelRows``, rather than
    a queryset): its filterset validates the query (a 400 naming what is wrong) and the schema
    documents it as for any other list; the selector gets the cleaned values that filter (an
    empty one filters nothing, as with django-filter's filters)."""

    def filter_queryset(self, request, queryset, view):
        if isinstance(queryset, QuerySet):
            return super().filter_queryset(request, queryset, view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        form = filterset_class.query_form(request.query_params, queryset=queryset)
        if not form.is_valid():
            raise utils.translate_validation(form.errors)
        values = form.cleaned_data.items()
        return queryset.filter(**{name: v for name, v in values if v not in EMPTY_VALUES})


class StrictFilterForm(forms.Form):
    """The form of a ``StrictFilterSet``: a parameter given with an empty value is an error,
    except for the fields named in ``blank_allowed`` (free-text filters)."""

    blank_allowed = frozenset()

    def clean(self):
        for name in self.fields:
            if name not in self.blank_allowed and self.data.get(name) == "":
                self.add_error(name, "Give a value, or leave the parameter out.")
        return super().clean()


class StrictFilterSet(django_filters.FilterSet):
    """A parameter given with an empty value is a 400, except for free-text filters
    (``allow_blank``): ``?supplier_id=`` names no supplier, it does not mean "any"
    (``StrictFilterForm``).

    The form class is built once per filterset class (django-filter builds it for each request,
    from fresh copies of the filters): these filters' fields never depend on the request."""

    def get_form_class(self):
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            built = super().get_form_class()
            blank_allowed = frozenset(
                name for name, f in self.filters.items() if getattr(f, "allow_blank", False)
            )
            form_class = type(
                built.__name__, (StrictFilterForm, built), {"blank_allowed": blank_allowed}
            )
            type(self)._form_class = form_class
        return form_class

    @classmethod
    def query_form(cls, data, *, queryset):
        """The filterset's form bound to ``data``, for a selector that writes its own SQL
        (``FilterBackend``) and needs the cleaned values alone: without the filterset, whose
        filters django-filter deep-copies for each instance (a third of a list's validation)."""
        form_class = cls.__dict__.get("_form_class") or cls(queryset=queryset).get_form_class()
        return form_class(data)


class TextFilter(django_filters.CharFilter):
    """Free text; empty means no filter. Text cannot hold NUL (400)."""

    allow_blank = True
    openapi_schema = {"type": "string", "pattern": NO_NUL}


class CanonicalUUIDField(forms.UUIDField):
    def to_python(self, value):
        if value not in self.empty_values and not _UUID.fullmatch(str(value)):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class StrictUUIDFilter(django_filters.UUIDFilter):
    """A UUID in its canonical form, ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`` (any case)."""

    field_class = CanonicalUUIDField
    openapi_schema = {"type": "string", "format": "uuid"}


class DateOrDateTimeField(forms.Field):
    default_error_messages = {
        "invalid": "Enter an RFC 3339 date-time with its offset (2025-03-02T12:00:00Z) or a "
        "date (2025-03-02)."
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            if _DATE.fullmatch(value):
                return datetime.fromisoformat(value).replace(tzinfo=UTC)
            if _DATE_TIME.fullmatch(value):
                moment = datetime.fromisoformat(value.upper())
            else:
                raise ValueError(value)
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        # In UTC: PostgreSQL refuses offsets beyond 15:59, which RFC 3339 allows (up to 23:59).
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            # Within a day of the ends of the calendar: the end itself is as good a bound.
            return (
                datetime.min.replace(tzinfo=UTC)
                if moment.year == 1
                else datetime.max.replace(tzinfo=UTC)
            )


class DateTimeBoundFilter(django_filters.Filter):
    """A moment: an RFC 3339 date-time with its offset, or a date (its midnight, UTC)."""

    field_class = DateOrDateTimeField
    openapi_schema = {
        "anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]
    }


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400 naming the parameter, not silently ignored."""

    openapi_schema = {"type": "boolean"}

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(*args, **kwargs)


class LowerCaseChoiceField(django_filters.fields.ChoiceField):
    def to_python(self, value):
        return super().to_python(value).strip().lower()


class CaseInsensitiveChoiceFilter(django_filters.ChoiceFilter):
    """A choice in any case; an unknown one is a 400 naming the parameter."""

    field_class = LowerCaseChoiceField


class NoBlankCSVField(django_filters.fields.BaseCSVField):
    def clean(self, value):
        if value and "" in value:
            raise forms.ValidationError("Give a field between each two commas.", code="invalid")
        return super().clean(value)


class OrderingFilter(django_filters.OrderingFilter):
    """``?ordering=``: comma-separated ``fields``, ``-`` for descending; an unknown one is a 400
    naming ``ordering`` (django-filter's choice validation). ``default`` when it is absent. The
    primary key is appended as a tie-breaker, so that pages are stable whatever the order."""

    base_field_class = NoBlankCSVField

    def __init__(self, *args, default, **kwargs):
        self.default = list(default)
        kwargs.setdefault(
            "help_text",
            f"Comma-separated fields to order by, '-' for descending; default {','.join(default)}.",
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        ordering = [self.get_ordering_value(param) for param in value or self.default]
        if not {"pk", "-pk"} & set(ordering):
            ordering.append("pk")
        return qs.order_by(*ordering)

    @property
    def openapi_schema(self):
        values = [value for value, _ in self.extra["choices"]]
        return {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "string",
                "enum": [
                    *(v for v in values if not v.startswith("-")),
                    *(v for v in values if v.startswith("-")),
                ],
            },
        }
