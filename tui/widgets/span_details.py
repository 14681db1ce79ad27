"""The details panel: timings, tokens, model and ids of the selected span."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from replay.model import Step, ToolCall
from tui.humanize import clock_time, duration, local_time, size
from tui.palette import AgentColors

Selected = Step | ToolCall


class SpanDetails(Static):
    """Shows one span: a turn's model call, or a tool call chosen in the messages."""

    DEFAULT_CSS = """
    SpanDetails { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.agent_colors = AgentColors()
        self.selected: Selected | None = None

    def show(self, selected: Selected | None) -> None:
        self.selected = selected
        if selected is None:
            self.update(Text("nothing selected", style="dim"))
        elif isinstance(selected, Step):
            self.update(self._step_table(selected))
        else:
            self.update(self._tool_table(selected))

    def _step_table(self, step: Step) -> Table:
        table = _table()
        table.add_row("span", f"chat {step.model or ''}".rstrip())
        table.add_row("agent", Text(step.agent or "—", self.agent_colors.text(step.agent)))
        table.add_row("model", step.model or "—")
        table.add_row(
            "started", f"{local_time(step.started_at)[:10]} {clock_time(step.started_at)}"
        )
        table.add_row("duration", duration(step.duration_ms))
        table.add_row("tokens", _tokens(step.input_tokens, step.output_tokens))
        table.add_row("status", _status(step.status))
        table.add_row("turn", f"{step.index} (turn {step.turn} of its run)")
        table.add_row("content", "recorded" if step.has_content else "not recorded")
        table.add_row("trace", step.trace_id)
        table.add_row("span id", step.span_id)
        return table

    def _tool_table(self, call: ToolCall) -> Table:
        table = _table()
        table.add_row("span", f"execute_tool {call.name}")
        table.add_row("kind", f"agent as tool: {call.agent}" if call.is_agent else "function")
        table.add_row("call id", call.call_id or "—")
        table.add_row("duration", duration(call.duration_ms))
        table.add_row("status", _status(call.status, call.error_type))
        table.add_row("arguments", size(call.arguments) if call.arguments else "—")
        table.add_row("result", size(call.result) if call.result else "—")
        if call.is_agent:
            table.add_row("turns", str(len(call.nested)))
        table.add_row("span id", call.span_id)
        return table


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
