"""Django's ``ModelBackend``, loading a user's permissions in one query instead of two."""

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class SingleQueryModelBackend(ModelBackend):
    """``get_all_permissions`` reads the user's own permissions and their groups' in one
    ``UNION`` (Django's backend sends one query for each), and caches them on the user in
    ``_perm_cache`` as Django does. Everything else is Django's: inactive and anonymous users, and
    any object, have no permissions; a superuser has them all."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                perms = Permission.objects.order_by().values_list(
                    "content_type__app_label", "codename"
                )
            else:
                columns = ("content_type__app_label", "codename")
                own = user_obj.user_permissions.order_by().values_list(*columns)
                groups = Permission.objects.filter(group__in=user_obj.groups.all())
                perms = own.union(groups.order_by().values_list(*columns))
            user_obj._perm_cache = {f"{app}.{codename}" for app, codename in perms}
        return user_obj._perm_cache
