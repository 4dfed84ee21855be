"""What every app's admin shares."""


class ReadOnlyAdminMixin:
    """Rows written by the services (history, audit, events): shown in the admin, never added,
    changed or deleted there. For model admins and inlines alike."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def adopt_saved(instance, saved):
    """Make the admin's form instance the row a service saved, so that the admin's log entry and
    redirect point at it: ``saved``'s primary key, then the row as stored (one query)."""
    instance.pk = saved.pk
    instance.refresh_from_db()
