"""The one-line bars of the replay screen: the conversation's title and the banner that
announces what the current turn is part of (a loop, an error, playback, a search)."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from replay.cost import Cost
from replay.model import Conversation, Step, TraceLoop
from tui.humanize import duration, local_time, plural, rate, usd
from tui.turns import model_calls

IDLE_HINT = "← → step · home end · space play · l loop · e error · / search · esc list"


def conversation_title(conversation: Conversation, cost: Cost | None = None) -> Content:
    """``support-7f3a  8 turns · 5 handoffs  ⟲ 1 loop  ✗ 1 error  $0.012  15.4s · 2026-03-14
    09:15``: what matters first, so a narrow terminal cuts the least useful part."""
    top = len(conversation.steps)
    calls = model_calls(conversation.steps)
    # Turns as the list and the ``turns`` view count them: nested agent-tool turns too.
    inner = f" ({top:,} at the top level)" if calls != top else ""
    parts = [
        Content.styled(conversation.conversation_id, "bold"),
        Content(f"  {plural(calls, 'turn')}{inner}"),
        Content(f" · {plural(len(conversation.transitions), 'handoff')}"),
    ]
    if len(conversation.trace_ids) > 1:
        parts.append(Content(f" · {len(conversation.trace_ids)} runs"))
    if conversation.loops:
        parts.append(
            Content.styled(f"  ⟲ {plural(len(conversation.loops), 'loop')}", "bold $warning")
        )
    if conversation.errors:
        parts.append(
            Content.styled(f"  ✗ {plural(len(conversation.errors), 'error')}", "bold $error")
        )
    if cost is not None:
        unknown = ", ".join(cost.unknown_models[:3])
        why = f" ({unknown} not in the price table)" if unknown else ""
        parts.append(Content.styled(f"  {usd(cost)}{why}", "bold" if cost.known else ""))
    if conversation.started_at and conversation.ended_at:
        elapsed = (conversation.ended_at - conversation.started_at).total_seconds() * 1000
        parts.append(Content.styled(f"  {duration(elapsed)}", "$text-muted"))
    parts.append(Content.styled(f" · {local_time(conversation.started_at)}", "$text-muted"))
    return Content.assemble(*parts)


def failure_title(conversation_id: str) -> Content:
    return Content.assemble(("Cannot replay ", "bold"), (conversation_id, "bold $error"))


def failure_text(message: str) -> Content:
    return Content.assemble(
        ("✗ ", "bold $error"),
        message,
        ("\n\nPress Esc for the list of conversations, or q to quit.", "$text-muted"),
    )


def turn_banner(
    step: Step,
    loops: Sequence[TraceLoop],
    *,
    playing_rate: float | None,
    search: str | None,
    matches: Sequence[int] = (),
) -> Content:
    """Playback, the loops the turn is part of, its errors and the search (with how many
    turns match); with none of these, the keys to get going."""
    pieces: list[Content] = []
    if playing_rate is not None:
        pieces.append(Content.styled(f"▶ playing · {rate(playing_rate, 'turn')} ", "bold $success"))
    for found in loops:
        pieces.append(Content.styled(f"⟲ {found.describe()} ", "bold $warning"))
    for error in step.errors:
        pieces.append(Content.styled(f"✗ {error.kind} in {error.where} ", "bold $error"))
    if search:
        pieces.append(Content.styled(f"/{search}  {_match_count(step.index, matches)}", "bold"))
        pieces.append(Content.styled("  n next · N previous", "$text-muted"))
    if not pieces:
        pieces.append(Content.styled(IDLE_HINT, "$text-muted"))
    return Content.assemble(*pieces)


def _match_count(index: int, matches: Sequence[int]) -> str:
    """``match 2 of 5 turns`` on a matching turn, else how many turns match."""
    total = plural(len(matches), "turn")
    if index in matches:
        return f"match {list(matches).index(index) + 1} of {total}"
    return f"{total} matching"
