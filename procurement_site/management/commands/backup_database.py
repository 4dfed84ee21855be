from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from procurement_site.management.backups import backup_database


class Command(BaseCommand):
    help = (
        "Dump schema procurement (pg_dump custom format) to procurement-<UTC time>.dump with a "
        ".sha256 beside it, then delete this command's dumps older than the retention."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            default=None,
            help="Where dumps go (default: the BACKUP_DIR setting).",
        )
        parser.add_argument(
            "--retention-days",
            type=int,
            default=None,
            help="Delete dumps older than this many days (default: BACKUP_RETENTION_DAYS, 30).",
        )
        parser.add_argument(
            "--lock-wait-timeout",
            type=float,
            default=300,
            help="Seconds to wait for table locks (e.g. a running migration) before failing.",
        )

    def handle(self, *args, output_dir, retention_days, lock_wait_timeout, **options):
        result = backup_database(
            connections["default"].settings_dict,
            directory=output_dir or settings.BACKUP_DIR,
            retention_days=(
                settings.BACKUP_RETENTION_DAYS if retention_days is None else retention_days
            ),
            lock_wait_timeout=lock_wait_timeout,
        )
        self.stdout.write(f"Wrote {result.path} ({result.size} bytes, sha256 {result.sha256})")
        for path in result.deleted:
            self.stdout.write(f"Deleted {path}")
