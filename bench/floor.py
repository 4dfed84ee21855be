"""The floor: the fastest this stack answers the benchmark's requests, with no framework.

    gunicorn -c gunicorn.conf.py bench.floor:application

A plain WSGI callable that answers the benchmarked requests with the statements the app sends
(captured with ``python -m bench.capture``: token lookup by the key's SHA-256, permission loads,
counts, page selects, row locks, updates, inserts, alert sync, events and their publish task,
savepoints) through a psycopg ``ConnectionPool`` of the app's sizes and checks (``DB_POOL_*``),
client-side binding like Django's cursors, and orjson. The bodies have the app's keys and formats
(``tests/bench/test_floor.py`` compares them). What it leaves out is what a framework adds:
routing tables, middleware, serializers, validation layers, the ORM's SQL compiler and model
instances, logging.

Only what the benchmark sends is served: ``GET /stock-levels`` (``location_id``, ``item_type``,
``page``, ``page_size``), ``GET /reorder-alerts`` (``page``, ``page_size``), ``POST
/stock-adjustments`` by ``stock_id`` with a ``quantity_delta``, ``GET /purchase-orders/{id}`` and
``PATCH /purchase-orders/{id}`` ``{"status": "received"}``. Anything else is a 404 or a 400.
"""

import hashlib
import json
import math
import os
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from urllib import parse

from psycopg import ClientCursor
from psycopg_pool import ConnectionPool

from accounts.queries import PERMISSIONS_SQL, TOKEN_WITH_USER_SQL
from integrations.queries import insert_events_sql
from procurement import queries as procurement_queries
from procurement.queries import quantity_on_order_sql
from procurement.statistics import SPREAD_SAMPLE, lead_time_days, learned_lead_time
from stock import queries
from stock.figures import CALCULATION_FIELDS
from suppliers.figures import (
    MAX_LEAD_TIME_DAYS,
    RATE_WINDOW_DAYS,
    RECORD_COMPLETED_ORDER_SQL,
    refresh_rates_sql,
)

try:
    import orjson
except ImportError:  # pragma: no cover - the bench extra installs it
    orjson = None

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
STATUS_ORDER = ["draft", "submitted", "approved", "shipped", "received", "rejected", "cancelled"]
AWAITING_DELIVERY = ("submitted", "approved", "shipped")
CHANGE_PO = "procurement.change_purchaseorder"
APPROVE_PO = "procurement.approve_purchaseorder"
# (target, needs approval) per source status, as in procurement.models.PurchaseOrder.
TRANSITIONS = {
    "draft": [("submitted", False), ("cancelled", False)],
    "submitted": [("approved", True), ("rejected", True), ("cancelled", False)],
    "approved": [("shipped", False), ("cancelled", False)],
    "shipped": [("received", False)],
}
ADJUSTMENT_SIGNS = {"correction": 0, "damage": -1, "consumption": -1}

_pool = None
# Called with (cursor, sql, params) before each statement when set (tests compare the statements).
statement_hook = None

# --- SQL, as the app sends it ----------------------------------------------------------------


