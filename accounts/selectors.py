"""Reads of API tokens."""

from accounts.models import ApiToken, hash_key


def api_token_for_key(*, key):
    """The token whose key is ``key``, with its user (one query: the unique index on the
    key's hash; whether the key is right is decided by that lookup alone, so no secret is
    compared character by character), or ``None``. Revoked and expired tokens are returned too:
    the caller says why they are refused."""
    try:
        return ApiToken.objects.select_related("user").get(key_hash=hash_key(key))
    except ApiToken.DoesNotExist:
        return None


def api_tokens_visible_to(*, user):
    """A superuser sees every token; anyone else their own."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if user.is_superuser else tokens.filter(user=user)


def api_tokens_of(*, user):
    return ApiToken.objects.filter(user=user).order_by("-created_at")
