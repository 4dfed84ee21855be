from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Reads need an authenticated user; writes need the Django model permission of the action.

    Views without a queryset (health checks, schema) set their own permission classes.
    """

    perms_map = {
        "GET": [],
        "OPTIONS": [],
        "HEAD": [],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
    }
    # No endpoint serves PUT or DELETE: without an entry here DRF answers 405, not 403.