UPDATE_LEVELS_SQL = (
    'UPDATE "stock_levels" SET "quantity_on_hand" = "stock_levels"."quantity_on_hand" + v.delta'
    " FROM unnest(%s::uuid[], %s::integer[]) AS v (stock_id, delta) "
    'WHERE "stock_levels"."stock_id" = v.stock_id'
)
OPEN_ALERTS_SQL = (
    'INSERT INTO "reorder_alerts" ("alert_id", "stock_id", "quantity_at_open", '
    '"reorder_point_at_open", "po_id", "created_at", "resolved_at") VALUES {rows} '
    "ON CONFLICT DO NOTHING"
)
PO_COLUMNS = ", ".join(f'"purchase_orders"."{name}"' for name in procurement_queries.PO_COLUMNS)
PO_ORDER = 'ORDER BY "purchase_orders"."created_at" DESC, "purchase_orders"."po_id" ASC LIMIT 1'
SUPPLIER_COLUMNS = (
    '"suppliers"."supplier_id", "suppliers"."name", "suppliers"."contact_email", '
    '"suppliers"."lead_time_days", "suppliers"."rating", "suppliers"."active", '
    '"suppliers"."created_at", "suppliers"."expected_lead_time_days", '
    '"suppliers"."lead_time_stddev_days", "suppliers"."on_time_rate", '
    '"suppliers"."in_full_rate", "suppliers"."receipts_count"'
)
LOCK_PO_SQL = (
    f'SELECT {PO_COLUMNS}, {SUPPLIER_COLUMNS} FROM "purchase_orders" INNER JOIN "suppliers" ON '
    '("purchase_orders"."supplier_id" = "suppliers"."supplier_id") WHERE '
    f'"purchase_orders"."po_id" = %s {PO_ORDER} FOR UPDATE OF "purchase_orders"'
)
RECEIPT_LINES_SQL = (
    'SELECT "po_line_items"."line_item_id", "po_line_items"."po_id", '
    '"po_line_items"."line_number", "po_line_items"."item_type", '
    '"po_line_items"."location_id", "po_line_items"."quantity", "po_line_items"."unit_price", '
    '"po_line_items"."line_total", "po_line_items"."quantity_received" FROM "po_line_items" '
    'WHERE "po_line_items"."po_id" = %s ORDER BY "po_line_items"."line_number" ASC'
)
INSERT_RECEIPT_SQL = (
    'INSERT INTO "po_receipts" ("receipt_id", "po_id", "received_by", "received_at", "note", '
    '"closes_short") VALUES (%s, %s, %s, %s, %s, %s) RETURNING "po_receipts"."received_at", '
    '"po_receipts"."note", "po_receipts"."closes_short"'
)
INSERT_RECEIPT_LINES_SQL = (
    'INSERT INTO "po_receipt_lines" ("receipt_id", "line_item_id", "quantity") SELECT * FROM '
    'UNNEST((%s)::uuid[], (%s)::uuid[], (%s)::integer[]) RETURNING "po_receipt_lines"."id"'
)
INSERT_HISTORY_SQL = (
    'INSERT INTO "po_status_history" ("po_id", "from_status", "to_status", "changed_by", '
    '"changed_at", "reason") VALUES (%s, %s, %s, %s, %s, %s) RETURNING '
    '"po_status_history"."id", "po_status_history"."changed_at", "po_status_history"."reason"'
)
RECEIVE_PO_SQL = (
    'UPDATE "purchase_orders" SET "status" = %s, "received_at" = %s, "version" = '
    '("purchase_orders"."version" + 1), "receipt_status" = %s{first} WHERE '
    '"purchase_orders"."po_id" = %s'
)
LOCK_SUPPLIER_SQL = (
    'SELECT "suppliers"."supplier_id", "suppliers"."lead_time_days", '
    '"suppliers"."expected_lead_time_days", "suppliers"."receipts_count" FROM "suppliers" WHERE '
    '"suppliers"."supplier_id" = %s ORDER BY "suppliers"."name" ASC, '
    '"suppliers"."supplier_id" ASC LIMIT 1 FOR UPDATE'
)
LATEST_DELIVERIES_SQL = (
    'SELECT "purchase_orders"."approved_at" AS "approved_at", '
    '"purchase_orders"."first_received_at" AS "first_received_at", '
    '"purchase_orders"."po_id" AS "po_id" FROM "purchase_orders" WHERE '
    '("purchase_orders"."approved_at" IS NOT NULL AND "purchase_orders"."first_received_at" IS '
    'NOT NULL AND "purchase_orders"."supplier_id" = %s) ORDER BY 2 DESC, 3 DESC LIMIT 10'
)
INSERT_LEAD_TIME_SQL = (
    'INSERT INTO "supplier_lead_times" ("observation_id", "supplier_id", "po_id", "received_at", '
    '"actual_lead_time_days", "expected_lead_time_days", "lead_time_stddev_days", '
    '"receipts_count") VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING'
)
UPDATE_SUPPLIER_SQL = (
    'UPDATE "suppliers" SET "expected_lead_time_days" = %s, "lead_time_stddev_days" = %s, '
    '"receipts_count" = %s WHERE "suppliers"."supplier_id" = %s'
)
# The event outbox (integrations.events.record_events): integrations.queries' INSERT; then,
# after the commit, the worker's publish task.
ENQUEUE_TASK_SQL = (
    'INSERT INTO "django_tasks_database_dbtaskresult" ("id", "status", "enqueued_at", '
    '"started_at", "finished_at", "args_kwargs", "priority", "task_path", "worker_ids", '
    '"queue_name", "backend_name", "run_after", "return_value", "exception_class_path", '
    '"traceback") VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)'
)
EVENT_TYPE = "novatrek.procurement.{}"
DATE_MAX = datetime(9999, 1, 1, tzinfo=UTC)


# --- plumbing -----------------------------------------------------------------------------------


class HttpError(Exception):
    def __init__(self, status, code, message, **extra):
        super().__init__(message)
        self.status = status
        self.body = {"status": status, "code": code, "message": message, **extra}


REASONS = {
    200: "200 OK",
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    500: "500 Internal Server Error",
}


