"""A database outage is a 503 with the error shape, and the service recovers without a restart.

The end-to-end test runs gunicorn (gunicorn.conf.py) on a database of its own, reached through a
TCP proxy the test stops and starts: a database that goes away and comes back, without touching
the PostgreSQL cluster other test runs share.
"""

import http.client
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import suppress

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

from accounts.models import hash_key
from procurement_site.api.errors import exception_handler, json_500
from procurement_site.middleware import DatabaseUnavailableMiddleware
from tests.servers import free_port, server_env
from tests.site.databases import connect, database_url, throwaway_database

OUTAGE_BODY = {
    "status": 503,
    "code": "database_unavailable",
    "message": "The database is unavailable; retry shortly.",
}

# --- The mapping, in process ------------------------------------------------------------------

OUTAGE_ERRORS = [
    PoolTimeout("couldn't get a connection after 2.00 sec"),
    OperationalError("connection failed: Connection refused"),
    InterfaceError("connection already closed"),
    psycopg.OperationalError("server closed the connection unexpectedly"),
]


@pytest.mark.parametrize("exc", OUTAGE_ERRORS, ids=lambda exc: type(exc).__name__)
def test_api_handler_maps_outage_to_503(exc):
    response = exception_handler(exc, {})

    assert response.status_code == 503
    assert response.data == OUTAGE_BODY
    assert response["Retry-After"] == "5"


@pytest.mark.parametrize("exc", [DatabaseError("bad"), IntegrityError("dup")])
def test_api_handler_keeps_other_database_errors_500(exc):
    response = exception_handler(exc, {})

    assert response.status_code == 500
    assert response.data["code"] == "server_error"


@pytest.mark.parametrize("exc", OUTAGE_ERRORS, ids=lambda exc: type(exc).__name__)
def test_middleware_maps_outage_in_django_views_to_503(rf, exc):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    response = middleware.process_exception(rf.get("/admin/"), exc)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == OUTAGE_BODY


def test_middleware_leaves_other_exceptions_to_django(rf):
    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    assert middleware.process_exception(rf.get("/admin/"), ValueError("bug")) is None


def test_handler500_maps_outage_raised_in_a_middleware_to_503(rf):
    try:
        raise PoolTimeout("couldn't get a connection")
    except PoolTimeout:
        response = json_500(rf.get("/admin/"))
    assert response.status_code == 503
    assert json.loads(response.content) == OUTAGE_BODY

    try:
        raise ValueError("bug")
    except ValueError:
        response = json_500(rf.get("/admin/"))
    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "server_error"


# --- Against a real server --------------------------------------------------------------------


class TcpProxy:
    """Forwards a local port to the database server. ``stop`` drops every connection and
    refuses new ones, as a stopped server does; ``start`` accepts again on the same port."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.port = free_port()
        self._listener = None
        self._sockets = set()
        self._lock = threading.Lock()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self):
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener):
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def server_database():
    """An empty database for the server, dropped afterwards."""
    with throwaway_database("srv") as settings_dict:
        yield settings_dict


@pytest.fixture
def proxy():
    upstream = settings.DATABASES["default"]
    proxy = TcpProxy((upstream.get("HOST") or "127.0.0.1", int(upstream.get("PORT") or 5432)))
    proxy.start()
    yield proxy
    proxy.stop()


def _server_env(database, proxy_port, http_port):
    return server_env(
        database_url(database, host="127.0.0.1", port=proxy_port),
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="2",
        DB_POOL_TIMEOUT_SECONDS="2",
        GUNICORN_BIND=f"127.0.0.1:{http_port}",
        GUNICORN_WORKERS="1",
    )


def _token_for_new_user(database):
    key = secrets.token_hex(20)
    with connect(database) as conn:
        (user_id,) = conn.execute(
            "INSERT INTO procurement.auth_user (password, is_superuser, username, first_name, "
            "last_name, email, is_staff, is_active, date_joined) "
            "VALUES ('!', false, 'outage-probe', '', '', '', false, true, now()) RETURNING id"
        ).fetchone()
        conn.execute(
            "INSERT INTO procurement.api_tokens (token_id, user_id, name, key_hash, key_prefix, "
            "created_at) VALUES (%s, %s, 'outage probe', %s, %s, now())",
            [uuid.uuid4(), user_id, hash_key(key), key[:8]],
        )
    return key


class Server:
    def __init__(self, port):
        self.port = port

    def get(self, path, headers=None):
        """``(status, headers, body)``; redirects are not followed."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def wait_until(self, path, status, headers=None, seconds=15):
        deadline = time.monotonic() + seconds
        while True:
            with suppress(OSError):
                if self.get(path, headers)[0] == status:
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} did not answer {status} within {seconds}s")
            time.sleep(0.25)


def _assert_outage_response(response):
    status, headers, body = response
    assert status == 503
    assert headers["Content-Type"] == "application/json"
    assert headers["Retry-After"] == "5"
    assert json.loads(body) == OUTAGE_BODY


@pytest.mark.slow
def test_outage_is_503_json_and_the_pool_recovers_without_restart(server_database, proxy, tmp_path):
    http_port = free_port()
    env = _server_env(server_database, proxy.port, http_port)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    token = {"Authorization": f"Token {_token_for_new_user(server_database)}"}
    session = {"Cookie": "sessionid=0123456789abcdefghijklmnopqrstuv"}
    log_path = tmp_path / "gunicorn.log"
    with open(log_path, "w") as log:
        gunicorn = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", "gunicorn.conf.py"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(http_port)
    try:
        server.wait_until("/healthz", 200, seconds=30)
        status, _, body = server.get("/suppliers", token)
        assert status == 200, body
        assert json.loads(body)["count"] == 0
        assert server.get("/readyz")[0] == 200
        assert server.get("/admin/", session)[0] == 302  # to the login page

        proxy.stop()

        assert server.get("/healthz")[0] == 200  # the process is alive
        _assert_outage_response(server.get("/readyz"))
        # The token lookup is the first query: authentication itself meets the outage.
        _assert_outage_response(server.get("/suppliers", token))
        # A Django (non-DRF) view: the admin loading the session.
        _assert_outage_response(server.get("/admin/", session))

        proxy.start()

        server.wait_until("/suppliers", 200, token, seconds=15)
        assert server.get("/readyz")[0] == 200
        assert server.get("/admin/", session)[0] == 302
    finally:
        gunicorn.terminate()
        try:
            gunicorn.wait(timeout=15)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
            gunicorn.wait()

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    outage_lines = [
        line
        for line in lines
        if line.get("path") == "/suppliers" and line.get("status") == 503 and line["request_id"]
    ]
    assert outage_lines, "the 503 request line is logged with its request id"
