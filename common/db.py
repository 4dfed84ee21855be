"""What a database error means, and the one retry a transient conflict gets.

PostgreSQL reports a deadlock, a serialization failure, a statement timeout and a lost connection
alike as ``OperationalError`` (Django's, wrapping psycopg's). They call for different answers:

- a deadlock (SQLSTATE 40P01) or serialization failure (40001) is transient: the transaction is
  rolled back and the same work usually succeeds when run again. ``retry_on_transient_conflict``
  runs a service once more; if it fails again the caller gets ``Conflict`` ``conflict_retry``
  (409): retry later.
- a statement or lock timeout (57014, 55P03) means a statement ran or waited too long: a 503,
  logged as an error with its traceback (it points at a slow query or a lock held too long).
- a connection failure (no SQLSTATE, class 08, the server shutting down or out of connection
  slots, the pool giving no connection in time): the database is unavailable, a 503.
Anything else is a bug: a 500.
"""

import functools
import logging
from contextlib import contextmanager

import psycopg
from django.db import (
    DatabaseError,
    Error,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)

from common.errors import Conflict

logger = logging.getLogger(__name__)

TRANSIENT_CONFLICT_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock, serialization failure
TIMEOUT_SQLSTATES = frozenset(
    {"57014", "55P03"}
)  # statement timeout (query canceled), lock timeout
# admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections
CONNECTION_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def sqlstate(exc):
    """The SQLSTATE of a database error: psycopg's own, or that of the psycopg error Django's
    wrapper was raised from (``__cause__``); ``None`` when the server sent none."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        state = getattr(exc, "sqlstate", None)
        if state:
            return state
        exc = exc.__cause__
    return None


def _is_database_error(exc):
    return isinstance(exc, Error | psycopg.Error)


def is_transient_conflict(exc):
    return _is_database_error(exc) and sqlstate(exc) in TRANSIENT_CONFLICT_SQLSTATES


def is_timeout(exc):
    return _is_database_error(exc) and sqlstate(exc) in TIMEOUT_SQLSTATES


def is_connection_failure(exc):
    """The database cannot be reached: the pool's ``PoolTimeout`` (a psycopg
    ``OperationalError``), an ``InterfaceError`` (connection closed), or an ``OperationalError``
    without a SQLSTATE or with a connection one."""
    if isinstance(exc, InterfaceError | psycopg.InterfaceError):
        return True
    if isinstance(exc, OperationalError | psycopg.OperationalError):
        state = sqlstate(exc)
        return state is None or state.startswith("08") or state in CONNECTION_SQLSTATES
    return False


CONFLICT_RETRY_MESSAGE = (
    "The change collided with concurrent changes to the same rows (a deadlock or serialization "
    "failure) twice; nothing was written. Retry the request."
)


def conflict_retry():
    return Conflict(CONFLICT_RETRY_MESSAGE, code="conflict_retry")


def retry_on_transient_conflict(service):
    """Run ``service`` again, once, when it fails on a deadlock or serialization failure; a
    second such failure is a ``Conflict`` ``conflict_retry`` (409).

    Only at the outermost transaction: inside one, the failed transaction cannot be continued,
    so the error goes to whoever opened it (a caller decorated in turn retries the whole).
    The service must be one transaction, so that a failed attempt left nothing behind.
    """

    @functools.wraps(service)
    def run(*args, **kwargs):
        if connection.in_atomic_block:
            return service(*args, **kwargs)
        try:
            return service(*args, **kwargs)
        except DatabaseError as exc:
            if not is_transient_conflict(exc):
                raise
            logger.warning(
                "%s: %s (SQLSTATE %s); retrying once",
                service.__qualname__,
                type(exc.__cause__ or exc).__name__,
                sqlstate(exc),
                exc_info=True,
            )
        try:
            return service(*args, **kwargs)
        except DatabaseError as exc:
            if not is_transient_conflict(exc):
                raise
            logger.error(
                "%s: %s (SQLSTATE %s) again after a retry; answered conflict_retry",
                service.__qualname__,
                type(exc.__cause__ or exc).__name__,
                sqlstate(exc),
                exc_info=True,
            )
            raise conflict_retry() from exc

    return run


@contextmanager
def temporary_table(name, select, params):
    """The rows of ``select`` (with ``params``) in the temporary table ``name`` (PostgreSQL),
    computed with JIT off; yields a cursor; the table is dropped afterwards. For the
    recalculation's large aggregates: their estimated cost is past ``jit_optimize_above_cost``,
    and compiling and optimising their expressions took 1 to 1.5 s of a run, which their
    hashing and sorting do not win back."""
    with connection.cursor() as cursor:
        with transaction.atomic():
            cursor.execute("SET LOCAL jit = off")
            cursor.execute(f"CREATE TEMPORARY TABLE {name} AS {select}", params)
        try:
            yield cursor
        finally:
            cursor.execute(f"DROP TABLE {name}")
