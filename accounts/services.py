"""API tokens: issue and revoke. The key is returned once, at creation; only its hash is kept."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import KEY_PREFIX_LENGTH, ApiToken, hash_key
from common.errors import InvalidInput, NotFound, PermissionDenied

MAX_NAME_LENGTH = 100
MAX_EXPIRES_IN_DAYS = 3650


def new_key():
    """43 URL-safe characters: 256 random bits."""
    return secrets.token_urlsafe(32)


def create_api_token(*, user, name, expires_in_days=None):
    """Issue a token for ``user``; returns ``(token, key)``. The key is not stored and cannot
    be shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A token needs a name.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(
            f"A token's name has at most {MAX_NAME_LENGTH} characters.", field="name"
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRES_IN_DAYS:
        raise InvalidInput(
            f"expires_in_days must be between 1 and {MAX_EXPIRES_IN_DAYS}.",
            field="expires_in_days",
        )
    if not user.is_active:
        raise InvalidInput(f"User {user.get_username()} is inactive.", field="username")
    key = new_key()
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=hash_key(key),
        key_prefix=key[:KEY_PREFIX_LENGTH],
        created_at=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
    )
    return token, key


def create_api_token_for_username(*, username, name, expires_in_days=None):
    try:
        user = get_user_model().objects.get_by_natural_key(username)
    except get_user_model().DoesNotExist:
        raise NotFound(f"No user {username}.", field="username") from None
    return create_api_token(user=user, name=name, expires_in_days=expires_in_days)


def revoke_api_tokens(*, token_ids, by_user=None):
    """Revoke tokens (already revoked ones keep their first revocation time). ``by_user``: the
    person asking, who may revoke their own tokens, or anyone's if a superuser; ``None`` for
    the operator's command line. Returns the number of tokens revoked now."""
    token_ids = list(token_ids)
    with transaction.atomic():
        tokens = ApiToken.objects.filter(pk__in=token_ids).order_by("pk").select_for_update()
        found = list(tokens)
        missing = set(map(str, token_ids)) - {str(token.pk) for token in found}
        if missing:
            raise NotFound(f"No API token {sorted(missing)[0]}.", field="token_id")
        if (
            by_user is not None
            and not by_user.is_superuser
            and any(token.user_id != by_user.pk for token in found)
        ):
            raise PermissionDenied("You may revoke only your own API tokens.")
        return ApiToken.objects.filter(
            pk__in=[token.pk for token in found], revoked_at__isnull=True
        ).update(revoked_at=timezone.now())


def revoke_all_api_tokens(*, user):
    """Revoke every token of ``user`` (e.g. a leaver, a leaked laptop)."""
    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
