"""``bench.run``'s table says what it timed: the recalculation's workers beside its figures."""

from bench import run
from procurement_site.settings import env


def test_the_table_names_the_recalculations_workers_and_its_ratio():
    results = {
        "scenarios": [],
        "recalculation": {
            "levels": 100_000,
            "workers": 2,
            "command_seconds": 12.34,
            "aggregate_sql_seconds": 6.5,
            "ratio": 1.9,
            "target": run.RECALC_TARGET,
            "met": True,
        },
    }

    lines = run.table(results).splitlines()

    assert (
        "recalculate_reorder_points over 100,000 levels (2 workers): 12.3 s; its demand "
        "aggregate alone: 6.5 s; ratio 1.90 (target <= 2.0): yes"
    ) in lines


def test_the_recalculation_runs_with_the_commands_own_default_of_workers(settings):
    """The default of ``RECALCULATION_WORKERS`` (the setting's, when the environment leaves it
    unset), which the table then names."""
    assert run.parse_args([]).recalc_workers == run.RECALC_WORKERS
    assert env.int("RECALCULATION_WORKERS", default=run.RECALC_WORKERS) == (
        settings.RECALCULATION_WORKERS
    )
    assert run.parse_args(["--recalc-workers", "1"]).recalc_workers == 1
