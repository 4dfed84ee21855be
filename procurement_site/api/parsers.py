"""The API's one parser: JSON, within the limits the OpenAPI document states.

- A body longer than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes is a 413 ``request_too_large``: the
  parser reads at most one byte more than that, whatever the ``Content-Length`` says.
- A body nested deeper than ``API_MAX_JSON_DEPTH`` arrays and objects is a 400 ``too_deep``
  (Python's decoder recurses per level: ~1,000 levels were a ``RecursionError``, a 500).
"""

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"

    def __init__(self, limit=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if limit is None else limit
        super().__init__(f"The request body is larger than the {limit} bytes the API accepts.")


class TooDeep(exceptions.ParseError):
    default_code = "too_deep"

    def __init__(self, limit):
        super().__init__(
            f"The JSON body is nested deeper than the {limit} levels of arrays and objects "
            "the API accepts."
        )


def nesting_depth_exceeds(data, limit):
    """Whether ``data`` holds arrays/objects more than ``limit`` levels deep (without
    recursion: the walk must not fail on the very input it guards against)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(limit)
        encoding = parsers.get_encoding(parser_context or {})
        parse_constant = json.strict_constant if self.strict else None
        max_depth = settings.API_MAX_JSON_DEPTH
        try:
            data = json.loads(raw.decode(encoding), parse_constant=parse_constant)
        except RecursionError:
            raise TooDeep(max_depth) from None
        except ValueError as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        if isinstance(data, dict | list) and nesting_depth_exceeds(data, max_depth):
            raise TooDeep(max_depth)
        return data
