"""The span waterfall (issue #15): every span of the current run with its start offset
and duration, in tree order, the current turn's spans lit, gaps and the slowest tool
pointed out; ``w`` opens it full screen."""

from __future__ import annotations

import pytest
from rich.style import Style
from rich.text import Text
from tui_helpers import make_app, shown_text, wait_for
from tui_sample import LOOPING

from replay import load_conversation
from replay.waterfall import SpanTiming, run_timings
from tracer.store import Store
from tui.humanize import duration
from tui.screens.replay import ReplayScreen
from tui.screens.waterfall import WaterfallScreen, step_span_ids
from tui.waterfall import draw_waterfall

pytestmark = pytest.mark.usefixtures("utc")


def test_run_timings_are_the_trace_in_tree_order(sample_store: Store) -> None:
    conversation = load_conversation(sample_store, LOOPING)
    trace_id = conversation.trace_ids[0]
    stored = sample_store.query(
        "SELECT span_id, parent_span_id, name, epoch_us(start_time), epoch_us(end_time) "
        "FROM spans WHERE trace_id = ?",
        [trace_id],
    ).rows
    timings = run_timings(sample_store, trace_id)
    assert sorted((t.span_id, t.parent_span_id, t.name, t.start_us, t.end_us) for t in timings) == (
        sorted(stored)
    )
    position = {t.span_id: i for i, t in enumerate(timings)}
    depth = {t.span_id: t.depth for t in timings}
    for timing in timings:
        if timing.parent_span_id in position:
            assert position[timing.parent_span_id] < position[timing.span_id]
            assert timing.depth == depth[timing.parent_span_id] + 1
        else:
            assert timing.depth == 0


def timing(
    span_id: str, parent: str | None, depth: int, start_ms: int, end_ms: int, op: str
) -> SpanTiming:
    return SpanTiming(
        span_id, parent, f"{op} {span_id}", op, depth, start_ms * 1000, end_ms * 1000, "ok"
    )


def test_gaps_and_the_slowest_tool_are_pointed_out() -> None:
    run = [
        timing("root", None, 0, 0, 10_000, "agent"),
        timing("c1", "root", 1, 0, 1_000, "chat"),
        timing("t1", "root", 1, 1_000, 1_200, "tool"),
        timing("t2", "root", 1, 4_200, 7_000, "tool"),  # 3 s after t1 ended: a gap
        timing("c2", "root", 1, 7_000, 10_000, "chat"),
    ]
    lines = [line.plain for line in draw_waterfall(run, 100, highlight={"c2"})]
    names = [line.split()[0:2] for line in lines[1:]]
    assert names == [
        ["agent", "root"],
        ["chat", "c1"],
        ["tool", "t1"],
        ["⋯", "gap"],
        ["tool", "t2"],
        ["chat", "c2"],
    ]
    assert lines[4].split() == ["⋯", "gap", duration(3000)]
    assert lines[5].endswith("◀ slowest tool")
    assert "+4.2s" in lines[5] and " 2.8s " in lines[5]


def lit_names(lines: list[Text]) -> list[str]:
    """The span names drawn reversed."""
    return [
        line.plain[span.start : span.end].strip()
        for line in lines
        for span in line.spans
        if isinstance(span.style, Style) and span.style.reverse
    ]


async def test_w_shows_the_runs_waterfall_with_the_turn_lit(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen.step)
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        await pilot.press("e")  # turn 6: three tool calls, one an agent
        step = screen.step
        assert step is not None and len(step.tool_calls) == 3
        await pilot.press("w")
        waterfall = app.screen
        assert isinstance(waterfall, WaterfallScreen)
        await wait_for(pilot, lambda: waterfall.timings is not None, "the run's spans")
        timings = waterfall.timings or ()
        lit = step_span_ids(step)
        expected = {step.span_id, *(c.span_id for c in step.tool_calls)}
        expected |= {s.span_id for c in step.tool_calls for s in c.nested}
        assert lit == expected
        lines = draw_waterfall(timings, 100, lit)
        assert sorted(lit_names(lines)) == sorted(t.name for t in timings if t.span_id in lit)
        shown = shown_text(waterfall.query_one("#waterfall"))
        for t in timings:
            assert t.name in shown
        await pilot.press("escape")
        assert app.screen is screen
