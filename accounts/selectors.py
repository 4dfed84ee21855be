"""Reads of API tokens."""

import functools

from django.contrib.auth import get_user_model
from django.db import connection

from accounts import queries
from accounts.models import ApiToken, hash_key
from common.rows import ModelColumns


@functools.cache
def _token_with_user():
    """What ``queries.TOKEN_WITH_USER_SQL`` reads: the token's columns and its user's."""
    return ModelColumns(ApiToken, get_user_model())


def api_token_for_key(*, key):
    """The token whose key is ``key``, with its user (one query: the unique index on the
    key's hash; whether the key is right is decided by that lookup alone, so no secret is
    compared character by character), or ``None``. Revoked and expired tokens are returned too:
    the caller says why they are refused."""
    columns = _token_with_user()
    with connection.cursor() as cursor:
        cursor.execute(queries.TOKEN_WITH_USER_SQL, [hash_key(key)])
        row = cursor.fetchone()
    if row is None:
        return None
    token, user = columns.instances(row)
    token.user = user
    return token


def api_tokens_visible_to(*, user):
    """A superuser sees every token; anyone else their own."""
    tokens = ApiToken.objects.select_related("user")
    return tokens if user.is_superuser else tokens.filter(user=user)


def api_tokens_of(*, user):
    return ApiToken.objects.filter(user=user).order_by("-created_at")
