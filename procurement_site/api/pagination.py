import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

_POSITIVE = re.compile(r"[1-9][0-9]*")


class PageNumberPagination(pagination.PageNumberPagination):
    """``{count, next, previous, results}``, with ``?page=`` and ``?page_size=``.

    Strict, unlike DRF's: a ``page`` or ``page_size`` that is not a whole number from 1 is a 400
    naming it (DRF would answer 404, or use the default size). A ``page_size`` above 500 is served
    as 500; a page past the last is a 404.
    """

    page_size_query_param = "page_size"
    max_page_size = 500
    # DRF also takes ``?page=last``; the document says a page is a number.
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        return self._positive(request, self.page_query_param) or 1

    def get_page_size(self, request):
        size = self._positive(request, self.page_size_query_param)
        return min(size, self.max_page_size) if size else self.page_size

    @staticmethod
    def _positive(request, name):
        if name not in request.query_params:
            return None
        value = request.query_params[name]
        if not _POSITIVE.fullmatch(value):
            raise ValidationError({name: ["A whole number from 1 is required."]})
        # Past any page and any size: no need to parse (Python refuses ints of 4300+ digits).
        return int(value) if len(value) <= 18 else 10**18

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "The page, from 1; a page past the last is a 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page (default {self.page_size}); above {self.max_page_size}, "
                    f"{self.max_page_size}."
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
        ]

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "All the results, on every page.",
                    "example": 123,
                },
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page; null on the last.",
                    "example": "https://procurement.example.com/suppliers?page=3",
                },
                "previous": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The previous page; null on the first.",
                    "example": "https://procurement.example.com/suppliers?page=1",
                },
                "results": schema,
            },
        }
