"""The details panel: timings, tokens, model, ids and attributes of the selected span."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from replay.cost import Cost, step_cost
from replay.model import Step, ToolCall
from replay.spans import SpanRecord
from tui.humanize import clock_time, duration, local_time, size, usd
from tui.palette import AgentColors

Selected = Step | ToolCall
#: Longest attribute value shown; the messages view shows contents in full.
VALUE_CHARS = 160


class SpanDetails(Static):
    """Shows one span: a turn's model call, or a tool call chosen in the messages."""

    DEFAULT_CSS = """
    SpanDetails { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_colors = AgentColors()
        self.selected: Selected | None = None
        #: The selected span's stored record once read, or why it could not be.
        self.record: SpanRecord | None = None
        self.problem: str | None = None
        #: Each agent's model calls priced, once the screen has priced the conversation.
        self.agent_costs: dict[str, Cost] = {}

    def show(
        self,
        selected: Selected | None,
        record: SpanRecord | None = None,
        *,
        problem: str | None = None,
    ) -> None:
        """Show ``selected``; its stored attributes follow once ``record`` has been read
        (or ``problem`` says why they cannot be)."""
        self.selected = selected
        self.record = record if record and selected and record.span_id == selected.span_id else None
        self.problem = problem
        if selected is None:
            self.update(Text("nothing selected", style="dim"))
            return
        if isinstance(selected, Step):
            table = self._step_table(selected)
        else:
            table = self._tool_table(selected)
        if self.record is None:
            table.add_row("attributes", Text(problem or "loading…", style="dim"))
            self._show(table)
        else:
            self._show(Group(table, *_record_lines(self.record)))

    def _show(self, content: Table | Group) -> None:
        # A layout reflows the whole screen (a fifth of a step); only a new height needs one.
        self.update(content, layout=False)
        region = self.content_region
        if not region.width or (
            self.get_content_height(self.container_size, self.size, region.width) != region.height
        ):
            self.refresh(layout=True)

    def refresh_cost(self) -> None:
        """Show again with the agents' costs, now that they are known."""
        if self.selected is not None:
            self.show(self.selected, self.record, problem=self.problem)

    @property
    def settled(self) -> bool:
        """Whether the selected span's attributes are shown (or known to be missing)."""
        return self.selected is None or self.record is not None or self.problem is not None

    def _step_table(self, step: Step) -> Table:
        table = _table()
        table.add_row("span", _plain(f"chat {step.model or ''}".rstrip()))
        table.add_row("agent", Text(step.agent or "—", self.agent_colors.text(step.agent)))
        table.add_row("model", _plain(step.model or "—"))
        table.add_row(
            "started", f"{local_time(step.started_at)[:10]} {clock_time(step.started_at)}"
        )
        table.add_row("duration", _plain(duration(step.duration_ms)))
        table.add_row("tokens", _plain(_tokens(step.input_tokens, step.output_tokens)))
        if self.agent_costs:  # priced: the price table is loaded (0.1 s the first time)
            table.add_row("cost", _plain(_cost(step_cost(step))))
        else:
            table.add_row("cost", Text("pricing…", style="dim"))
        agent_total = self.agent_costs.get(step.agent or "unknown agent")
        if agent_total is not None:
            table.add_row("agent cost", _plain(f"{usd(agent_total)} · all of {step.agent or '?'}"))
        table.add_row("status", _plain(_status(step.status)))
        table.add_row("turn", _plain(f"{step.index} (turn {step.turn} of its run)"))
        table.add_row("content", _plain("recorded" if step.has_content else "not recorded"))
        table.add_row("trace", _plain(step.trace_id))
        table.add_row("span id", _plain(step.span_id))
        return table

    def _tool_table(self, call: ToolCall) -> Table:
        table = _table()
        table.add_row("span", _plain(f"execute_tool {call.name}"))
        table.add_row(
            "kind", _plain(f"agent as tool: {call.agent}" if call.is_agent else "function")
        )
        table.add_row("call id", _plain(call.call_id or "—"))
        table.add_row("duration", _plain(duration(call.duration_ms)))
        table.add_row("status", _plain(_status(call.status, call.error_type)))
        table.add_row("arguments", _plain(size(call.arguments) if call.arguments else "—"))
        table.add_row("result", _plain(size(call.result) if call.result else "—"))
        if call.is_agent:
            table.add_row("turns", _plain(str(len(call.nested))))
        table.add_row("span id", _plain(call.span_id))
        return table


def _record_lines(record: SpanRecord) -> list[Text]:
    """Attributes and events as ``key value`` lines, wrapping under the panel's width
    (keys are too long to share a column with the fields above)."""
    lines = [Text(""), Text(f"attributes ({len(record.attributes)})", style="bold")]
    lines += [_line(key, value) for key, value in record.attributes.items()]
    for event in record.events:
        lines.append(Text(f"event {event.get('name', '')}", style="bold"))
        lines += [_line(f"  {k}", v) for k, v in (event.get("attributes") or {}).items()]
    return lines


def _line(key: str, value: Any) -> Text:
    return Text.assemble((key, "dim"), " ", _value(value))


def _value(value: Any) -> Text:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    if len(text) > VALUE_CHARS:
        text = text[: VALUE_CHARS - 1] + "…"
    return Text(text)


def _table() -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _tokens(given: int | None, produced: int | None) -> str:
    if given is None and produced is None:
        return "—"
    return f"{_or_unknown(given)} in · {_or_unknown(produced)} out"


def _or_unknown(count: int | None) -> str:
    return "?" if count is None else str(count)


def _status(status: str, error_type: str | None = None) -> Text:
    if status == "error":
        return Text(f"✗ error{f' ({error_type})' if error_type else ''}", style="bold red")
    return Text("ok" if status in ("ok", "unset") else status)


def _cost(cost: Cost) -> Text:
    if cost.priced:
        return Text(usd(cost))
    if cost.unknown_models:
        return Text(f"unknown: {cost.unknown_models[0]} is not in the price table", style="dim")
    return Text("unknown: no token counts recorded", style="dim")


def _plain(value: str | Text) -> Text:
    """A cell as plain text: recorded names and ids are never read as Rich markup."""
    return Text(value) if isinstance(value, str) else value
