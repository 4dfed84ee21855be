"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

Stdlib only, so that gunicorn's master process (which never loads Django) can use the same
formatter for its own lines.
"""

import contextvars
import json
import logging
import logging.config
from datetime import UTC, datetime

# Set by procurement_site.middleware.RequestIdMiddleware for the duration of a request.
request_id = contextvars.ContextVar("request_id", default=None)

# Attributes every LogRecord has; any other attribute came from ``extra=`` and is output as is.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
}
# ``django.request`` passes the request object itself; its repr says nothing the line doesn't.
_SKIPPED_EXTRAS = frozenset({"request"})


class JsonFormatter(logging.Formatter):
    """``{"timestamp", "level", "logger", "message", "request_id", ...extra, "exception"?}``"""

    def format(self, record):
        entry = {
            "timestamp": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id.get(),
        }
        for key, value in vars(record).items():
            if key in _RECORD_ATTRIBUTES or key in _SKIPPED_EXTRAS or key.startswith("_"):
                continue
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure(config):
    """Django's ``LOGGING_CONFIG``: the ``LOGGING`` dict, and Python warnings routed through
    logging (``py.warnings``) so that they are JSON lines like the rest."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
