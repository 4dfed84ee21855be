import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from common.errors import InvalidInput
from procurement.management.commands.recalculate_reorder_points import _service_level
from procurement.replenishment import METHODS
from procurement.simulation import simulate_replenishment
from procurement.statistics import Method


def _percent(value):
    return "-" if value is None else f"{value:.1%}"


class Command(BaseCommand):
    help = (
        "Replay the recorded consumption of the last --days days against the reorder-point "
        "policy, as if the recalculation had run nightly, and report per level and in total the "
        "cycle service level, fill rate, stockout days, average on hand and orders. Writes "
        "nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=365, help="Days replayed; default 365.")
        parser.add_argument(
            "--service-level", type=_service_level, default=0.95, help="0 < x < 1; default 0.95."
        )
        parser.add_argument(
            "--method", choices=METHODS, default=Method.AUTO, help="As recalculate_reorder_points."
        )
        parser.add_argument("--window-days", type=int, default=90, help="Default 90.")
        parser.add_argument("--review-days", type=int, default=1, help="Default 1.")
        parser.add_argument("--location-id", type=uuid.UUID, help="Only this location's levels.")
        parser.add_argument("--item-type", help="Only this item type's levels.")
        parser.add_argument("--format", choices=["table", "json"], default="table")

    def handle(self, *args, **options):
        try:
            report = simulate_replenishment(
                days=options["days"],
                service_level=options["service_level"],
                method=options["method"],
                window_days=options["window_days"],
                review_days=options["review_days"],
                location_id=options["location_id"],
                item_type=options["item_type"],
            )
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        if options["format"] == "json":
            self.stdout.write(json.dumps(report.as_json(), indent=2))
            return
        header = (
            f"{'item type':<20} {'location':<36} {'cycle SL':>8} {'fill rate':>9} "
            f"{'stockout days':>13} {'avg on hand':>11} {'orders':>6}"
        )
        self.stdout.write(
            f"Replay of {report.days} days, method {report.method}, "
            f"target service level {report.service_level:.1%}"
        )
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        rows = [
            (level.item_type, str(level.location_id), level.as_dict()) for level in report.levels
        ]
        rows.append(("total", f"{len(report.levels)} levels", report.totals))
        for item_type, location, figures in rows:
            average = figures["average_on_hand"]
            self.stdout.write(
                f"{item_type:<20} {location:<36} {_percent(figures['cycle_service_level']):>8} "
                f"{_percent(figures['fill_rate']):>9} {figures['stockout_days']:>13} "
                f"{'-' if average is None else f'{average:.1f}':>11} {figures['orders']:>6}"
            )
