from django.core.management.base import BaseCommand
from django.utils import timezone

from suppliers.services import RATE_WINDOW_DAYS, refresh_supplier_rates


class Command(BaseCommand):
    help = (
        f"Recompute every supplier's on-time and in-full rates over the last {RATE_WINDOW_DAYS} "
        "days from the daily delivery totals (one UPDATE). Run it nightly, so that the window "
        "moves on days without receipts."
    )

    def handle(self, *args, **options):
        updated = refresh_supplier_rates(today=timezone.localdate())
        self.stdout.write(f"Refreshed the rates of {updated} suppliers.")
