"""What "copy" and "open" take on the replay screen: the focused tool call's arguments
and result, the span details as JSON, or else the current turn as Markdown.

Pure functions over the replay model, so the text is the same in the clipboard, the
full-screen view and the pager.
"""

from __future__ import annotations

import dataclasses
import json

from replay.model import Step, ToolCall
from replay.spans import SpanRecord
from replay.transcript import step_markdown


def tool_call_text(call: ToolCall) -> str:
    """A tool call as a report would quote it: name, then arguments and result."""
    lines = [f"{'agent as tool' if call.is_agent else 'tool'} {call.agent or call.name}"]
    if call.status == "error":
        lines.append(f"status: error ({call.error_type or 'unknown'})")
    lines += ["", "arguments:", _pretty(call.arguments) if call.arguments else "(none)"]
    lines += ["", "result:", _pretty(call.result) if call.result is not None else "(none)"]
    return "\n".join(lines) + "\n"


def span_json(record: SpanRecord) -> str:
    """The stored span (attributes, events, resource) as JSON."""
    return json.dumps(dataclasses.asdict(record), ensure_ascii=False, indent=2, default=str) + "\n"


def turn_text(step: Step, previous: Step | None) -> str:
    """The turn as Markdown, as ``baton export --format markdown`` writes it."""
    return step_markdown(step, previous)


def _pretty(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return text
