"""Drawing a run's spans as a waterfall: one row per span, indented by depth, with its
start offset, its duration and a bar on the run's time axis; gaps between calls get a
row of their own and the slowest tool is pointed out.

Pure functions over ``replay.waterfall.SpanTiming``, returning Rich ``Text`` lines.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from rich.style import Style
from rich.text import Text

from replay.waterfall import SpanTiming
from tui.humanize import duration

MAX_NAME = 44
GAP_MIN_US = 200_000  # gaps shorter than this (or 2% of the run) are not worth a row
OP_STYLES = {
    "chat": Style(color="#4e9de6"),
    "tool": Style(color="#4fb871"),
    "agent_tool": Style(color="#b57edc"),
    "handoff": Style(color="#e5a03a"),
}
ERROR_STYLE = Style(color="#e0505a", bold=True)
DIM = Style(dim=True)


def draw_waterfall(
    timings: Sequence[SpanTiming], width: int, highlight: Collection[str] = ()
) -> list[Text]:
    """The waterfall of ``timings`` (tree order) in ``width`` cells; spans whose id is in
    ``highlight`` (the current turn's) are shown reversed."""
    if not timings:
        return [Text("no spans recorded", style="dim")]
    start = min(t.start_us for t in timings)
    end = max((t.end_us or t.start_us) for t in timings)
    total = max(1, end - start)
    name_width = min(MAX_NAME, max(len(t.name) + 2 * t.depth for t in timings))
    bar_width = max(10, width - name_width - 20)
    slowest = _slowest_tool(timings)
    gap_min = max(GAP_MIN_US, total // 50)
    lines = [_header(name_width, bar_width, total)]
    last_end: dict[str | None, int] = {}
    for timing in timings:
        previous_end = last_end.get(timing.parent_span_id)
        if previous_end is not None and timing.start_us - previous_end >= gap_min:
            gap = (timing.start_us - previous_end) / 1000
            lines.append(
                Text(f"{'  ' * timing.depth}⋯ gap {duration(gap)}", style="italic #e5a03a")
            )
        last_end[timing.parent_span_id] = max(previous_end or 0, timing.end_us or timing.start_us)
        lines.append(_row(timing, start, total, name_width, bar_width, timing.span_id in highlight))
        if timing.span_id == slowest:
            lines[-1].append("  ◀ slowest tool", "bold #e5a03a")
    return lines


def _header(name_width: int, bar_width: int, total: int) -> Text:
    axis = f"0{' ' * (bar_width - 1 - len(duration(total / 1000)))}{duration(total / 1000)}"
    return Text(f"{'span':<{name_width}} {'start':>7} {'took':>7}  {axis}", style="bold")


def _row(
    timing: SpanTiming, start: int, total: int, name_width: int, bar_width: int, lit: bool
) -> Text:
    name = "  " * timing.depth + timing.name
    if len(name) > name_width:
        name = name[: name_width - 1] + "…"
    style = ERROR_STYLE if timing.status == "error" else OP_STYLES.get(timing.op or "", DIM)
    row = Text(no_wrap=True, overflow="crop")
    row.append(name.ljust(name_width), style + Style(reverse=lit))
    offset = (timing.start_us - start) / 1000
    took = timing.duration_us
    row.append(
        f" {'+' + duration(offset):>7} {duration(took / 1000) if took is not None else 'open':>7}  "
    )
    left = int((timing.start_us - start) / total * bar_width)
    length = max(1, round((took if took is not None else total) / total * bar_width))
    row.append(" " * left)
    row.append("█" * min(length, bar_width - left), style)
    return row


def _slowest_tool(timings: Sequence[SpanTiming]) -> str | None:
    tools = [t for t in timings if t.op in ("tool", "agent_tool") and t.duration_us is not None]
    if len(tools) < 2:
        return None
    return max(tools, key=lambda t: t.duration_us or 0).span_id