def _configure(conn):
    """Django's pool ``configure``: the session in UTC (timestamps come back in UTC)."""
    if conn.info.parameter_status("TimeZone") != "UTC":
        conn.execute("SET TIME ZONE 'UTC'")


def make_pool(conninfo, *, open=True):
    """A pool like Django's for the app (``procurement_site.settings``): same sizes, same check
    of each connection handed out, autocommit, client-side binding, no prepared statements."""
    env = os.environ
    checks = env.get("DB_CONN_HEALTH_CHECKS", "1").lower() not in ("0", "false", "no", "off")
    return ConnectionPool(
        conninfo=conninfo,
        kwargs={
            "options": "-c search_path=procurement,public",
            "autocommit": True,
            "client_encoding": "UTF8",
            "cursor_factory": ClientCursor,
            "prepare_threshold": None,
        },
        min_size=int(env.get("DB_POOL_MIN_SIZE", "3")),
        max_size=int(env.get("DB_POOL_MAX_SIZE", "10")),
        max_idle=float(env.get("DB_POOL_MAX_IDLE_SECONDS", "600")),
        timeout=float(env.get("DB_POOL_TIMEOUT_SECONDS", "10")),
        check=ConnectionPool.check_connection if checks else None,
        configure=_configure,
        open=open,
    )


def use_pool(new_pool):
    """Serve from ``new_pool`` (tests); returns the one it replaces, if any."""
    global _pool  # the process's one pool
    old, _pool = _pool, new_pool
    return old


def pool():
    """One pool per worker process, opened at its first request (after gunicorn forks)."""
    global _pool  # the process's one pool
    if _pool is None:
        _pool = make_pool(os.environ["DATABASE_URL"])
    return _pool


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError


def _stdlib_default(value):
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def orjson_dumps(body):
    return orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z)


def stdlib_dumps(body):
    """The same bytes as ``orjson_dumps`` but for float spelling, for where orjson is not
    installed (the test suite installs the dev extra only; ``make bench`` installs orjson)."""
    return json.dumps(
        body, default=_stdlib_default, separators=(",", ":"), ensure_ascii=False
    ).encode()


def _parse_json(raw):
    return orjson.loads(raw) if orjson else json.loads(raw)


_json = orjson_dumps if orjson else stdlib_dumps


def application(environ, start_response):
    headers = [("Content-Type", "application/json")]
    try:
        status, body, extra = _dispatch(environ)
        headers.extend(extra)
    except HttpError as exc:
        status, body = exc.status, exc.body
    payload = _json(body)
    headers.append(("Content-Length", str(len(payload))))
    start_response(REASONS.get(status, f"{status} Error"), headers)
    return [payload]


def _dispatch(environ):
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
    route = None
    if path == "/stock-levels" and method == "GET":
        route = list_stock_levels
    elif path == "/reorder-alerts" and method == "GET":
        route = list_alerts
    elif path == "/stock-adjustments" and method == "POST":
        route = record_adjustment
    elif path.startswith("/purchase-orders/") and method in ("GET", "PATCH"):
        route = get_purchase_order if method == "GET" else receive_purchase_order
    if route is None:
        raise HttpError(404, "not_found", "No such resource.")
    with pool().connection() as conn:
        return route(Request(environ, conn))


