"""Deadlocks, serialization failures and statement timeouts are told apart from a lost
connection (common.db), with real PostgreSQL errors provoked by real concurrent sessions:

- a deadlock is retried once inside the service; a second one is a 409 ``conflict_retry``;
- a statement timeout is a 503 ``database_timeout``, logged as an error with its traceback;
- only a connection failure is a 503 ``database_unavailable`` (tests/site/test_outage.py).
"""

import logging
import threading
import time

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from common import db
from procurement import services
from procurement.models import PurchaseOrder
from procurement_site.api.errors import exception_handler
from stock.models import StockAdjustment
from tests.conftest import ALL_PERMS, client_for
from tests.factories import StockLevelFactory, SupplierFactory, UserFactory
from tests.procurement.conftest import LOCATION, line, walk_to

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

WAIT_SECONDS = 30


def side_connection():
    """A session of its own on the test database (not Django's), to hold locks."""
    params = connection.get_connection_params()
    keep = ("dbname", "user", "host", "port", "password", "options")
    return psycopg.connect(**{k: v for k, v in params.items() if k in keep and v})


def wait_until_waiting_on_a_lock(pid):
    """Until session ``pid`` waits for a lock (polled in pg_stat_activity)."""
    deadline = time.monotonic() + WAIT_SECONDS
    with side_connection() as probe:
        probe.autocommit = True
        while time.monotonic() < deadline:
            row = probe.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()
            if row and row[0] == "Lock":
                return
            time.sleep(0.02)
    raise AssertionError(f"session {pid} never waited for a lock")


def django_pid():
    connection.ensure_connection()
    return connection.connection.info.backend_pid


class Locker(threading.Thread):
    """A session that locks ``first`` (a level), then, once ``victim`` waits for it, ``second``
    (the PO): a lock cycle with a receipt, which locks the PO and then its levels. Its
    ``deadlock_timeout`` is long, so the receipt's session finds the cycle and is the one
    aborted. ``before_commit`` runs while it still holds both locks."""

    def __init__(self, *, level_id, po_id, victim_pid, before_commit=None):
        super().__init__(daemon=True)
        self.level_id, self.po_id, self.victim_pid = level_id, po_id, victim_pid
        self.before_commit = before_commit
        self.holding = threading.Event()
        self.pid = None
        self.error = None

    def run(self):
        try:
            with side_connection() as conn:
                self.pid = conn.info.backend_pid
                with conn.transaction():
                    conn.execute("SET LOCAL deadlock_timeout = '20s'")
                    conn.execute(
                        "SELECT 1 FROM stock_levels WHERE stock_id = %s FOR UPDATE", [self.level_id]
                    )
                    self.holding.set()
                    wait_until_waiting_on_a_lock(self.victim_pid)
                    conn.execute(
                        "SELECT 1 FROM purchase_orders WHERE po_id = %s FOR UPDATE", [self.po_id]
                    )
                    if self.before_commit:
                        self.before_commit()
        except Exception as exc:  # reported by the test
            self.error = exc
            self.holding.set()


@pytest.fixture
def shipped_po():
    """A shipped PO of one line, whose stock level exists (so that the receipt locks it)."""
    operator = UserFactory(username="operator", perms=ALL_PERMS)
    level = StockLevelFactory(item_type="tent", location_id=LOCATION, quantity_on_hand=4)
    po = services.create_purchase_order(
        supplier_id=SupplierFactory().supplier_id,
        line_items=[line("tent", 6)],
        created_by="clerk",
    )
    walk_to(po.po_id, "shipped", operator=operator)
    return po, level, client_for(UserFactory(username="warehouse", perms=ALL_PERMS))


def receive(client, po):
    return client.patch(f"/purchase-orders/{po.po_id}", {"status": "received"}, format="json")


def test_a_deadlock_is_retried_once_and_the_receipt_goes_through(shipped_po, caplog):
    po, level, client = shipped_po
    locker = Locker(level_id=level.stock_id, po_id=po.po_id, victim_pid=django_pid())
    locker.start()
    assert locker.holding.wait(WAIT_SECONDS)

    with caplog.at_level(logging.WARNING, logger="common.db"):
        response = receive(client, po)
    locker.join(WAIT_SECONDS)

    assert locker.error is None, locker.error
    assert response.status_code == 200, response.json()
    assert PurchaseOrder.objects.get(pk=po.po_id).status == "received"
    level.refresh_from_db()
    assert level.quantity_on_hand == 10
    assert StockAdjustment.objects.filter(po_id=po.po_id).count() == 1
    [retried] = [r for r in caplog.records if "retrying once" in r.getMessage()]
    assert "40P01" in retried.getMessage()
    assert retried.exc_info is not None


