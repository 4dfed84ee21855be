"""Django's ``ModelBackend``, loading a user's permissions in one query instead of two."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connection

from accounts.queries import PERMISSIONS_SQL


class SingleQueryModelBackend(ModelBackend):
    """``get_all_permissions`` reads the user's own permissions and their groups' in one
    ``UNION`` (Django's backend sends one query for each), and caches them on the user object as
    Django does, in an attribute of its own. Everything else is Django's: inactive and anonymous
    users, and any object, have no permissions; a superuser has them all."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "single_query_permissions"):
            if user_obj.is_superuser:
                perms = Permission.objects.order_by().values_list(
                    "content_type__app_label", "codename"
                )
            else:
                with connection.cursor() as cursor:
                    cursor.execute(PERMISSIONS_SQL, [user_obj.pk, user_obj.pk])
                    perms = cursor.fetchall()
            user_obj.single_query_permissions = {f"{app}.{codename}" for app, codename in perms}
        return user_obj.single_query_permissions


def client_ip(request):
    """The client's address, for django-axes' lockouts (username + address).

    Without a proxy (``TRUSTED_PROXY_COUNT`` 0) it is ``REMOTE_ADDR``. Behind N trusted proxies,
    each appending the address it was reached from to ``X-Forwarded-For``, it is the N-th entry
    from the right: what the outermost proxy saw. Entries further left were sent by the client
    and are ignored, so a client cannot pick the address it is counted under."""
    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    return forwarded[-count] if len(forwarded) >= count else remote


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in (``AXES_LOCKOUT_CALLABLE``): a page saying
    why, for how long and how an administrator lifts it, with status 429."""
    from axes.helpers import get_client_username, get_cool_off
    from django.conf import settings
    from django.shortcuts import render

    cool_off = get_cool_off(request)
    context = {
        "username": get_client_username(request, credentials) or "",
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return render(request, "admin/locked_out.html", context, status=429)
