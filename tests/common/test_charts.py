"""The SVG charts: accessible, escaped, and free of what a strict Content Security Policy
refuses (scripts, style attributes)."""

from datetime import date

from common.charts import Bars, Series, bar_chart, nice_ticks, time_chart

EVIL = '<script>alert("x")</script>'


def test_nice_ticks_are_round_and_cover_the_maximum():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(100) == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
    assert nice_ticks(3) == [0, 1, 2, 3]


def test_a_time_chart_is_an_accessible_image_with_a_point_per_value():
    svg = time_chart(
        chart_id="c",
        title="On hand",
        description="Units on hand per day",
        start=date(2026, 1, 1),
        end=date(2026, 1, 10),
        series=[
            Series("On hand", [(date(2026, 1, 1), 5), (date(2026, 1, 2), 3)], kind="step"),
            Series("Used", [(date(2026, 1, 2), 2)], kind="bars"),
        ],
        y_label="Units",
    )
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="c"')
    assert 'role="img" aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">On hand</title>' in svg
    assert '<desc id="c-desc">Units on hand per day</desc>' in svg
    assert svg.count('class="data-point"') == 3
    assert "<title>On hand, 2026-01-02: 3</title>" in svg
    assert 'class="axis-label"' in svg and ">Units</text>" in svg and ">Date</text>" in svg
    assert "style=" not in svg and "<script" not in svg


def test_text_is_escaped():
    svg = bar_chart(
        chart_id=EVIL,
        title=EVIL,
        description=EVIL,
        categories=[EVIL],
        series=[Bars(EVIL, [3])],
        y_label=EVIL,
        x_label=EVIL,
    )
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_an_empty_chart_says_so():
    svg = time_chart(
        chart_id="e",
        title="t",
        description="d",
        start=date(2026, 1, 1),
        end=date(2026, 1, 2),
        series=[Series("Declared", [(date(2026, 1, 1), 7)], reference=True)],
        y_label="Days",
        empty_message="Nothing yet.",
    )
    assert 'class="no-data"' in svg and "Nothing yet." in svg
