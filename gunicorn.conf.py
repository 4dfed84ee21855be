"""Gunicorn settings, in one file, read from the environment (see docs/operations.md).

Logs: gunicorn's own lines use the service's JSON formatter on stderr, like Django's. The request
line is written by Django (procurement_site.middleware.RequestIdMiddleware, with the request id),
so gunicorn's access log is off unless GUNICORN_ACCESSLOG names a destination ("-" for stdout,
else a file path); its lines are JSON too, with gunicorn's usual line as the message.
"""

import multiprocessing
import os

from procurement_site.logging import gunicorn_config

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The runtime control socket (gunicornc) is off unless given a path: two servers on one host
# would otherwise share $HOME/.gunicorn/gunicorn.ctl.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
if _control_socket:
    control_socket = _control_socket
control_socket_disable = not _control_socket
wsgi_app = "procurement_site.wsgi:application"

logconfig_dict = gunicorn_config(loglevel.upper(), accesslog)