class Request:
    def __init__(self, environ, conn):
        self.environ = environ
        self.conn = conn
        self.cursor = conn.cursor()
        self.query = dict(parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        self.user = self._authenticate()
        self._perms = None

    def sql(self, sql, params=None):
        if statement_hook is not None:
            statement_hook(self.cursor, sql, params)
        self.cursor.execute(sql, params)
        return self.cursor

    def _authenticate(self):
        parts = self.environ.get("HTTP_AUTHORIZATION", "").split()
        if not parts or parts[0].lower() != "token":
            raise HttpError(
                401, "not_authenticated", "Authentication credentials were not provided."
            )
        if len(parts) != 2:
            raise HttpError(401, "authentication_failed", "Invalid token header.")
        key_hash = hashlib.sha256(parts[1].encode()).hexdigest()
        row = self.sql(TOKEN_WITH_USER_SQL, [key_hash]).fetchone()
        if row is None:
            raise HttpError(401, "authentication_failed", "Invalid token.")
        expires_at, revoked_at, is_active = row[6], row[7], row[17]
        if revoked_at is not None:
            raise HttpError(401, "authentication_failed", "Token revoked.")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise HttpError(401, "authentication_failed", "Token expired.")
        if not is_active:
            raise HttpError(401, "authentication_failed", "User inactive or deleted.")
        return {"id": row[8], "is_superuser": row[11], "username": row[12], "is_active": is_active}

    def has_perm(self, perm):
        """The app's backend: the user's and their groups' permissions, in one query, once."""
        if self.user["is_superuser"]:
            return True
        if self._perms is None:
            perms = set()
            user_id = self.user["id"]
            perms.update(
                f"{app}.{name}" for app, name in self.sql(PERMISSIONS_SQL, [user_id, user_id])
            )
            self._perms = perms
        return perm in self._perms

    def require(self, perm):
        if not self.has_perm(perm):
            raise HttpError(
                403, "permission_denied", "You do not have permission to perform this action."
            )

    def json(self):
        length = int(self.environ.get("CONTENT_LENGTH") or 0)
        try:
            return _parse_json(self.environ["wsgi.input"].read(length))
        except ValueError:
            raise HttpError(400, "malformed_request", "JSON parse error.") from None

    def absolute_url(self):
        env = self.environ
        scheme = "https" if env.get("HTTP_X_FORWARDED_PROTO") == "https" else env["wsgi.url_scheme"]
        host = env.get("HTTP_HOST") or f"{env['SERVER_NAME']}:{env['SERVER_PORT']}"
        query = env.get("QUERY_STRING", "")
        path = parse.quote(env.get("PATH_INFO", ""))
        return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


def _uuid(value, status=404, code="not_found", message="No such resource."):
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        raise HttpError(status, code, message) from None


# --- pagination (DRF's PageNumberPagination with page_size_query_param) ------------------------


def _page_size(query):
    try:
        size = int(query["page_size"])
    except (KeyError, ValueError):
        return PAGE_SIZE
    return min(size, MAX_PAGE_SIZE) if size > 0 else PAGE_SIZE


def _replace_query_param(url, key, value):
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict[key] = [str(value)]
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


def _remove_query_param(url, key):
    scheme, netloc, path, query, fragment = parse.urlsplit(url)
    query_dict = parse.parse_qs(query, keep_blank_values=True)
    query_dict.pop(key, None)
    query = parse.urlencode(sorted(query_dict.items()), doseq=True)
    return parse.urlunsplit((scheme, netloc, path, query, fragment))


def _paginate(request, count_sql, params, read_page, render):
    """A page as the app's paginator reads it: the count, then ``read_page(limit, offset)``
    unless the list is empty."""
    size = _page_size(request.query)
    raw_page = request.query.get("page", "1")
    try:
        number = int(raw_page)
    except ValueError:
        number = 0
    count = request.sql(count_sql, params).fetchone()[0]
    pages = max(1, math.ceil(count / size))
    if not 1 <= number <= pages:
        raise HttpError(404, "not_found", "Invalid page.")
    offset = (number - 1) * size
    rows = read_page(min(size, count - offset), offset) if count else []
    url = request.absolute_url()
    previous = None
    if number > 1:
        previous = (
            _remove_query_param(url, "page")
            if number == 2
            else _replace_query_param(url, "page", number - 1)
        )
    return (
        200,
        {
            "count": count,
            "next": _replace_query_param(url, "page", number + 1) if number < pages else None,
            "previous": previous,
            "results": [render(row) for row in rows],
        },
        [],
    )


# --- stock -----------------------------------------------------------------------------------


def _render_level(row):
    stock_id, item, location, on_hand, point, quantity, counted, *calc = row
    calculation = None
    if calc[0] is not None:
        calculation = dict(zip(CALCULATION_FIELDS, calc, strict=True))
    return {
        "stock_id": stock_id,
        "item_type": item,
        "location_id": location,
        "quantity_on_hand": on_hand,
        "reorder_point": point,
        "reorder_quantity": quantity,
        "last_counted_at": counted,
        "below_reorder_point": on_hand <= point,
        "reorder_calculation": calculation,
    }


def list_stock_levels(request):
    location = request.query.get("location_id")
    if location:
        location = _uuid(location, 400, "invalid", "Enter a valid UUID.")
    where, params = queries.level_conditions(
        location_id=location or None, item_type=request.query.get("item_type")
    )
    page_sql = queries.level_page_sql(where)

    def read_page(limit, offset):
        return request.sql(page_sql, [*params, limit, offset]).fetchall()

    return _paginate(request, queries.level_count_sql(where), params, read_page, _render_level)


def _render_alert(row):
    alert_id, stock_id, item, location, on_hand, point, quantity, suggested, on_order, created = row
    return {
        "alert_id": alert_id,
        "stock_id": stock_id,
        "item_type": item,
        "location_id": location,
        "quantity_on_hand": on_hand,
        "reorder_point": point,
        "reorder_quantity": quantity,
        "suggested_quantity": suggested,
        "quantity_on_order": on_order,
        "created_at": created,
    }


def list_alerts(request):
    where, params = queries.alert_conditions()
    page_sql = queries.alert_page_sql(where, on_order=quantity_on_order_sql('"stock_levels"'))

    def read_page(limit, offset):
        return request.sql(page_sql, [*params, limit, offset]).fetchall()

    return _paginate(request, queries.alert_count_sql(where), params, read_page, _render_alert)


def _apply_changes(request, *, levels, changes, reason, note, po_id, now, receipt_id=None):
    """The statements of ``stock.services.record_adjustments`` once the levels are locked:
    one UPDATE ... FROM unnest, one multi-row INSERT, the alert sync. ``changes``: (level
    index, delta)."""
    quantity = {level[0]: level[3] for level in levels}
    by_id = {level[0]: level for level in levels}
    params = []
    for stock_id, delta in changes:
        level = by_id[stock_id]
        before = quantity[stock_id]
        after = before + delta
        if after < 0:
            raise HttpError(
                409,
                "insufficient_stock",
                f"Stock of {level[1]} at {level[2]} is {before}; a change of {delta} would "
                "take it below zero.",
                quantity_on_hand=before,
                stock_id=str(stock_id),
            )
        quantity[stock_id] = after
        # queries.ADJUSTMENT_INSERT_COLUMNS
        params += [uuid.uuid4(), stock_id, reason, delta, after, None, note]
        params += [request.user["username"], po_id, receipt_id]
    changed = [level for level in levels if quantity[level[0]] != level[3]]
    if changed:
        request.sql(
            UPDATE_LEVELS_SQL,
            [
                [level[0] for level in changed],
                [quantity[level[0]] - level[3] for level in changed],
            ],
        )
    inserted = request.sql(queries.insert_adjustments_sql(len(changes)), params).fetchall()
    adjustments = [
        {
            "adjustment_id": params[index * 10],
            "stock_id": stock_id,
            "item_type": by_id[stock_id][1],
            "location_id": by_id[stock_id][2],
            "reason": reason,
            "quantity_delta": delta,
            "quantity_after": params[index * 10 + 4],
            "counted_quantity": None,
            "note": note,
            "adjusted_by": request.user["username"],
            "created_at": created_at,
            "quantity_on_hand": quantity[stock_id],
        }
        for index, ((stock_id, delta), (created_at,)) in enumerate(
            zip(changes, inserted, strict=True)
        )
    ]
    _record_events(
        request,
        "stock_level.adjusted",
        [(adjustment["stock_id"], adjustment) for adjustment in adjustments],
        now=now,
    )
    _sync_alerts(request, levels=levels, quantity=quantity, now=now)
    return quantity, inserted, params


def _sync_alerts(request, *, levels, quantity, now):
    """``stock.services.sync_alerts``: read the open alerts of the levels; resolve those lifted,
    open the missing ones, an event for each."""
    # (alert_id, stock_id) of each level's open alert.
    open_alerts = {
        stock_id: (alert_id, stock_id)
        for stock_id, alert_id in request.sql(
            queries.open_alerts_of_sql(len(levels)), [level[0] for level in levels]
        ).fetchall()
    }
    resolved = [
        open_alerts[level[0]]
        for level in levels
        if quantity[level[0]] > level[4] and level[0] in open_alerts
    ]
    opened = [
        level for level in levels if quantity[level[0]] <= level[4] and level[0] not in open_alerts
    ]
    if resolved:
        request.sql(
            queries.resolve_alerts_sql(len(resolved)),
            [now, *(row[0] for row in resolved)],
        )
        _record_events(
            request,
            "reorder_alert.resolved",
            [(row[0], {"alert_id": row[0], "stock_id": row[1]}) for row in resolved],
            now=now,
        )
    if opened:
        alert_params, alert_ids = [], []
        for level in opened:
            alert_ids.append(uuid.uuid4())
            alert_params += [alert_ids[-1], level[0], quantity[level[0]], level[4]]
        request.sql(
            OPEN_ALERTS_SQL.format(
                rows=", ".join(["(%s, %s, %s, %s, NULL, DEFAULT, NULL)"] * len(opened))
            ),
            alert_params,
        )
        _record_events(
            request,
            "reorder_alert.opened",
            [
                (alert_id, {"alert_id": alert_id, "stock_id": level[0]})
                for alert_id, level in zip(alert_ids, opened, strict=True)
            ],
            now=now,
        )


def _record_events(request, event_type, items, *, now, then=()):
    """``integrations.events.record_events``: ``items`` are (subject, data); ``then``: the
    types of more events of the same items, after them, in the same statement
    (``record_events_of_actions``)."""
    if not items:
        return
    username = request.user["username"]
    params = []
    for type_ in (event_type, *then):
        for subject, data in items:
            # integrations.queries.EVENT_INSERT_COLUMNS
            params += [uuid.uuid4(), EVENT_TYPE.format(type_), "/procurement", str(subject)]
            params += [now, username, json.dumps(data, default=_stdlib_default)]
    request.sql(insert_events_sql(len(items) * (1 + len(then))), params)


def _enqueue_publish(request):
    """After the commit, as the app: the publish task for the worker."""
    request.sql(
        ENQUEUE_TASK_SQL,
        [
            uuid.uuid4(),
            "READY",
            datetime.now(UTC),
            None,
            None,
            '{"args": [], "kwargs": {}}',
            0,
            "integrations.tasks.publish_events",
            "[]",
            "default",
            "default",
            DATE_MAX,
            None,
            "",
            "",
        ],
    )


def record_adjustment(request):
    request.require("stock.add_stockadjustment")
    body = request.json()
    reason = body.get("reason") if isinstance(body, dict) else None
    delta = body.get("quantity_delta") if isinstance(body, dict) else None
    if reason not in ADJUSTMENT_SIGNS or not isinstance(delta, int) or isinstance(delta, bool):
        raise HttpError(400, "invalid", "The floor takes stock_id, reason and quantity_delta.")
    sign = ADJUSTMENT_SIGNS[reason]
    if delta == 0 or (sign and (delta > 0) != (sign > 0)):
        raise HttpError(400, "invalid", f"quantity_delta: must be negative for {reason}.")
    stock_id = _uuid(body.get("stock_id"), 400, "invalid", "stock_id: Must be a valid UUID.")
    note = body.get("note") or ""
    now = datetime.now(UTC)
    with request.conn.transaction():
        levels = request.sql(queries.lock_levels_sql(ids=1, keys=0), [stock_id]).fetchall()
        if not levels:
            raise HttpError(
                404, "not_found", f"No stock level {stock_id}.", fields={"stock_id": []}
            )
        quantity, inserted, params = _apply_changes(
            request,
            levels=levels,
            changes=[(stock_id, delta)],
            reason=reason,
            note=note,
            po_id=None,
            now=now,
        )
    _enqueue_publish(request)
    [level] = levels
    [(created_at,)] = inserted
    return (
        201,
        {
            "adjustment_id": params[0],
            "stock_id": stock_id,
            "item_type": level[1],
            "location_id": level[2],
            "reason": reason,
            "quantity_delta": delta,
            "quantity_after": quantity[stock_id],
            "counted_quantity": None,
            "note": note,
            "adjusted_by": request.user["username"],
            "created_at": created_at,
            "quantity_on_hand": quantity[stock_id],
        },
        [],
    )


# --- purchase orders ---------------------------------------------------------------------------


def _available_transitions(request, po, *, editors):
    """As the app: approving and rejecting are for approvers who did not shape the PO (creator,
    editors, submitters); approving also for those who have not approved it yet."""
    status, lines = po["status"], po["line_items"]
    shaped = {po["created_by"], *editors}
    shaped.update(c["changed_by"] for c in po["status_history"] if c["to_status"] == "submitted")
    approvers = {approval["approved_by"] for approval in po["approvals"]}
    username = request.user["username"]
    allowed = []
    for target, needs_approval in TRANSITIONS.get(status, []):
        if target == "submitted" and not lines:
            continue
        if needs_approval:
            ok = (
                request.has_perm(CHANGE_PO)
                and request.has_perm(APPROVE_PO)
                and username not in shaped
                and (target != "approved" or username not in approvers)
            )
        else:
            ok = request.has_perm(CHANGE_PO)
        if ok:
            allowed.append(target)
    return [status for status in STATUS_ORDER if status in allowed]


def _read_po(request, po_id):
    row = request.sql(procurement_queries.PO_SQL, [po_id]).fetchone()
    if row is None:
        raise HttpError(404, "not_found", f"No purchase order {po_id}.")
    return _render_po(request, row)


def _render_po(request, row):
    """The PO row (``PO_COLUMNS``) with its history, edits, approvals, lines and receipts read,
    in the app's order (``procurement.selectors.read_details``)."""
    po_id = row[0]
    editors = {edit[1] for edit in request.sql(procurement_queries.editors_sql(1), [po_id])}
    history = request.sql(procurement_queries.history_sql(1), [po_id]).fetchall()
    approvals = request.sql(procurement_queries.approvals_sql(1), [po_id]).fetchall()
    lines = request.sql(procurement_queries.lines_sql(1), [po_id]).fetchall()
    receipts = request.sql(procurement_queries.receipts_sql(1), [po_id]).fetchall()
    receipt_lines = {}
    if receipts:
        ids = [receipt[1] for receipt in receipts]
        for rl in request.sql(procurement_queries.receipt_lines_sql(len(ids)), ids).fetchall():
            receipt_lines.setdefault(rl[0], []).append(
                {"line_item_id": rl[1], "item_type": rl[2], "location_id": rl[3], "quantity": rl[4]}
            )
    (po_id, supplier_id, status, total, currency, approved_by, submitted_at, approved_at) = row[:8]
    created_at, created_by, expected, received_at, sent_at, version, receipt_status = row[8:15]
    final = status in ("received", "rejected", "cancelled")
    po = {
        "po_id": po_id,
        "supplier_id": supplier_id,
        "status": status,
        "total_amount": total,
        "currency": currency,
        "approved_by": approved_by,
        "submitted_at": submitted_at,
        "approved_at": approved_at,
        "created_at": created_at,
        "created_by": created_by,
        "expected_delivery_date": expected,
        "received_at": received_at,
        "sent_to_supplier_at": sent_at,
        "approvals": [
            {"approved_by": approval[1], "approved_at": approval[2]} for approval in approvals
        ],
        "is_overdue": status in AWAITING_DELIVERY
        and expected is not None
        and expected < datetime.now(UTC).date(),
        "available_transitions": None,
        "line_items": [
            {
                "line_item_id": line[1],
                "item_type": line[2],
                "location_id": line[3],
                "quantity": line[4],
                "unit_price": line[5],
                "line_total": line[6],
                "quantity_received": line[7],
                "quantity_open": 0 if final else max(line[4] - line[7], 0),
            }
            for line in lines
        ],
        "status_history": [
            {
                "from_status": change[1],
                "to_status": change[2],
                "changed_by": change[3],
                "changed_at": change[4],
                "reason": change[5],
            }
            for change in history
        ],
        "receipt_status": receipt_status,
        "receipts": [
            {
                "receipt_id": receipt[1],
                "po_id": receipt[0],
                "received_by": receipt[2],
                "received_at": receipt[3],
                "note": receipt[4],
                "lines": receipt_lines.get(receipt[1], []),
            }
            for receipt in receipts
        ],
    }
    po["available_transitions"] = _available_transitions(request, po, editors=editors)
    return 200, po, [("ETag", f'"{version}"')]


def _po_id(request):
    raw = request.environ["PATH_INFO"][len("/purchase-orders/") :]
    return _uuid(raw, message=f"No purchase order {raw}.")


def get_purchase_order(request):
    return _read_po(request, _po_id(request))


def receive_purchase_order(request):
    """``PATCH {"status": "received"}``: one receipt of every open quantity, as
    ``procurement.services._receive`` writes it, then the supplier's figures."""
    request.require(CHANGE_PO)
    po_id = _po_id(request)
    body = request.json()
    if not isinstance(body, dict) or str(body.get("status", "")).strip().lower() != "received":
        raise HttpError(400, "invalid", 'The floor takes {"status": "received"} only.')
    now = datetime.now(UTC)
    username = request.user["username"]
    with request.conn.transaction():
        po = request.sql(LOCK_PO_SQL, [po_id]).fetchone()
        if po is None:
            raise HttpError(404, "not_found", f"No purchase order {po_id}.")
        status, supplier_id = po[2], po[1]
        if status != "shipped" or not request.has_perm(CHANGE_PO):
            message = (
                "The purchase order is already received."
                if status == "received"
                else f"A {status} purchase order cannot move to received."
            )
            raise HttpError(
                409,
                "invalid_transition",
                message,
                current_status=status,
                allowed_transitions=[],
            )
        lines = request.sql(RECEIPT_LINES_SQL, [po_id]).fetchall()
        received = [
            (line[0], line[3], line[4], line[5] - line[8]) for line in lines if line[5] > line[8]
        ]
        receipt_id = uuid.uuid4()
        request.sql(INSERT_RECEIPT_SQL, [receipt_id, po_id, username, now, "", False]).fetchone()
        if received:
            request.sql(
                INSERT_RECEIPT_LINES_SQL,
                [
                    [receipt_id] * len(received),
                    [line_id for line_id, *_ in received],
                    [quantity for *_, quantity in received],
                ],
            ).fetchall()
            params = []
            for line_id, *_, quantity in received:
                params += [line_id, quantity]
            request.sql(
                procurement_queries.add_received_sql(len(received)),
                [*params, *(line_id for line_id, *_ in received)],
            )
            _receive_lines(
                request,
                lines=[(item, location, quantity) for _, item, location, quantity in received],
                po_id=po_id,
                receipt_id=receipt_id,
                now=now,
            )
        request.sql(
            INSERT_HISTORY_SQL,
            [po_id, "shipped", "received", username, now, ""],
        ).fetchone()
        first_delivery = bool(received) and po[15] is None
        request.sql(
            RECEIVE_PO_SQL.format(first=', "first_received_at" = %s' if first_delivery else ""),
            ["received", now, "full", *([now] if first_delivery else []), po_id],
        )
        if first_delivery:
            _learn_lead_time(request, supplier_id=supplier_id)
        _record_completion(request, supplier_id=supplier_id, due=po[10], now=now)
        # As the app: the PO as saved (not read again), with its lines, history and receipts
        # read, once for its two events, again for the answer.
        first_received_at = now if first_delivery else po[15]
        saved = (*po[:2], "received", *po[3:11], now, po[12], po[13] + 1, "full", first_received_at)
        _, rendered, _ = _render_po(request, saved)
        _record_events(
            request,
            "purchase_order.receipt_recorded",
            [(po_id, rendered)],
            now=datetime.now(UTC),
            then=["purchase_order.received"],
        )
    _enqueue_publish(request)
    return _render_po(request, saved)


def _receive_lines(request, *, lines, po_id, receipt_id, now):
    """``record_adjustments(reason=po_receipt)``: create the missing levels (before any lock),
    lock every level once, apply."""
    request.sql("SAVEPOINT floor_receipt")
    keys = sorted(
        {(item, location) for item, location, _ in lines}, key=lambda k: (k[0], str(k[1]))
    )
    params = []
    for item, location in keys:
        # queries.LEVEL_TABLE_COLUMNS
        params += [uuid.uuid4(), item, location, 0, 0, 0, None, None]
    request.sql(queries.create_levels_sql(len(keys)), params)
    levels = _lock_pairs(request, keys)
    by_key = {(level[1], level[2]): level[0] for level in levels}
    _apply_changes(
        request,
        levels=levels,
        changes=[(by_key[(item, location)], quantity) for item, location, quantity in lines],
        reason="po_receipt",
        note=f"Receipt {receipt_id} of purchase order {po_id}",
        po_id=po_id,
        receipt_id=receipt_id,
        now=now,
    )
    request.sql("RELEASE SAVEPOINT floor_receipt")


def _lock_pairs(request, keys):
    return request.sql(
        queries.lock_levels_sql(ids=0, keys=len(keys)), [value for key in keys for value in key]
    ).fetchall()


def _learn_lead_time(request, *, supplier_id):
    """``procurement.lead_times.learn_lead_time``, statement for statement."""
    request.sql("SAVEPOINT floor_supplier")
    _, declared, learned, count = request.sql(LOCK_SUPPLIER_SQL, [supplier_id]).fetchone()
    latest = request.sql(LATEST_DELIVERIES_SQL, [supplier_id]).fetchall()
    lead_times = [lead_time_days(approved, delivered) for approved, delivered, _ in latest]
    if lead_times:
        previous = float(learned) if count and learned is not None else float(declared)
        expected, spread = learned_lead_time(
            previous=previous, latest=lead_times[: min(count + 1, SPREAD_SAMPLE)]
        )
        request.sql(
            UPDATE_SUPPLIER_SQL,
            [
                Decimal(str(expected)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
                Decimal(str(spread)).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP),
                count + 1,
                supplier_id,
            ],
        )
        # The lead-time history row (learn_lead_time's last statement).
        _, delivered_at, po_id = latest[0]
        request.sql(
            INSERT_LEAD_TIME_SQL,
            [
                uuid.uuid4(),
                supplier_id,
                po_id,
                delivered_at,
                lead_times[0],
                Decimal(str(min(expected, MAX_LEAD_TIME_DAYS))).quantize(
                    Decimal("0.001"), rounding=ROUND_HALF_UP
                ),
                Decimal(str(min(spread, MAX_LEAD_TIME_DAYS))).quantize(
                    Decimal("0.001"), rounding=ROUND_HALF_UP
                ),
                count + 1,
            ],
        )
    request.sql("RELEASE SAVEPOINT floor_supplier")


def _record_completion(request, *, supplier_id, due, now):
    """``procurement.lead_times.record_po_completion``: the day's totals, then the rates."""
    day = now.date()
    on_time = None if due is None else day <= due
    request.sql(
        RECORD_COMPLETED_ORDER_SQL,
        [supplier_id, day, int(on_time is not None), int(bool(on_time)), 1],
    )
    request.sql(
        refresh_rates_sql(1),
        [
            day - timedelta(days=RATE_WINDOW_DAYS),
            day - timedelta(days=RATE_WINDOW_DAYS),
            supplier_id,
        ],
    )
