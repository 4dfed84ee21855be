"""Idempotent requests (the IETF httpapi ``Idempotency-Key`` draft, as the contract pins it).

The request runs in one transaction that starts by claiming its key and ends by storing its
response (``store_response``): the change and the stored response commit together or not at all.

Claiming, on PostgreSQL: a transaction-level advisory lock on (user, key), taken without waiting.
Not granted: another request with that key is running now (409 ``idempotency_key_in_progress``).
Granted: any earlier request with the key has finished, and its stored response, if it committed,
is visible to the next statement (READ COMMITTED), so it is replayed. However many identical
requests race, one runs the change; the others replay it or get a 409. On SQLite (``make run``)
writers are serialized by the database itself, and the unique constraint is the backstop.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from integrations.models import IdempotencyKey

KEY_PATTERN = r"^[!-~]{1,255}$"
_KEY = re.compile(KEY_PATTERN)
# Response headers replayed with the stored body.
STORED_HEADERS = ("Location", "ETag")


class KeyInProgress(Exception):
    """A request with this key is running now."""


class KeyReused(Exception):
    """The key was used for another request (method, path or body)."""


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: object
    headers: dict


def is_valid_key(key):
    """1 to 255 visible ASCII characters."""
    return isinstance(key, str) and bool(_KEY.fullmatch(key))


def fingerprint(*, method, path, body: bytes):
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(*, user, key, fingerprint):
    """In the request's transaction: ``None`` when this request is to run (the key is new, or
    expired), the ``StoredResponse`` to replay when the same request already ran. Raises
    ``KeyInProgress`` or ``KeyReused``."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_lock_id(user.pk, key)])
            if not cursor.fetchone()[0]:
                raise KeyInProgress(key)
    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
    if stored is not None and stored.expires_at <= timezone.now():
        stored.delete()
        stored = None
    if stored is None:
        return None
    if stored.fingerprint != fingerprint:
        raise KeyReused(key)
    return StoredResponse(stored.status_code, stored.body, stored.headers)


def store_response(*, user, key, method, path, fingerprint, status_code, body, headers):
    """Keep the response of the request that ran, in its transaction."""
    now = timezone.now()
    IdempotencyKey.objects.create(
        user=user,
        key=key,
        method=method,
        path=path[:2048],
        fingerprint=fingerprint,
        status_code=status_code,
        body=body,
        headers={name: headers[name] for name in STORED_HEADERS if name in headers},
        created_at=now,
        expires_at=now + timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS),
    )


def purge_expired_keys(*, now=None):
    """Delete the keys past their time to live; returns how many (one statement)."""
    deleted, _ = IdempotencyKey.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


def _lock_id(user_pk, key):
    """A signed 64-bit advisory lock id for (user, key); a collision only costs a spurious 409."""
    digest = hashlib.sha256(f"idempotency:{user_pk}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
