"""Structured logs: one JSON object per line, each carrying the id of the request it belongs to.

The logging configuration is written once, here: ``django_config`` is Django's ``LOGGING``,
``gunicorn_config`` gunicorn's ``logconfig_dict`` (the same formatter and handler, plus
gunicorn's own loggers). Stdlib only, so that gunicorn's master process (which never loads
Django) can use it.
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


class DuringRequest(logging.Filter):
    """Keeps the lines logged while a request is served. ``django.request`` logs every 4xx/5xx
    response once more after the middleware returned (``RequestIdMiddleware`` has logged the
    request line by then, and reset the request id): that repeat is dropped."""

    def filter(self, record):
        return request_id.get() is not None


FORMATTERS = {"json": {"()": "procurement_site.logging.JsonFormatter"}}


def _stream(stream):
    return {"class": "logging.StreamHandler", "formatter": "json", "stream": stream}


def django_config(level):
    """Everything as JSON lines on stderr, through the root logger, at ``level``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": FORMATTERS,
        "filters": {"during_request": {"()": "procurement_site.logging.DuringRequest"}},
        "handlers": {"console": _stream("ext://sys.stderr")},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # Replace Django's own handlers (plain text, mail to admins) by propagation to root.
            "django": {"handlers": [], "level": level, "propagate": True},
            "django.request": {"filters": ["during_request"]},
            "django.server": {"handlers": [], "level": level, "propagate": True},
            # Python warnings, captured by ``configure``, become JSON lines too.
            "py.warnings": {"handlers": [], "propagate": True},
        },
    }


def gunicorn_config(level, accesslog):
    """Django's configuration, plus gunicorn's loggers: its error log on stderr, its access log
    (off unless ``accesslog`` names a destination: "-" for stdout, else a file path)."""
    config = django_config(level)
    config["handlers"]["access"] = (
        _stream("ext://sys.stdout")
        if accesslog in (None, "-")
        else {"class": "logging.FileHandler", "formatter": "json", "filename": accesslog}
    )
    config["loggers"].update(
        {
            "gunicorn.error": {"level": level, "handlers": ["console"], "propagate": False},
            # With a logging dict gunicorn always calls its access logger: no handler means off.
            "gunicorn.access": {
                "level": "INFO" if accesslog else "WARNING",
                "handlers": ["access"] if accesslog else [],
                "propagate": False,
            },
        }
    )
    return config


def configure(config):
    """Django's ``LOGGING_CONFIG``: the ``LOGGING`` dict, and Python warnings routed through
    logging (``py.warnings``) so that they are JSON lines like the rest."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
