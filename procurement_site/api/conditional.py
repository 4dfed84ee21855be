"""Conditional GET: the API's reads answer an ``ETag``, and ``If-None-Match`` naming it is a 304
with no body, answered without building the body (the Operations Dashboard polls).

A view takes part with ``ConditionalGetMixin`` first in its bases, and
- a paginated list declares ``etag_fields``: the ORM paths of what its body shows of each row
  (columns, joined columns, annotations). Its ETag is a weak one, a digest of the page's rows
  (those fields, in order), the count of the whole list, the request's URI (page, filters,
  ordering, host: everything the ``next``/``previous`` links show) and, where the body differs by
  user or by day, the user (id and permissions) or the date. A 200 takes the rows from the page
  it has just read (no query more; rows are model instances, or row tuples whose columns the
  view names in ``page_columns``: the lean read path's);
  ``If-None-Match`` reads them with one light query, the count as a scalar subquery in it (only
  the joins the fields need; no prefetch, model instance or serializer);
- a detail overrides ``get_current_etag()``: its ETag as the GET would answer it now, from a light
  read. ``etag_read_first``: the view does not set the ETag of its 200 itself, so the mixin reads
  it before the body (a change that lands in between then leaves an older ETag on a newer body:
  the next request is a 200, never a stale 304). The PO detail's ETag is its version, which
  ``If-Match`` takes (``"3"``): it cannot name the user, so a change of the caller's permissions
  alone shows in its ``available_transitions`` only once the PO changes (the server checks the
  permissions at every write); an overdue PO is never a 304 (see ``revalidatable_version``).

Authentication and permissions run first: a 401 or 403 is never a 304. ``If-None-Match`` is
RFC 9110's: ``*`` or a list of entity tags, compared weakly; text that is not an entity tag names
none (the GET is answered in full). The 200 and the 304 carry ``Cache-Control: private, no-cache``
(caches store them for this client only and revalidate every time) and, where the body differs by
user, ``Vary: Authorization, Cookie``.
"""

import hashlib
import inspect
from operator import attrgetter, itemgetter

import orjson
from django.db.models import BigIntegerField, Func, QuerySet, Subquery
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from drf_spectacular.openapi import AutoSchema
from rest_framework.response import Response

SAFE_METHODS = ("GET", "HEAD")
# Bumped when what goes into a list's digest changes, so that no old tag matches a new body.
_DIGEST_SCHEME = 1
# Past this offset no page exists (and PostgreSQL's bigint would overflow): the GET's 404.
_MAX_OFFSET = 2**62

LIST_ETAG_PATTERN = '^W/"[0-9a-f]{32}"$'
LIST_ETAG_DESCRIPTION = (
    "A weak validator of this page as this request sees it (its rows, the count, the query); "
    "send it back in `If-None-Match` to get a 304 while nothing on the page changed."
)

DETAIL_ETAG_DESCRIPTION = (
    "A weak validator of this resource as the body shows it; send it back in `If-None-Match` "
    "to get a 304 while it is unchanged."
)


class NotModified(Exception):
    """Raised after authentication and permissions when ``If-None-Match`` names the current
    ETag; answered 304 by ``ConditionalGetMixin.handle_exception``."""

    def __init__(self, etag):
        super().__init__(etag)
        self.etag = etag


def none_match(header, etag):
    """Whether an ``If-None-Match`` value names ``etag`` (weak comparison, RFC 9110 13.1.2)."""
    tags = parse_etags(header)
    if tags == ["*"]:
        return True
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in tags)


def digest_etag(*parts):
    """A weak ETag naming ``parts``: values as the database returns them (UUIDs, dates and
    decimals included), written with orjson (C speed: a page of 50 rows in tens of
    microseconds, where ``repr`` takes most of a millisecond)."""
    payload = orjson.dumps((_DIGEST_SCHEME, *parts), default=str)
    return "W/" + quote_etag(hashlib.blake2b(payload, digest_size=16).hexdigest())


def row_etag(queryset, fields):
    """A detail's weak ETag: a digest of ``fields`` of the one row of ``queryset`` (one query);
    ``None`` when there is no such row (the GET's 404)."""
    row = queryset.values_list(*fields).first()
    return None if row is None else digest_etag(row)


def row_values(fields, *, columns=None):
    """A function of a page row returning the tuple of ``fields`` (``stock__item_type`` paths):
    from a row tuple whose ``columns`` are named (the lean read path's ``values_list`` rows), or
    from a model instance (attributes, through ``select_related`` relations)."""
    if columns:
        getter = itemgetter(*(columns.index(path) for path in fields))
    else:
        getter = attrgetter(*(path.replace("__", ".") for path in fields))
    single = len(fields) == 1

    def values(row):
        found = getter(row)
        return (found,) if single else found

    return values


def _count(queryset):
    """``SELECT COUNT(*)`` of ``queryset`` as a scalar subquery (no ``GROUP BY``: a plain
    function, not an aggregate)."""
    counted = queryset.order_by().values(
        etag_count=Func(template="COUNT(*)", output_field=BigIntegerField())
    )
    return Subquery(counted, output_field=BigIntegerField())


# --- OpenAPI ------------------------------------------------------------------------------------

IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": (
        "The `ETag` of the body you hold (or a list of them, or `*`): while it is still the "
        "current one the answer is a 304 with no body. Compared weakly; text that is not an "
        "entity tag names none."
    ),
}


