"""Webhook subscriptions and deliveries (Standard Webhooks).

Each numbered event makes one delivery per active subscription whose type prefixes match it; a
delivery is sent by the worker (``integrations.tasks.deliver_webhook``), retried after the delays
of ``WEBHOOK_RETRY_DELAYS``, every attempt logged. An attempt is claimed with one conditional
``UPDATE`` before it is sent, so two workers (or a task enqueued twice) never send it twice.

Server-side request forgery: URLs must be ``https`` and every address their host resolves to must
be public; checked when subscribing and again at each attempt, and the request goes to the address
that was checked (no second DNS lookup for a rebinding answer to slip through).
``WEBHOOK_ALLOW_PRIVATE_URLS`` (development and tests only) allows ``http`` and private targets.
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from common.errors import InvalidInput, NotFound
from integrations.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (the format's prefix, not a secret)
TIMEOUT_SECONDS = 10
MAX_EVENT_TYPES = 50
MAX_URL_LENGTH = 2000
# An attempt's claim outlives its request (timeout) by this margin before another sender may
# take the attempt over (its sender crashed).
CLAIM_MARGIN = timedelta(seconds=60)
USER_AGENT = "NovaTrek-Procurement-Webhooks/1"


# --- subscriptions -----------------------------------------------------------------------------


def create_subscription(*, url, event_types, description="", created_by=""):
    """Register a subscription; its ``secret`` is on the returned object (shown once)."""
    url = validate_url(url)
    prefixes = clean_event_types(event_types)
    return WebhookSubscription.objects.create(
        url=url,
        event_types=prefixes,
        description=description or "",
        secret=new_secret(),
        created_by=created_by,
    )


def clean_event_types(event_types):
    """The prefixes, each the prefix of at least one event type, without repeats."""
    from integrations.events import EVENT_TYPES

    if not isinstance(event_types, list | tuple) or not event_types:
        raise InvalidInput("Give at least one event type prefix.", field="event_types")
    if len(event_types) > MAX_EVENT_TYPES:
        raise InvalidInput(f"At most {MAX_EVENT_TYPES} prefixes.", field="event_types")
    for prefix in event_types:
        if not isinstance(prefix, str) or not any(t.startswith(prefix) for t in EVENT_TYPES):
            raise InvalidInput(
                f"'{prefix}' is the prefix of no event type (e.g. "
                "'novatrek.procurement.purchase_order').",
                field="event_types",
            )
    return list(dict.fromkeys(event_types))


def update_subscription(*, subscription_id, event_types, description="", active=True):
    """Change what a subscription receives (its URL and secret stay: subscribe again for
    another target)."""
    prefixes = clean_event_types(event_types)
    updated = WebhookSubscription.objects.filter(pk=subscription_id).update(
        event_types=prefixes, description=description or "", active=active
    )
    if not updated:
        raise NotFound(f"No webhook subscription {subscription_id}.")
    return WebhookSubscription.objects.get(pk=subscription_id)


def delete_subscription(*, subscription_id):
    """Delete the subscription with its deliveries and their attempts."""
    deleted, _ = WebhookSubscription.objects.filter(pk=subscription_id).delete()
    if not deleted:
        raise NotFound(f"No webhook subscription {subscription_id}.")


def new_secret():
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def validate_url(url):
    """The URL if it may be subscribed; ``InvalidInput`` naming ``url`` otherwise."""
    try:
        check_target(url)
    except UnsafeTarget as exc:
        raise InvalidInput(str(exc), field="url") from None
    return url


class UnsafeTarget(Exception):
    """A URL the service will not call."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    address: str
    path: str


