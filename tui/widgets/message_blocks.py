"""The pieces a turn is shown as: messages, tool calls, transfers and errors.

``turn_blocks`` turns one ``Step`` into widgets. Long tool results fold into a
``Collapsible``; an agent called as a tool folds its own turns the same way, so nested
runs read like the top level, one indent deeper.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence

from textual import events
from textual.containers import Vertical
from textual.content import Content
from textual.markup import escape
from textual.message import Message as TextualMessage
from textual.widget import Widget
from textual.widgets import Collapsible, Static

from replay.model import Guardrail, Message, Step, ToolCall, run_label
from tui.humanize import duration, error_text, size
from tui.palette import AgentColors
from tui.turns import split_input

FOLD_LINES = 6
FOLD_CHARS = 400
MAX_NESTING = 4
MAX_CONTEXT = 200


class ToolCallSelected(TextualMessage):
    """A tool call got focus or a click: show its span in the details panel."""

    def __init__(self, call: ToolCall) -> None:
        super().__init__()
        self.call = call


class Highlighter:
    """Marks the search term in every text block."""

    def __init__(self, term: str | None) -> None:
        self.pattern = re.compile(re.escape(term), re.IGNORECASE) if term else None

    def __call__(self, content: Content) -> Content:
        if self.pattern is None:
            return content
        return content.highlight_regex(self.pattern, style="bold $text on $warning-muted")


class MessageBlock(Static):
    """One message: who said it, then what they said."""

    DEFAULT_CSS = """
    MessageBlock {
        padding: 0 1;
        margin-bottom: 1;
        border-left: outer $foreground 25%;
    }
    MessageBlock.-user { border-left: outer $foreground 60%; }
    MessageBlock.-system { border-left: outer $panel-lighten-1; color: $text-muted; }
    """


class ToolCallBlock(Vertical, can_focus=True):
    """A tool call: name and arguments, then its result (folded when long)."""

    DEFAULT_CSS = """
    ToolCallBlock {
        height: auto;
        padding: 0 1;
        margin-bottom: 1;
        border-left: outer $foreground 25%;
    }
    ToolCallBlock.-error { border-left: outer $error; }
    ToolCallBlock:focus { background: $boost; border-left: outer $accent; }
    ToolCallBlock > Collapsible { padding-bottom: 0; border-top: none; background: transparent; }
    """

    def __init__(self, call: ToolCall, *children: Widget) -> None:
        super().__init__(*children, classes="-error" if call.status == "error" else None)
        self.call = call
        self.parts = children  # what it was made with, for ``refill``

    def on_focus(self, event: events.Focus) -> None:
        self.post_message(ToolCallSelected(self.call))

    def on_click(self, event: events.Click) -> None:
        self.post_message(ToolCallSelected(self.call))


class ContextFold(Collapsible):
    """The history a model call was sent, folded. Its messages are only built when it is
    first opened (a long conversation's history runs to thousands of messages), and then
    only the latest ``MAX_CONTEXT`` of them."""

    def __init__(
        self, messages: Sequence[Message], step: Step, colors: AgentColors, highlight: Highlighter
    ) -> None:
        count = len(messages)
        super().__init__(
            title=f"earlier context · {count} message{'s' if count != 1 else ''}",
            collapsed=True,
            classes="context",
        )
        self.messages = messages
        self._parts = (step, colors, highlight)
        self._filled = False

    def _watch_collapsed(self, collapsed: bool) -> None:
        if not collapsed and not self._filled and self.is_mounted:
            self._filled = True
            step, colors, highlight = self._parts
            shown = self.messages[-MAX_CONTEXT:]
            blocks: list[Widget] = []
            if len(self.messages) > len(shown):
                hidden = len(self.messages) - len(shown)
                note = f"… {hidden} earlier messages not shown"
                blocks.append(Static(Content.styled(note, "$text-muted")))
            blocks.extend(_message(m, step, colors, highlight) for m in shown)
            self.query_one(Collapsible.Contents).mount_all(blocks)
        super()._watch_collapsed(collapsed)


def refill(shown: Widget, made: Widget) -> bool:
    """Make the mounted block ``shown`` draw what the unmounted ``made`` would, in place,
    and say whether it could: mounting a turn's widgets afresh costs a step far more than
    updating the ones already there. Only blocks of the same kind and shape are refilled
    (text blocks, tool calls made of text blocks, an earlier-context fold never opened);
    anything else, such as an opened fold or a nested run, is left for a new widget."""
    if not _fits(shown, made):
        return False
    _refill(shown, made)
    return True


def _fits(shown: Widget, made: Widget) -> bool:
    # A fold marks itself "-collapsed" once mounted; the made one is collapsed too.
    if type(shown) is not type(made) or shown.classes - {"-collapsed"} != made.classes:
        return False
    if isinstance(shown, ToolCallBlock) and isinstance(made, ToolCallBlock):
        kids = list(shown.children)
        return len(kids) == len(made.parts) and all(
            _is_text(kid) and _fits(kid, part) for kid, part in zip(kids, made.parts, strict=True)
        )
    if isinstance(shown, ContextFold) and isinstance(made, ContextFold):
        return shown.collapsed and made.collapsed and not shown._filled
    return _is_text(shown)


def _refill(shown: Widget, made: Widget) -> None:
    if isinstance(shown, ToolCallBlock) and isinstance(made, ToolCallBlock):
        for kid, part in zip(list(shown.children), made.parts, strict=True):
            _refill(kid, part)
        shown.call = made.call
    elif isinstance(shown, ContextFold) and isinstance(made, ContextFold):
        shown.messages, shown._parts = made.messages, made._parts
        shown.title = made.title
    elif isinstance(shown, Static) and isinstance(made, Static):
        inline, wanted = shown.styles.inline, made.styles.inline.get_rules()
        if inline.get_rules() != wanted:
            for rule in inline.get_rules().keys() - wanted.keys():
                inline.clear_rule(rule)
            inline.merge_rules(wanted)
            shown.refresh(layout=True)
        shown.content = made.content  # also forgets the cached size, as a new widget has none


def _is_text(widget: Widget) -> bool:
    """A block that is only its text: no children, nothing to focus or open."""
    return type(widget) in (Static, MessageBlock)


def turn_blocks(
    step: Step,
    previous: Step | None,
    colors: AgentColors,
    highlight: Highlighter,
    depth: int = 0,
) -> Iterator[Widget]:
    """The widgets that show one turn, top to bottom."""
    if not step.has_content:
        missing = step.missing_content or "no message content was recorded for this turn"
        yield Static(
            Content.styled(
                f"This producer recorded no message content for this turn: {missing}. "
                "Timings, tokens and tool calls are still shown.",
                "italic $text-muted",
            ),
            classes="no-content",
        )
    for guardrail in step.guardrails:
        if guardrail.kind != "output":
            yield guardrail_block(guardrail, colors, highlight, depth)
    context, fresh = split_input(step.input_messages or (), previous)
    if context:
        yield ContextFold(context, step, colors, highlight)
    for message in fresh:
        yield _message(message, step, colors, highlight)
    calls_by_id = {call.call_id: call for call in step.tool_calls if call.call_id}
    shown: set[str] = set()
    for message in step.output_messages or ():
        if message.text:
            yield _message(message, step, colors, highlight, answer=True)
        for part in message.parts:
            if part.type != "tool_call":
                continue
            call = calls_by_id.get(part.call_id or "")
            if call is not None:
                shown.add(call.span_id)
                yield tool_call_block(call, colors, highlight, depth)
            elif not _is_transfer_name(part.name, step):
                yield _requested_call(part.name, part.arguments, highlight)
    for call in step.tool_calls:
        if call.span_id not in shown:
            yield tool_call_block(call, colors, highlight, depth)
    shown_spans = {call.span_id for call in step.tool_calls}
    for guardrail in step.guardrails:
        if guardrail.kind == "output":
            yield guardrail_block(guardrail, colors, highlight, depth)
    if step.handoff is not None:
        yield transfer_block(step.handoff.from_agent or step.agent, step.handoff.to_agent, colors)
        if step.handoff.reason is not None and step.handoff.reason.arguments not in (None, "{}"):
            args = _compact(step.handoff.reason.arguments or "")
            yield Static(
                Content.assemble(("  why: ", "$text-muted"), highlight(Content(args))),
                classes="transfer-reason",
            )
        if step.handoff.input_filter is not None:
            removed = step.handoff.removed or ()
            note = f"  input filter {step.handoff.input_filter}"
            note += f" removed {', '.join(removed)}" if removed else " removed nothing"
            yield Static(Content.styled(note, "$text-muted"), classes="transfer-filter")
        if step.handoff.warning is not None:
            yield Static(
                Content.styled(f"  ⚠ {step.handoff.warning}", "$warning"), classes="warning"
            )
    for error in step.errors:
        if error.span_id in shown_spans:
            continue  # already shown under its tool call
        text = f"✗ {error_text(error.kind, error.message)}"
        yield Static(
            Content.assemble((text, "bold $error"), (f"  in {error.where}", "$text-muted")),
            classes="error",
        )


def tool_call_block(
    call: ToolCall, colors: AgentColors, highlight: Highlighter, depth: int
) -> ToolCallBlock:
    header = Content.assemble(
        ("⇢ " if call.is_agent else "⚙ ", "$text-muted"),
        (call.agent or call.name, _color_style(call.agent, colors) if call.is_agent else "bold"),
        (" agent as tool" if call.is_agent else "", "$text-muted"),
        ("  " + duration(call.duration_ms) if call.duration_ms is not None else "", "$text-muted"),
    )
    children: list[Widget] = [Static(header, classes="call-name")]
    if call.arguments:
        children.append(Static(highlight(Content(_compact(call.arguments))), classes="arguments"))
    if call.is_agent and call.nested and depth < MAX_NESTING:
        nested: list[Widget] = []
        before: Step | None = None
        for inner in call.nested:
            nested.append(Static(turn_header(inner, colors), classes="nested-header"))
            nested.extend(turn_blocks(inner, before, colors, highlight, depth + 1))
            before = inner
        nested_title = escape(run_label(call.nested))
        children.append(Collapsible(*nested, title=nested_title, collapsed=True, classes="nested"))
    if call.status == "error":
        reason = call.error_type or "error"
        children.append(Static(Content.styled(f"✗ {reason}", "bold $error"), classes="call-error"))
    children.extend(_result(call.result, highlight, failed=call.status == "error"))
    return ToolCallBlock(call, *children)


def guardrail_block(
    guardrail: Guardrail, colors: AgentColors, highlight: Highlighter, depth: int
) -> Static | Collapsible:
    """``🛡 input guardrail harm passed``, its own agent's run folded below it."""
    outcome_style = {"tripped": "bold $error", "passed": "$success"}.get(
        guardrail.outcome, "$text-muted"
    )
    line = Content.assemble(
        ("🛡 ", "$text-muted"),
        (f"{guardrail.kind or ''} guardrail ".lstrip(), "$text-muted"),
        (guardrail.name or "?", "bold"),
        "  ",
        (guardrail.outcome, outcome_style),
    )
    if not guardrail.nested or depth >= MAX_NESTING:
        return Static(line, classes="guardrail")
    nested: list[Widget] = []
    before: Step | None = None
    for inner in guardrail.nested:
        nested.append(Static(turn_header(inner, colors), classes="nested-header"))
        nested.extend(turn_blocks(inner, before, colors, highlight, depth + 1))
        before = inner
    title = escape(
        f"{guardrail.kind or ''} guardrail {guardrail.name or '?'} {guardrail.outcome}"
        f" · {run_label(guardrail.nested)}".strip()
    )
    return Collapsible(*nested, title=title, collapsed=True, classes="nested guardrail")


def _requested_call(name: str | None, arguments: str | None, highlight: Highlighter) -> Static:
    text = Content.assemble(("⚙ ", "$text-muted"), (name or "tool", "bold"))
    if arguments:
        text = Content.assemble(text, "  ", highlight(Content(_compact(arguments))))
    text = Content.assemble(text, ("  (no span recorded for this call)", "$text-muted"))
    return Static(text, classes="requested-call")


def _result(result: str | None, highlight: Highlighter, *, failed: bool) -> list[Widget]:
    if result is None:
        return [Static(Content.styled("↳ no result recorded", "$text-muted"), classes="result")]
    pretty = _pretty(result)
    if pretty.count("\n") < FOLD_LINES and len(pretty) <= FOLD_CHARS:
        arrow = ("↳ ", "$error" if failed else "$success")
        return [Static(highlight(Content.assemble(arrow, pretty)), classes="result")]
    preview = " ".join(result.split())[:60]
    title = escape(f"result · {size(pretty)} · {preview}…")  # titles are markup
    body = Static(highlight(Content(pretty)), classes="result-body")
    return [Collapsible(body, title=title, collapsed=True, classes="result")]


def transfer_block(source: str | None, target: str | None, colors: AgentColors) -> Static:
    line = Content.assemble(
        (source or "?", _color_style(source, colors)),
        ("  ━━ transfer ━━▶  ", "$text-muted"),
        (target or "?", _color_style(target, colors)),
    )
    return Static(line, classes="transfer")


def turn_header(step: Step, colors: AgentColors, *, nested: bool = True) -> Content:
    """``Billing · gpt-4.1 · 812ms · 300 → 40 tokens``; nested turns start with their number."""
    tokens = ""
    if step.input_tokens is not None or step.output_tokens is not None:
        tokens = f" · {step.input_tokens or 0} → {step.output_tokens or 0} tokens"
    return Content.assemble(
        (f"turn {step.turn} " if nested else "", "bold"),
        (step.agent or "unknown agent", _color_style(step.agent, colors)),
        (f" · {step.model or 'model?'} · {duration(step.duration_ms)}{tokens}", "$text-muted"),
    )


def _message(
    message: Message,
    step: Step,
    colors: AgentColors,
    highlight: Highlighter,
    *,
    answer: bool = False,
) -> MessageBlock:
    """A message block. ``answer``: the turn's own output, whose tool calls show as blocks
    of their own rather than inline."""
    role = message.role
    # Only the turn's own answer is known to be this agent's; earlier assistant messages in
    # the history may be another agent's, and the history does not say whose.
    speaker = step.agent if role == "assistant" and answer else None
    if speaker:
        who = Content.styled(speaker, _color_style(speaker, colors))
    else:
        who = Content.styled(role, "bold")
    lines: list[Content] = [who]
    if message.text:
        lines.append(highlight(Content(message.text)))
    for part in message.parts:
        if part.type == "tool_call" and not answer:
            call = f"⚙ {part.name or 'tool'} {_compact(part.arguments or '')}".rstrip()
            lines.append(highlight(Content.styled(call, "$text-muted")))
        elif part.type == "tool_call_response":
            lines.append(highlight(Content(f"↳ {_compact(part.content or '')}")))
        elif part.type not in ("text", "tool_call") and part.content:
            lines.append(highlight(Content.styled(f"[{part.type}] {part.content}", "$text-muted")))
    block = MessageBlock(Content("\n").join(lines), classes=f"-{role}")
    if speaker:
        block.styles.border_left = ("outer", colors.color(speaker))
    return block


def _color_style(agent: str | None, colors: AgentColors) -> str:
    return f"bold {colors.color(agent)}"


def _is_transfer_name(name: str | None, step: Step) -> bool:
    return step.handoff is not None and bool(name) and (name or "").startswith("transfer_to")


def _compact(text: str) -> str:
    """JSON on one line when it is JSON, else the text as is."""
    try:
        return json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


def _pretty(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, indent=2)
    return text