class ConditionalGetSchema(AutoSchema):
    """Documents a ``ConditionalGetMixin`` view's GET: ``If-None-Match``, the ``ETag`` of its 200
    and the 304."""

    def get_description(self):
        """The view's own description: never the docstring of an API plumbing mixin (this one,
        ``IdempotentAPIView``), which drf-spectacular falls back to for an undescribed GET."""
        description = super().get_description()
        plumbing = {
            inspect.cleandoc(cls.__doc__)
            for cls in type(self.view).__mro__
            if cls.__module__.startswith("procurement_site.api.") and cls.__doc__
        }
        return "" if description in plumbing else description

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None or method.upper() != "GET":
            return operation
        view = self.view
        etag = {
            "schema": {"type": "string", "pattern": view.etag_pattern},
            "description": view.etag_description,
            "required": True,
        }
        operation.setdefault("parameters", []).append(dict(IF_NONE_MATCH))
        responses = operation["responses"]
        responses["200"].setdefault("headers", {}).setdefault("ETag", etag)
        responses["304"] = {
            "description": "`If-None-Match` names the current `ETag`: nothing changed, no body.",
            "headers": {"ETag": dict(responses["200"]["headers"]["ETag"])},
        }
        operation["responses"] = dict(sorted(responses.items()))
        return operation


class ConditionalGetMixin:
    """``ETag`` and ``If-None-Match`` on a view's GET (see the module docstring). First in the
    bases: ``class V(ConditionalGetMixin, IdempotentAPIView, generics.ListCreateAPIView)``."""

    #: List views: the paths (``values_list``) of what the body shows of each row of the page.
    etag_fields = ()
    # The names of the columns of the page's rows when the list pages row tuples (its selector's
    # ``values_list``) rather than model instances.
    page_columns = None
    #: The body differs by user (``available_transitions``): the user's id and permissions are
    #: part of the ETag, and responses vary on the credentials.
    etag_per_user = False
    #: The body changes with the date alone (``is_overdue``): the date is part of the ETag.
    etag_per_day = False
    #: Details whose view does not set the 200's ETag: read it before the body.
    etag_read_first = False

    etag_description = LIST_ETAG_DESCRIPTION
    etag_pattern = LIST_ETAG_PATTERN
    etag_read = None
    schema = ConditionalGetSchema()

    def get_current_etag(self):
        """The ETag the GET would answer now, without building its body; ``None`` when it
        answers something else (a 404: no such page) or must not be answered 304."""
        return self._page_etag_from_query()

    # --- DRF hooks -----------------------------------------------------------------------------

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.etag_read = None
        if request.method not in SAFE_METHODS:
            return
        header = request.headers.get("If-None-Match")
        if header is None and not self.etag_read_first:
            return
        self.etag_read = self.get_current_etag()
        if header is not None and self.etag_read is not None and none_match(header, self.etag_read):
            raise NotModified(self.etag_read)

    def handle_exception(self, exc):
        if isinstance(exc, NotModified):
            return Response(status=304, headers={"ETag": exc.etag})
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in SAFE_METHODS or response.status_code not in (200, 304):
            return response
        if not response.has_header("ETag"):
            etag = self.etag_read if self.etag_read_first else self._page_etag_from_page()
            if etag is None:
                return response
            response["ETag"] = etag
        patch_cache_control(response, private=True, no_cache=True)
        if self.etag_per_user:
            patch_vary_headers(response, ("Authorization", "Cookie"))
        return response

    # --- Lists -------------------------------------------------------------------------------

    def _list_etag(self, count, rows):
        context = []
        if self.etag_per_user:
            user = self.request.user
            context.append((user.pk, user.is_superuser, sorted(user.get_all_permissions())))
        if self.etag_per_day:
            context.append(timezone.localdate().isoformat())
        return digest_etag(self.request.build_absolute_uri(), count, rows, context)

    def _page_etag_from_page(self):
        """The 200's ETag, from the page the list has just read and counted."""
        page = getattr(self.paginator, "page", None) if self.etag_fields else None
        if page is None:
            return None
        values = row_values(self.etag_fields, columns=self.page_columns)
        # The page as a list (DRF has read it): not through Page.__getitem__, row by row.
        rows = [values(row) for row in page.object_list]
        return self._list_etag(page.paginator.count, rows)

    def _page_etag_from_query(self):
        """The page's ETag from one light query: its rows' ``etag_fields``, and the count."""
        paginator = self.paginator
        if not self.etag_fields or paginator is None:
            return None
        queryset = self.filter_queryset(self.get_queryset())
        size = paginator.get_page_size(self.request)
        number = paginator.get_page_number(self.request, None)
        bottom = (number - 1) * size
        if bottom > _MAX_OFFSET:
            return None
        if not isinstance(queryset, QuerySet):
            # A selector's own rows (``stock.selectors.StockLevelRows``): its counted page.
            count, rows = queryset.counted_page(bottom, bottom + size)
            if not rows:
                return self._list_etag(0, []) if number == 1 else None
            values = row_values(self.etag_fields, columns=self.page_columns)
            return self._list_etag(count, [values(row) for row in rows])
        rows = list(
            queryset.prefetch_related(None)
            .annotate(etag_total=_count(queryset))
            .values_list("etag_total", *self.etag_fields)[bottom : bottom + size]
        )
        if not rows:
            # An empty first page is an empty list; any other empty page is the GET's 404.
            return self._list_etag(0, []) if number == 1 else None
        return self._list_etag(rows[0][0], [row[1:] for row in rows])
