"""``python manage.py recalculate_reorder_points``: options, output, --dry-run."""

import io
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from stock.models import ReorderAlert, ReorderPointCalculation, StockLevel
from tests.factories import StockLevelFactory
from tests.replenishment.factories import consume

# Also on SQLite (make run), but for the tests marked postgresql.
pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

STEADY = {days_ago: 3 for days_ago in range(1, 31)}  # -> 24 with the default 7 + 1 days


class TTY(io.StringIO):
    def isatty(self):
        return True


def _run(*args, stderr=None):
    out = io.StringIO()
    call_command("recalculate_reorder_points", *args, stdout=out, stderr=stderr or io.StringIO())
    return out.getvalue()


@pytest.fixture
def levels():
    now = timezone.now()
    site = uuid.uuid4()
    raised = StockLevelFactory(item_type="tent", location_id=site, reorder_point=5)
    lowered = StockLevelFactory(item_type="stove", location_id=site, reorder_point=50)
    unchanged = StockLevelFactory(item_type="tent", reorder_point=24, quantity_on_hand=10)
    skipped = StockLevelFactory(item_type="stove", reorder_point=7)
    for level in (raised, lowered, unchanged):
        consume(level, STEADY, now=now)
    return {"raised": raised, "lowered": lowered, "unchanged": unchanged, "skipped": skipped}


def _points():
    return dict(StockLevel.objects.values_list("stock_id", "reorder_point"))


def test_summary_line_and_points_written(levels):
    output = _run()

    assert output.strip().splitlines()[-1] == (
        "4 stock levels: raised 1, lowered 1, unchanged 1, skipped 1"
    )
    points = _points()
    assert points[levels["raised"].pk] == 24
    assert points[levels["lowered"].pk] == 24
    assert points[levels["unchanged"].pk] == 24
    assert points[levels["skipped"].pk] == 7
    assert ReorderPointCalculation.objects.count() == 4


def test_dry_run_writes_nothing(levels):
    before = _points()
    alerts = ReorderAlert.objects.count()

    output = _run("--dry-run")

    assert output.strip() == (
        "Dry run, nothing written: 4 stock levels: raised 1, lowered 1, unchanged 1, skipped 1"
    )
    assert _points() == before
    assert not ReorderPointCalculation.objects.exists()
    assert not StockLevel.objects.filter(reorder_calculation__isnull=False).exists()
    assert ReorderAlert.objects.count() == alerts


def test_options_reach_the_calculation(levels):
    site = levels["raised"].location_id

    output = _run(
        "--window-days",
        "60",
        "--service-level",
        "0.9",
        "--review-days",
        "3",
        "--location-id",
        str(site),
        "--item-type",
        "tent",
    )

    assert output.strip() == "1 stock levels: raised 1, lowered 0, unchanged 0, skipped 0"
    calc = ReorderPointCalculation.objects.get()
    assert calc.stock_id == levels["raised"].pk
    assert (calc.window_days, calc.service_level, calc.review_days) == (60, 0.9, 3)
    assert calc.reorder_point == 30  # 3 * (7 + 3), no variability


def test_verbose_lists_each_level(levels):
    output = _run("--dry-run", "--verbosity", "2")
    assert f"tent @ {levels['raised'].location_id}: 5 -> 24 (raised)" in output
    assert f"stove @ {levels['skipped'].location_id}: 7 -> short_history (skipped)" in output


@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.2", "abc"])
def test_service_level_must_be_between_0_and_1(levels, value):
    with pytest.raises(CommandError, match="service level"):
        _run("--service-level", value)
    assert not ReorderPointCalculation.objects.exists()


def test_service_level_checked_when_called_with_keywords(levels):
    with pytest.raises(CommandError, match="service_level must be between 0 and 1"):
        call_command("recalculate_reorder_points", service_level=1.5, stdout=io.StringIO())


def test_location_id_must_be_a_uuid(levels):
    with pytest.raises(CommandError, match="location-id"):
        _run("--location-id", "not-a-uuid")


def test_window_days_must_be_positive(levels):
    with pytest.raises(CommandError, match="window_days must be at least 1"):
        _run("--window-days", "0")


def test_progress_bar_on_a_terminal(levels):
    tty = TTY()
    _run(stderr=tty)
    assert "[" + "#" * 30 + "] 100%  4/4" in tty.getvalue()
    assert tty.getvalue().endswith("\n")


def test_no_progress_bar_when_not_a_terminal(levels):
    err = io.StringIO()
    _run(stderr=err)
    assert err.getvalue() == ""
