from django.apps import AppConfig
from django.db.models.signals import pre_migrate


def create_service_schema(sender, using="default", **kwargs):
    """Create the ``procurement`` schema before the first table is, on every PostgreSQL database.

    ``migrate`` (and so the test database's creation) sends ``pre_migrate`` before it creates any
    table, including ``django_migrations``; the connection's search_path already names the schema.
    """
    from django.conf import settings
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{settings.DB_SCHEMA}"')


class ProcurementSiteConfig(AppConfig):
    name = "procurement_site"
    verbose_name = "Service"

    def ready(self):
        pre_migrate.connect(create_service_schema, dispatch_uid="create_service_schema")
