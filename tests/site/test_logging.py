"""Structured JSON logs with a request id on every line and in the X-Request-ID header."""

import io
import json
import logging
import re
import sys

import pytest
from django.conf import settings
from django.test import override_settings

from procurement_site.logging import DuringRequest, JsonFormatter, request_id

pytestmark = pytest.mark.django_db

HEX_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """Every log line written during the test, through the service's formatter, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)


def test_incoming_request_id_is_echoed(reader_client):
    response = reader_client.get("/suppliers", HTTP_X_REQUEST_ID="edge-7f3a.9_x")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-7f3a.9_x"


def test_missing_request_id_is_generated(anon_client):
    first = anon_client.get("/suppliers")
    second = anon_client.get("/suppliers")

    assert HEX_ID.fullmatch(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "incoming",
    ["x" * 129, "has space", "new\\nline", "<script>", "semi;colon", "ünï"],
)
def test_unsafe_request_id_is_replaced(anon_client, incoming):
    response = anon_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert HEX_ID.fullmatch(response["X-Request-ID"])


def test_request_id_of_128_characters_is_kept(anon_client):
    incoming = "a" * 128
    assert anon_client.get("/healthz", HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


def test_error_responses_carry_the_request_id(anon_client):
    response = anon_client.get("/suppliers", HTTP_X_REQUEST_ID="req-401")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "req-401"


@override_settings(ROOT_URLCONF="tests.site.logging_urls")
def test_every_line_of_a_request_carries_its_id(anon_client, json_lines):
    response = anon_client.get("/test-logging", HTTP_X_REQUEST_ID="trace-42")

    assert response.status_code == 200
    lines = json_lines()
    view_line = next(line for line in lines if line["logger"] == "tests.site.view")
    assert view_line["message"] == "inside the view"
    assert view_line["request_id"] == "trace-42"
    assert view_line["order"] == 7
    assert view_line["level"] == "INFO"
    request_line = next(line for line in lines if line["logger"] == "procurement_site.request")
    assert request_line["request_id"] == "trace-42"
    assert request_line["message"] == "GET /test-logging 200"
    assert request_line["method"] == "GET"
    assert request_line["path"] == "/test-logging"
    assert request_line["status"] == 200
    assert isinstance(request_line["duration_ms"], float)
    assert all(line["request_id"] == "trace-42" for line in lines)
    assert request_id.get() is None  # nothing leaks past the request


def test_client_error_is_logged_once_as_a_warning(reader_client, json_lines):
    reader_client.get("/no-such-thing", HTTP_X_REQUEST_ID="missing-1")

    lines = [line for line in json_lines() if line["request_id"] == "missing-1"]
    assert [(line["logger"], line["level"], line["status"]) for line in lines] == [
        ("procurement_site.request", "WARNING", 404)
    ]


def test_health_probes_are_logged_at_debug(anon_client, json_lines):
    anon_client.get("/healthz", HTTP_X_REQUEST_ID="probe-1")

    (line,) = [line for line in json_lines() if line["request_id"] == "probe-1"]
    assert line["level"] == "DEBUG"


def _record(msg, *args, exc_info=None, **extra):
    return logging.getLogger("tests.formatter").makeRecord(
        "tests.formatter", logging.ERROR, __file__, 1, msg, args, exc_info, extra=extra
    )


def test_formatter_outputs_one_json_object_per_record():
    try:
        raise ValueError("boom")
    except ValueError:
        exc_info = sys.exc_info()
    record = _record(
        'quoted "%s" and\nnewline, ünïcode',
        "arg",
        exc_info=exc_info,
        status=503,
        obj=object(),
    )
    token = request_id.set("fmt-1")
    try:
        output = JsonFormatter().format(record)
    finally:
        request_id.reset(token)

    assert "\n" not in output  # one line, whatever the message holds
    entry = json.loads(output)
    assert entry["message"] == 'quoted "arg" and\nnewline, ünïcode'
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "tests.formatter"
    assert entry["request_id"] == "fmt-1"
    assert entry["status"] == 503
    assert entry["obj"].startswith("<object object")
    assert "ValueError: boom" in entry["exception"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["timestamp"])


def test_formatter_outside_a_request_has_null_request_id():
    entry = json.loads(JsonFormatter().format(_record("plain")))

    assert entry["request_id"] is None
    assert set(entry) == {"timestamp", "level", "logger", "message", "request_id"}


def test_django_and_root_loggers_write_json(settings):
    assert settings.LOGGING["formatters"]["json"]["()"] == "procurement_site.logging.JsonFormatter"
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate
    root_formatters = {type(handler.formatter) for handler in logging.getLogger().handlers}
    assert JsonFormatter in root_formatters
    assert settings.MIDDLEWARE[0] == "procurement_site.middleware.RequestIdMiddleware"


def test_django_request_lines_are_kept_only_while_a_request_is_served():
    """``django.request``'s repeat of a response, logged after the middleware (request id
    reset), is dropped; what it logs during the request (a traceback, a CSRF refusal) is kept."""
    keep = DuringRequest()
    assert not keep.filter(_record("Not Found: %s", "/x"))
    token = request_id.set("during-1")
    try:
        assert keep.filter(_record("Forbidden (CSRF cookie not set.): %s", "/x"))
    finally:
        request_id.reset(token)
    assert settings.LOGGING["loggers"]["django.request"]["filters"] == ["during_request"]