def test_a_second_deadlock_is_a_409_conflict_retry_with_nothing_written(shipped_po, caplog):
    po, level, client = shipped_po
    victim = django_pid()
    second = Locker(level_id=level.stock_id, po_id=po.po_id, victim_pid=victim)

    def queue_the_second_locker():
        # The second locker waits for the level before the first lets it go, so that it holds
        # the level again before the retried receipt gets to it.
        second.start()
        deadline = time.monotonic() + WAIT_SECONDS
        while second.pid is None and time.monotonic() < deadline:
            time.sleep(0.01)
        wait_until_waiting_on_a_lock(second.pid)

    first = Locker(
        level_id=level.stock_id,
        po_id=po.po_id,
        victim_pid=victim,
        before_commit=queue_the_second_locker,
    )
    first.start()
    assert first.holding.wait(WAIT_SECONDS)

    with caplog.at_level(logging.WARNING, logger="common.db"):
        response = receive(client, po)
    first.join(WAIT_SECONDS)
    second.join(WAIT_SECONDS)

    assert (first.error, second.error) == (None, None)
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "conflict_retry"
    assert PurchaseOrder.objects.get(pk=po.po_id).status == "shipped"
    level.refresh_from_db()
    assert level.quantity_on_hand == 4
    assert not StockAdjustment.objects.filter(po_id=po.po_id).exists()
    levels = [r.levelno for r in caplog.records if r.name == "common.db"]
    assert levels == [logging.WARNING, logging.ERROR]


def test_a_statement_timeout_is_a_503_logged_with_its_traceback(shipped_po, caplog):
    po, _, client = shipped_po
    with side_connection() as holder, holder.transaction():
        holder.execute("SELECT 1 FROM purchase_orders WHERE po_id = %s FOR UPDATE", [po.po_id])
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '300ms'")
        try:
            with caplog.at_level(logging.ERROR):
                response = receive(client, po)
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["code"] == "database_timeout"
    [logged] = [r for r in caplog.records if r.name == "procurement_site.api.errors"]
    assert logged.levelno == logging.ERROR
    assert "57014" in logged.getMessage()
    assert logged.exc_info is not None
    assert PurchaseOrder.objects.get(pk=po.po_id).status == "shipped"


def test_a_real_deadlock_and_timeout_are_classified_apart_from_an_outage():
    """The errors as Django raises them (``OperationalError`` from psycopg's), from real
    sessions: a deadlock maps to 409 ``conflict_retry``, a timeout to 503 ``database_timeout``."""
    with side_connection() as other:
        other.autocommit = True
        other.execute("CREATE TABLE deadlock_probe (id int PRIMARY KEY)")
        other.execute("INSERT INTO deadlock_probe VALUES (1), (2)")
    try:
        deadlock = _provoke_a_deadlock()
        with (
            pytest.raises(OperationalError) as timed_out,
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL statement_timeout = '50ms'")
            cursor.execute("SELECT pg_sleep(5)")
    finally:
        with side_connection() as other:
            other.autocommit = True
            other.execute("DROP TABLE deadlock_probe")

    assert isinstance(deadlock.__cause__, psycopg.errors.DeadlockDetected)
    assert (db.sqlstate(deadlock), db.is_transient_conflict(deadlock)) == ("40P01", True)
    assert not db.is_connection_failure(deadlock)
    response = exception_handler(deadlock, {})
    assert (response.status_code, response.data["code"]) == (409, "conflict_retry")

    timeout = timed_out.value
    assert isinstance(timeout.__cause__, psycopg.errors.QueryCanceled)
    assert (db.is_timeout(timeout), db.is_connection_failure(timeout)) == (True, False)
    response = exception_handler(timeout, {})
    assert (response.status_code, response.data["code"]) == (503, "database_timeout")


def _provoke_a_deadlock():
    """Django's session locks row 1 then 2, another session 2 then 1; Django's is the one that
    detects the cycle (the other's deadlock_timeout is long). Returns Django's error."""
    victim = django_pid()
    ready = threading.Event()

    def other_side():
        with side_connection() as other, other.transaction():
            other.execute("SET LOCAL deadlock_timeout = '20s'")
            other.execute("SELECT 1 FROM deadlock_probe WHERE id = 2 FOR UPDATE")
            ready.set()
            wait_until_waiting_on_a_lock(victim)
            other.execute("SELECT 1 FROM deadlock_probe WHERE id = 1 FOR UPDATE")

    thread = threading.Thread(target=other_side, daemon=True)
    with (
        pytest.raises(OperationalError) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1 FROM deadlock_probe WHERE id = 1 FOR UPDATE")
        thread.start()
        assert ready.wait(WAIT_SECONDS)
        cursor.execute("SELECT 1 FROM deadlock_probe WHERE id = 2 FOR UPDATE")
    thread.join(WAIT_SECONDS)
    return raised.value
