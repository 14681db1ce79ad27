"""A conversation as a Markdown transcript for a bug report: turn by turn, the agent, the
messages, tool calls and results, transfers, errors and loops, readable on GitHub.

Recorded text goes in as it was written (a message's own Markdown still reads as
Markdown), except that control characters are shown as the Unicode control pictures
(ESC as ␛) so a transcript never carries terminal escapes, and tool arguments and results
go in fenced blocks whose fence is longer than any run of backticks inside them.
No Textual here: ``baton export --format markdown`` and the TUI share it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

from replay.model import Conversation, Message, RunError, Step, ToolCall, model_calls

_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BACKTICKS = re.compile("`+")


def conversation_markdown(conversation: Conversation) -> str:
    """The whole conversation: a summary, then every turn."""
    return "\n".join(_conversation_lines(conversation)).rstrip() + "\n"


def step_markdown(step: Step, previous: Step | None, *, level: int = 2) -> str:
    """One turn under a heading of ``level`` (``##``)."""
    return "\n".join(_step_lines(step, previous, level)).rstrip() + "\n"


def _conversation_lines(conversation: Conversation) -> Iterator[str]:
    yield f"# Conversation {_inline(conversation.conversation_id)}"
    yield ""
    started = (
        conversation.started_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
        if conversation.started_at
        else "unknown"
    )
    top = len(conversation.steps)
    calls = model_calls(conversation.steps)
    turns = _count(calls, "turn") + (f" ({top:,} at the top level)" if calls != top else "")
    handoffs = len(conversation.transitions)
    yield f"- started: {started}"
    yield f"- {turns}, {_count(handoffs, 'handoff')}" + (
        f", {_count(len(conversation.trace_ids), 'run')}" if len(conversation.trace_ids) > 1 else ""
    )
    if conversation.agents:
        yield f"- agents: {' → '.join(_inline(a) for a in conversation.agents)}"
    for found in conversation.loops:
        yield f"- ⟲ loop: {_inline(found.describe())}"
    for error in conversation.errors:
        where = f" (turn {error.turn})" if error.turn is not None else ""
        yield f"- ✗ error{where}: {_error(error)}"
    yield ""
    previous: Step | None = None
    for step in conversation.steps:
        if previous is not None and step.trace_id != previous.trace_id:
            yield "---"
            yield ""
            yield f"*Run {conversation.trace_ids.index(step.trace_id) + 1}*"
            yield ""
        yield from _step_lines(step, previous, 2)
        previous = step


def _step_lines(step: Step, previous: Step | None, level: int) -> Iterator[str]:
    tokens = ""
    if step.input_tokens is not None or step.output_tokens is not None:
        tokens = f" · {step.input_tokens or 0} → {step.output_tokens or 0} tokens"
    took = f" · {_duration(step.duration_ms)}" if step.duration_ms is not None else ""
    yield (
        f"{'#' * level} Turn {step.index if level == 2 else step.turn} · "
        f"{_inline(step.agent or 'unknown agent')} · {_inline(step.model or 'model?')}"
        f"{took}{tokens}"
    )
    yield ""
    if not step.has_content:
        yield "*No message content was recorded for this turn.*"
        yield ""
    for message in _fresh_input(step, previous):
        yield from _message_lines(message.role, message)
    calls = {call.call_id: call for call in step.tool_calls if call.call_id}
    shown: set[str] = set()
    for message in step.output_messages or ():
        if message.text:
            yield from _message_lines(step.agent or "assistant", message, answer=True)
        for part in message.parts:
            call = calls.get(part.call_id or "") if part.type == "tool_call" else None
            if call is not None and call.span_id not in shown:
                shown.add(call.span_id)
                yield from _call_lines(call, level)
    for call in step.tool_calls:
        if call.span_id not in shown:
            yield from _call_lines(call, level)
    if step.handoff is not None:
        source = _inline(step.handoff.from_agent or step.agent or "?")
        yield f"➜ transfer: **{source}** → **{_inline(step.handoff.to_agent or '?')}**"
        yield ""
    for error in step.errors:
        yield f"✗ **{_error(error)}** (in {_inline(error.where)})"
        yield ""


def _fresh_input(step: Step, previous: Step | None) -> list[Message]:
    """What this turn's model call was sent that is new: after the last assistant
    message; system prompts only on a run's first turn; tool results show under the
    calls of the turn that made them."""
    messages = step.input_messages or ()
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    first_of_run = previous is None or previous.trace_id != step.trace_id
    fresh = [m for m in messages[last + 1 :] if m.role != "tool"]
    if not first_of_run:
        fresh = [m for m in fresh if m.role not in ("system", "developer")]
    return fresh


def _message_lines(who: str, message: Message, *, answer: bool = False) -> Iterator[str]:
    text = message.text
    asked = [p for p in message.parts if p.type == "tool_call"] if not answer else []
    if not text and not asked:
        return
    yield f"**{_inline(who)}**"
    yield ""
    for line in _clean(text).splitlines() or ([""] if text else []):
        yield f"> {line}".rstrip()
    for part in asked:
        yield f"> ⚙ {_inline(part.name or 'tool')} `{_inline(part.arguments or '')}`"
    yield ""


def _call_lines(call: ToolCall, level: int) -> Iterator[str]:
    kind = "agent as tool" if call.is_agent else "tool"
    took = f" ({_duration(call.duration_ms)})" if call.duration_ms is not None else ""
    failed = f" ✗ {_inline(call.error_type or 'error')}" if call.status == "error" else ""
    yield f"⚙ {kind} **{_inline(call.agent or call.name)}**{took}{failed}"
    yield ""
    if call.arguments:
        yield from _fenced("arguments", call.arguments)
    if call.is_agent and call.nested:
        yield "<details><summary>" + _html(_run_label(call.nested)) + "</summary>"
        yield ""
        before: Step | None = None
        for inner in call.nested:
            yield from _step_lines(inner, before, min(level + 2, 6))
            before = inner
        yield "</details>"
        yield ""
    if call.result is not None:
        yield from _fenced("result", call.result)


def _fenced(label: str, text: str) -> Iterator[str]:
    pretty, language = _pretty(text)
    longest = max((len(run) for run in _BACKTICKS.findall(pretty)), default=0)
    fence = "`" * max(3, longest + 1)
    yield f"{label}:"
    yield ""
    yield f"{fence}{language}"
    yield from _clean(pretty).splitlines()
    yield fence
    yield ""


def _pretty(text: str) -> tuple[str, str]:
    try:
        value = json.loads(text)
    except ValueError:
        return text, "text"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, indent=2), "json"
    return text, "text"


def _error(error: RunError) -> str:
    detail = (error.message or "").strip()
    if detail.startswith(f"{error.kind}:"):
        detail = detail[len(error.kind) + 1 :].strip()
    return _inline(f"{error.kind}: {detail}" if detail else error.kind)


def _run_label(steps: Sequence[Step]) -> str:
    agents = ", ".join(dict.fromkeys(step.agent or "?" for step in steps))
    return f"{_count(len(steps), 'turn')} by {agents}"


def _clean(text: str) -> str:
    """Control characters as their pictures (ESC as ␛); newlines and tabs kept."""
    return _CONTROLS.sub(_picture, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else "\ufffd"


def _inline(text: str) -> str:
    """Text for one line: control characters (newlines too) made visible."""
    return _clean(text).replace("\n", "⏎").replace("\t", " ")


def _html(text: str) -> str:
    return _inline(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _count(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _duration(ms: float) -> str:
    return f"{ms:.0f}ms" if ms < 1000 else f"{ms / 1000:.1f}s"
