import uuid

from django.core.management.base import BaseCommand, CommandError

from common.errors import InvalidInput
from procurement.replenishment import METHODS, recalculate_reorder_points
from procurement.statistics import Method


def _service_level(value):
    level = float(value)
    if not 0 < level < 1:
        raise ValueError(value)
    return level


_service_level.__name__ = "service level (0 < x < 1)"


def _workers(value):
    workers = int(value)
    if workers < 1:
        raise ValueError(value)
    return workers


_workers.__name__ = "number of workers (>= 1)"


class ProgressBar:
    """A one-line bar redrawn in place: ``[#####-----]  50%  5000/10000``."""

    def __init__(self, stream, width=30):
        self.stream = stream
        self.width = width

    def __call__(self, done, total):
        share = done / total if total else 1.0
        filled = round(self.width * share)
        bar = "#" * filled + "-" * (self.width - filled)
        # Plain text: Django would colour stderr as an error on a terminal.
        self.stream.write(f"\r[{bar}] {share:4.0%}  {done}/{total}", style_func=str, ending="")
        self.stream.flush()
        if done >= total:
            self.stream.write("", style_func=str)


class Command(BaseCommand):
    help = (
        "Recompute stock levels' reorder points from consumption and supplier lead times, "
        "storing the inputs of every computation. Levels with fewer than 14 days of history or "
        "no consumption in the window keep their point and are reported as skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--window-days", type=int, default=90, help="Default 90.")
        parser.add_argument(
            "--service-level", type=_service_level, default=0.95, help="0 < x < 1; default 0.95."
        )
        parser.add_argument(
            "--review-days", type=int, default=1, help="Added to the lead time; default 1."
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default=Method.AUTO,
            help=(
                "stationary: the window's demand; seasonal: the same days one year earlier times "
                "the trend (levels without a year plus a window of history are skipped); auto "
                "(default): seasonal where the history allows it, else stationary."
            ),
        )
        parser.add_argument("--location-id", type=uuid.UUID, help="Only this location's levels.")
        parser.add_argument("--item-type", help="Only this item type's levels.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; write nothing."
        )
        parser.add_argument(
            "--workers",
            type=_workers,
            help=(
                "Threads, each with its own database connection, to split the levels between "
                "(PostgreSQL; at most the connection pool's size less one); default the "
                "RECALCULATION_WORKERS setting."
            ),
        )

    def handle(self, *args, **options):
        progress = ProgressBar(self.stderr) if self.stderr.isatty() else None
        try:
            summary = recalculate_reorder_points(
                window_days=options["window_days"],
                service_level=options["service_level"],
                review_days=options["review_days"],
                location_id=options["location_id"],
                item_type=options["item_type"],
                dry_run=options["dry_run"],
                progress=progress,
                method=options["method"],
                workers=options["workers"],
            )
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        if options["verbosity"] >= 2:
            for result in summary.results:
                point = result.reorder_point
                shown = result.skipped_reason if point is None else point
                seasonal = ", seasonal" if result.method == Method.SEASONAL else ""
                self.stdout.write(
                    f"{result.item_type} @ {result.location_id}: "
                    f"{result.previous_reorder_point} -> {shown} ({result.outcome}{seasonal})"
                )
        prefix = "Dry run, nothing written: " if summary.dry_run else ""
        self.stdout.write(
            f"{prefix}{summary.total} stock levels: raised {summary.raised}, "
            f"lowered {summary.lowered}, unchanged {summary.unchanged}, "
            f"skipped {summary.skipped}"
        )
