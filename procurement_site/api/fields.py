"""Serializer fields that accept exactly the JSON the OpenAPI document describes.

DRF is lenient: a ``CharField`` takes ``42``, an ``IntegerField`` ``"7"`` and ``7.0``, a
``BooleanField`` ``0`` and ``"yes"``, a ``DecimalField`` ``1.5`` and ``"1e2"``, a ``UUIDField``
an integer or ``"{...}"``. A client generated from the document sends what the document says; a
request the document calls invalid must be a 400, not quietly coerced. These fields check the JSON
type (and the text form, for decimals and UUIDs) first, then validate as DRF does. Their schema
(pattern, bounds) is written in ``procurement_site.api.schema``.
"""

import re
from decimal import Decimal

from rest_framework import serializers

# Text the database can store: PostgreSQL text cannot hold NUL.
NO_NUL = r"^[^\x00]*$"
# The same, not empty: drf-spectacular documents a field that may be blank as one of this or "".
NO_NUL_NOT_EMPTY = r"^[^\x00]+$"
# Python's whitespace (what ``str.strip`` removes), spelled out: ``\s`` differs between Python
# and the ECMA-262 regexes of JSON Schema.
_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Text with at least one character that is not whitespace (the value is trimmed), and no NUL.
NOT_BLANK = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN)


class _JSONTypeMixin:
    """Rejects a value whose JSON type is not ``json_types`` (``bool`` is never an ``int``)."""

    json_types = (str,)
    json_type_name = "string"

    def _check_json_type(self, data):
        if (isinstance(data, bool) and bool not in self.json_types) or not isinstance(
            data, self.json_types
        ):
            raise serializers.ValidationError(
                f"Must be a JSON {self.json_type_name}.", code="wrong_type"
            )


class StrictCharField(_JSONTypeMixin, serializers.CharField):
    """A JSON string. ``max_length`` counts the characters as sent, before trimming, so that a
    string the document calls too long is refused whatever its surrounding spaces. ``pattern``
    narrows the text further: the whole value must match it (``fullmatch``), which is what the
    anchored JSON Schema pattern means (in ECMA-262 ``$`` is the end of the text, while Python's
    ``re.search`` lets ``$`` match before a final newline)."""

    default_error_messages = {"pattern": "Not in the expected form ({pattern})."}

    def __init__(self, *, pattern=None, **kwargs):
        super().__init__(**kwargs)
        self._regex = re.compile(pattern) if pattern else None
        self.pattern = pattern or (NO_NUL_NOT_EMPTY if self.allow_blank else NOT_BLANK)

    def run_validation(self, data=serializers.empty):
        if data is not serializers.empty and data is not None:
            self._check_json_type(data)
            if self.max_length is not None and len(data) > self.max_length:
                self.fail("max_length", max_length=self.max_length)
            if self._regex is not None and not self._regex.fullmatch(data):
                self.fail("pattern", pattern=self.pattern)
        return super().run_validation(data)


class StrictEmailField(StrictCharField, serializers.EmailField):
    pass


class StrictChoiceField(_JSONTypeMixin, serializers.ChoiceField):
    """One of the choices, as a JSON string."""

    def to_internal_value(self, data):
        self._check_json_type(data)
        return super().to_internal_value(data)


class CaseInsensitiveChoiceField(StrictChoiceField):
    """A choice given in any case (and surrounding spaces); stored and returned in lower case."""

    def to_internal_value(self, data):
        self._check_json_type(data)
        return super().to_internal_value(data.strip().lower())


class StrictIntegerField(_JSONTypeMixin, serializers.IntegerField):
    json_types = (int,)
    json_type_name = "integer"

    def to_internal_value(self, data):
        self._check_json_type(data)
        return super().to_internal_value(data)


class StrictBooleanField(_JSONTypeMixin, serializers.BooleanField):
    json_types = (bool,)
    json_type_name = "boolean (true or false)"

    def to_internal_value(self, data):
        self._check_json_type(data)
        return data


class StrictUUIDField(_JSONTypeMixin, serializers.UUIDField):
    """A UUID in its canonical text form, ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`` (any case)."""

    def to_internal_value(self, data):
        self._check_json_type(data)
        if not _UUID.fullmatch(data):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class DecimalStringField(_JSONTypeMixin, serializers.DecimalField):
    """An exact decimal as a JSON string, e.g. ``"149.99"``: a JSON number is refused (a float
    cannot hold every amount of cents). ``pattern`` is the text form accepted; by default digits
    with at most ``decimal_places`` decimals, a sign only when ``min_value`` allows negatives."""

    def __init__(self, *, pattern=None, **kwargs):
        super().__init__(**kwargs)
        if pattern is None:
            sign = "" if self.min_value is not None and self.min_value >= 0 else "-?"
            whole = self.max_digits - self.decimal_places
            pattern = rf"^{sign}[0-9]{{1,{whole}}}(\.[0-9]{{1,{self.decimal_places}}})?$"
        self.pattern = pattern
        self._regex = re.compile(pattern)

    def validate_empty_values(self, data):
        # DRF's DecimalField takes "" (and blanks) for null; only null is null here.
        return serializers.Field.validate_empty_values(self, data)

    def to_internal_value(self, data):
        self._check_json_type(data)
        if not self._regex.fullmatch(data):
            raise serializers.ValidationError(
                f"A decimal string is required, e.g. {self._example()}.", code="invalid"
            )
        return super().to_internal_value(data)

    def _example(self):
        return f'"{Decimal(1).quantize(Decimal(1).scaleb(-self.decimal_places))}"'
