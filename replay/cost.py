"""What model calls cost in US dollars, from their model and token counts.

Prices come from ``genai-prices`` (Pydantic's maintained table of LLM API prices, shipped
with the package: nothing is fetched at run time), at the price in force when the call
was made. A model the table does not know, or a call without token counts, has no price:
it is counted as unpriced and named, never guessed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from replay.errors import StoreLike, existing_store
from replay.model import Conversation, Step
from tracer.store.prices import price as _price


@dataclass(frozen=True, slots=True)
class Cost:
    """The price of some model calls: the sum of those that could be priced, how many
    could not, and the models that made them unpriceable."""

    usd: Decimal = Decimal(0)
    priced: int = 0
    unpriced: int = 0
    unknown_models: tuple[str, ...] = field(default=())

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            self.usd + other.usd,
            self.priced + other.priced,
            self.unpriced + other.unpriced,
            tuple(dict.fromkeys((*self.unknown_models, *other.unknown_models))),
        )

    @property
    def known(self) -> bool:
        """Whether every call was priced (and there was at least one)."""
        return self.priced > 0 and self.unpriced == 0


def call_cost(
    model: str | None,
    input_tokens: int | None,
    output_tokens: int | None,
    at: dt.datetime | None = None,
) -> Cost:
    """One model call's cost; unpriced without a model, a known price or token counts."""
    if input_tokens is None and output_tokens is None:
        return Cost(unpriced=1, unknown_models=())
    price = _price(model or "", input_tokens or 0, output_tokens or 0, _day(at))
    if price is None:
        return Cost(unpriced=1, unknown_models=(model or "no model recorded",))
    return Cost(usd=price, priced=1)


def step_cost(step: Step) -> Cost:
    """A turn's own model call (not those of agents it called as tools)."""
    return call_cost(step.model, step.input_tokens, step.output_tokens, step.started_at)


def all_calls(steps: Iterable[Step]) -> Iterable[Step]:
    """Every model call of ``steps``: each step, then the calls nested under its agents
    used as tools and its guardrails' agents."""
    for step in steps:
        yield step
        for call in step.tool_calls:
            yield from all_calls(call.nested)
        for guardrail in getattr(step, "guardrails", ()):
            yield from all_calls(guardrail.nested)


def total_cost(steps: Iterable[Step]) -> Cost:
    """All the model calls of ``steps``, nested ones included."""
    return _Tally().add_all(all_calls(steps)).cost()


def conversation_cost(conversation: Conversation) -> Cost:
    return total_cost(conversation.steps)


def agent_costs(conversation: Conversation) -> dict[str, Cost]:
    """Each agent's model calls, nested ones under the agent that made them."""
    tallies: dict[str, _Tally] = {}
    for step in all_calls(conversation.steps):
        tallies.setdefault(step.agent or "unknown agent", _Tally()).add(step)
    return {agent: tally.cost() for agent, tally in tallies.items()}


class _Tally:
    """Sums calls without a ``Cost`` per call (10,000 turns price in a few ms more than
    their lookups)."""

    def __init__(self) -> None:
        self.usd = Decimal(0)
        self.priced = 0
        self.unpriced = 0
        self.unknown: dict[str, None] = {}

    def add(self, step: Step) -> None:
        if step.input_tokens is None and step.output_tokens is None:
            self.unpriced += 1
            return
        model = step.model or ""
        price = _price(
            model, step.input_tokens or 0, step.output_tokens or 0, _day(step.started_at)
        )
        if price is None:
            self.unpriced += 1
            self.unknown[step.model or "no model recorded"] = None
        else:
            self.usd += price
            self.priced += 1

    def add_all(self, steps: Iterable[Step]) -> _Tally:
        for step in steps:
            self.add(step)
        return self

    def cost(self) -> Cost:
        return Cost(self.usd, self.priced, self.unpriced, tuple(self.unknown))


def conversation_costs(store: StoreLike, conversation_ids: Sequence[str]) -> dict[str, Cost]:
    """The cost of each conversation of ``conversation_ids``, read in one query (a page of
    the conversation list)."""
    if not conversation_ids:
        return {}
    opened = existing_store(store)
    with opened.read_connection() as con:
        rows = con.execute(
            "SELECT conversation_id, model, input_tokens, output_tokens, start_time "
            "FROM spans WHERE op = 'chat' AND list_contains(?, conversation_id)",
            [list(conversation_ids)],
        ).fetchall()
    costs = {conversation_id: Cost() for conversation_id in conversation_ids}
    for conversation_id, model, given, produced, started in rows:
        costs[conversation_id] = costs[conversation_id] + call_cost(model, given, produced, started)
    return costs


def _day(at: dt.datetime | None) -> dt.date | None:
    # Prices change by the day at most; a day's key keeps the cache small. The UTC day,
    # as the store's cost_usd columns price it.
    if at is None:
        return None
    return (at.astimezone(dt.UTC) if at.tzinfo is not None else at).date()
