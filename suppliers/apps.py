from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "suppliers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Events carry entities as the API returns them; domain code must not import the API.
        from integrations.events import register_representation
        from suppliers.serializers import render_suppliers

        register_representation("supplier", render_suppliers)
