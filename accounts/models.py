import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

KEY_PREFIX_LENGTH = 8


def hash_key(key):
    """The stored form of a key: SHA-256, hex. Keys carry 256 random bits (``secrets``), so a
    fast hash is enough: nobody can search that space, salted or not, and the digest can be
    looked up through a unique index."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API token. Only the key's SHA-256 is stored (and its first characters, to tell tokens
    apart): a database dump or backup holds no usable key. Revoking keeps the row, so the list
    shows what was revoked and when."""

    token_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(
        max_length=KEY_PREFIX_LENGTH,
        editable=False,
        help_text="The key's first characters, to recognise it; not enough to use it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "api_tokens"
        ordering = ["user_id", "-created_at"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "-created_at"], name="api_tokens_user_created")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="api_tokens_name_not_blank"),
        ]

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    def is_expired(self, now=None):
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def state(self):
        if self.revoked_at is not None:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"


class WriteCount(models.Model):
    """A user's writes through the API in the current window of ``API_WRITE_RATE``
    (``window_start``: seconds since the epoch, a multiple of the window's length). One row per
    user, counted by one atomic upsert (``accounts.rate_limits``) that restarts the count when a
    new window begins."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    window_start = models.BigIntegerField()
    writes = models.PositiveIntegerField()

    class Meta:
        db_table = "api_write_counts"

    def __str__(self):
        return f"{self.writes} write(s) of user {self.user_id} from {self.window_start}"
