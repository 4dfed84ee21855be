import environ
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from procurement_site.management.backups import restore_database


class Command(BaseCommand):
    help = (
        "Restore a dump written by backup_database after checking it against its .sha256, into "
        "a database without the service's tables (or, with --force, replacing them)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="The .dump file; its .sha256 must be beside it.")
        parser.add_argument(
            "--database-url",
            default=None,
            help="The target database (default: the configured one, DATABASE_URL).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Restore even if the target has tables in schema procurement, replacing them.",
        )

    def handle(self, *args, file, database_url, force, **options):
        if database_url:
            try:
                target = environ.Env.db_url_config(database_url)
            except Exception as exc:  # django-environ raises several types for a bad URL
                raise CommandError(f"cannot parse --database-url: {exc}") from exc
        else:
            target = connections["default"].settings_dict
        tables = restore_database(file, target, force=force)
        self.stdout.write(f"Restored {file} into {target.get('NAME')!r} ({tables} tables)")
