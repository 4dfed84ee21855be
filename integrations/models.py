"""What other services rely on: stored responses of idempotent requests, the event outbox (and
its feed), webhook subscriptions with their deliveries and every delivery attempt."""

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q


class IdempotencyKey(models.Model):
    """The outcome of a request sent with ``Idempotency-Key``, written in the transaction of the
    change it made (see ``integrations.idempotency``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    # sha256 of the method, the path and the body as sent.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    headers = models.JSONField(default=dict)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        db_table = "idempotency_keys"
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_keys_user_key_uniq")
        ]
        indexes = [models.Index(fields=["expires_at"], name="idempotency_keys_expires_idx")]

    def __str__(self):
        return f"{self.key} ({self.method} {self.path})"


class Event(models.Model):
    """A CloudEvents 1.0 event, written by a service in the transaction of the change. Reading
    the feed needs ``integrations.view_event``.

    ``sequence`` is null until the event's transaction has committed and the sequencer has
    numbered it (``integrations.events.assign_sequence_numbers``): the feed serves numbered events
    only, so a number a reader sees is never followed by a lower one committing later.
    """

    # Insertion order: the sequencer numbers the committed events in this order.
    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    sequence = models.BigIntegerField(unique=True, null=True, editable=False)
    type = models.CharField(max_length=120)
    source = models.CharField(max_length=120, default="/procurement")
    subject = models.CharField(max_length=120)
    time = models.DateTimeField()
    actor = models.CharField(max_length=150)
    data = models.JSONField(encoder=DjangoJSONEncoder)

    class Meta:
        db_table = "events"
        ordering = ["sequence"]
        indexes = [
            models.Index(
                fields=["id"],
                name="events_unsequenced_idx",
                condition=Q(sequence__isnull=True),
            ),
            models.Index(fields=["type", "sequence"], name="events_type_sequence_idx"),
        ]

    def __str__(self):
        return f"#{self.sequence} {self.type} {self.subject}"


class EventSequencer(models.Model):
    """One row: the last sequence number given. Its row lock serializes the numbering."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        db_table = "event_sequencer"

    def __str__(self):
        return f"last sequence {self.last_sequence}"


class WebhookSubscription(models.Model):
    subscription_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    # Type prefixes, e.g. "novatrek.procurement.purchase_order".
    event_types = models.JSONField(default=list)
    description = models.CharField(max_length=500, blank=True, default="")
    # "whsec_" + base64 of 32 random bytes: what signs the deliveries (Standard Webhooks).
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "webhook_subscriptions"
        ordering = ["created_at", "subscription_id"]
        permissions = [
            ("manage_webhooks", "Can list, create and delete webhook subscriptions"),
        ]

    def __str__(self):
        return f"{self.url} ({', '.join(self.event_types)})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    SENDING = "sending", "sending"
    SUCCEEDED = "succeeded", "succeeded"
    FAILED = "failed", "failed"


class WebhookDelivery(models.Model):
    """One event to one subscription, tried until it succeeds or the retries run out."""

    delivery_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts_made = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While an attempt is being sent: until when the sender holds it (a crashed sender's claim
    # expires and the attempt is sent again).
    claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_deliveries_due_idx",
                condition=Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self):
        return f"{self.event.type} -> {self.subscription.url} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery, as it went."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    error = models.CharField(max_length=1000, blank=True, default="")
    response_excerpt = models.CharField(max_length=1000, blank=True, default="")

    class Meta:
        db_table = "webhook_attempts"
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["delivery", "number"], name="webhook_attempts_delivery_number_uniq"
            )
        ]

    def __str__(self):
        return f"attempt {self.number}: {self.response_status or self.error}"