def check_target(url):
    """Resolve the URL's host and check every address; returns the ``Target`` to connect to."""
    allow_private = settings.WEBHOOK_ALLOW_PRIVATE_URLS
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise UnsafeTarget(f"A URL of 1 to {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTarget("Not a valid URL.") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeTarget("Webhook URLs must use https.")
    if not parts.hostname or parts.username or parts.password:
        raise UnsafeTarget("A webhook URL names a host, without credentials.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"The host {parts.hostname} does not resolve.") from None
    addresses = [info[4][0] for info in infos]
    if not addresses:
        raise UnsafeTarget(f"The host {parts.hostname} does not resolve.")
    if not allow_private:
        for address in addresses:
            if not _is_public(address):
                raise UnsafeTarget(
                    f"The host {parts.hostname} resolves to {address}, a private, loopback or "
                    "otherwise non-public address."
                )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, addresses[0], path)


def _is_public(address):
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


# --- deliveries --------------------------------------------------------------------------------


def create_deliveries(*, events):
    """One delivery per (event, matching active subscription), in the caller's transaction, and
    their first attempts enqueued when it commits."""
    subscriptions = list(WebhookSubscription.objects.filter(active=True))
    if not subscriptions:
        return []
    now = timezone.now()
    deliveries = [
        WebhookDelivery(subscription=sub, event=event, next_attempt_at=now)
        for event in events
        for sub in subscriptions
        if any(event.type.startswith(prefix) for prefix in sub.event_types)
    ]
    WebhookDelivery.objects.bulk_create(deliveries)
    ids = [delivery.delivery_id for delivery in deliveries]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return deliveries


def redeliver(*, delivery_ids):
    """Send the deliveries' events again, as new deliveries (the old ones keep their history)."""
    originals = list(
        WebhookDelivery.objects.filter(pk__in=list(delivery_ids)).select_related("subscription")
    )
    now = timezone.now()
    with transaction.atomic():
        deliveries = WebhookDelivery.objects.bulk_create(
            WebhookDelivery(
                subscription_id=original.subscription_id,
                event_id=original.event_id,
                next_attempt_at=now,
            )
            for original in originals
        )
        ids = [delivery.delivery_id for delivery in deliveries]
        transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return deliveries


def _enqueue(delivery_ids, run_after=None):
    from integrations.tasks import deliver_webhook

    task = deliver_webhook.using(run_after=run_after) if run_after else deliver_webhook
    for delivery_id in delivery_ids:
        task.enqueue(str(delivery_id))


def retry_delays():
    return list(settings.WEBHOOK_RETRY_DELAYS)


def claim_attempt(delivery_id):
    """Take the delivery's next attempt for this sender, or ``None`` if there is none to send now
    (done, not due, or another sender holds it). One conditional ``UPDATE``: of two senders, one
    gets the row (PostgreSQL re-checks the condition on the row the other one committed)."""
    now = timezone.now()
    until = now + timedelta(seconds=TIMEOUT_SECONDS) + CLAIM_MARGIN
    claimable = Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, claimed_until__lt=now
    )
    claimed = WebhookDelivery.objects.filter(claimable, pk=delivery_id).update(
        status=DeliveryStatus.SENDING,
        claimed_until=until,
        attempts_made=F("attempts_made") + 1,
    )
    if not claimed:
        return None
    return (
        WebhookDelivery.objects.select_related("subscription", "event").filter(pk=delivery_id).get()
    )


def deliver(delivery_id):
    """Send the delivery's next attempt if it is due and nobody else is sending it; record the
    attempt and schedule the next one (or mark the delivery failed). Returns the attempt, or
    ``None`` when there was nothing to send."""
    from integrations.events import cloudevent

    delivery = claim_attempt(delivery_id)
    if delivery is None:
        return None
    number = delivery.attempts_made
    started = timezone.now()
    clock = time.monotonic()
    body = json.dumps(cloudevent(delivery.event), cls=DjangoJSONEncoder).encode()
    status, error, excerpt = None, "", ""
    try:
        target = check_target(delivery.subscription.url)
        status, excerpt = _post(target, body, signed_headers(delivery, body))
    except UnsafeTarget as exc:
        error = f"refused: {exc}"
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    succeeded = status is not None and 200 <= status < 300
    duration = int((time.monotonic() - clock) * 1000)
    delays = retry_delays()
    with transaction.atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            duration_ms=duration,
            response_status=status,
            succeeded=succeeded,
            error=error,
            response_excerpt=excerpt,
        )
        now = timezone.now()
        if succeeded:
            changes = {"status": DeliveryStatus.SUCCEEDED, "completed_at": now}
        elif number <= len(delays):
            next_at = now + timedelta(seconds=delays[number - 1])
            changes = {"status": DeliveryStatus.PENDING, "next_attempt_at": next_at}
            transaction.on_commit(lambda: _enqueue([delivery.pk], run_after=next_at), robust=True)
        else:
            changes = {"status": DeliveryStatus.FAILED, "completed_at": now}
        WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=None, **changes)
    logger.info(
        "webhook attempt",
        extra={
            "delivery_id": str(delivery.pk),
            "event_id": str(delivery.event.event_id),
            "attempt": number,
            "status": status,
            "succeeded": succeeded,
            "error": error,
        },
    )
    return attempt


def signed_headers(delivery, body, *, timestamp=None):
    """The Standard Webhooks headers for ``body``: ``webhook-id`` is the event id."""
    msg_id = str(delivery.event.event_id)
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign(delivery.subscription.secret, msg_id, timestamp, body),
    }


def sign(secret, msg_id, timestamp, body: bytes):
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to an address already checked, verifying the certificate for the URL's host."""

    def __init__(self, target, **kwargs):
        super().__init__(target.host, target.port, **kwargs)
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target, **kwargs):
        super().__init__(target.host, target.port, **kwargs)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def _post(target, body, headers):
    """POST to the checked address (no redirects followed); returns (status, body excerpt)."""
    if target.scheme == "https":
        conn = _PinnedHTTPSConnection(
            target, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        conn = _PinnedHTTPConnection(target, timeout=TIMEOUT_SECONDS)
    try:
        conn.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                **headers,
            },
        )
        response = conn.getresponse()
        excerpt = response.read(1000).decode("utf-8", "replace")
        return response.status, excerpt
    finally:
        conn.close()


def due_deliveries(*, now=None):
    """Deliveries whose attempt is due but may have lost its task (a crash, a lost enqueue)."""
    now = now or timezone.now()
    return WebhookDelivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now - CLAIM_MARGIN)
        | Q(status=DeliveryStatus.SENDING, claimed_until__lt=now)
    ).values_list("pk", flat=True)
