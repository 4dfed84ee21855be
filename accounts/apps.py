from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """API access of the service's users: their API tokens (stored hashed) and their write
    counts for the per-user write limit."""

    name = "accounts"
    verbose_name = "API access"
    default_auto_field = "django.db.models.BigAutoField"
