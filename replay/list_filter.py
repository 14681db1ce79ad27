"""More ways to narrow the conversation list than text and agent: when it started, the
model, the outcome, how long it took, how many tokens it used, what its messages say.

``ConversationFilter.conditions`` turns them into SQL over the ``conversations`` view
(with ``spans`` for what the view does not hold), for ``replay.list_conversations``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ConversationFilter:
    """Every field is optional; the conversations listed meet all that are set."""

    started_from: dt.datetime | None = None  # started at or after
    started_before: dt.datetime | None = None
    model: str | None = None  # a model whose name contains this (any case)
    failed: bool | None = None  # True: with an error; False: without
    min_duration_ms: float | None = None
    max_duration_ms: float | None = None
    min_tokens: int | None = None  # input and output tokens of every model call
    max_tokens: int | None = None
    says: str | None = None  # text in a model call's messages (any case)

    def conditions(self) -> tuple[list[str], list[Any]]:
        """SQL conditions on the ``conversations`` view and their parameters."""
        where: list[str] = []
        params: list[Any] = []
        if self.started_from is not None:
            where.append("started_at >= ?")
            params.append(self.started_from)
        if self.started_before is not None:
            where.append("started_at < ?")
            params.append(self.started_before)
        if self.failed is not None:
            where.append("has_error" if self.failed else "NOT has_error")
        if self.min_duration_ms is not None:
            where.append("duration_ms >= ?")
            params.append(self.min_duration_ms)
        if self.max_duration_ms is not None:
            where.append("duration_ms <= ?")
            params.append(self.max_duration_ms)
        if self.model:
            where.append(
                "conversation_id IN (SELECT conversation_id FROM spans "
                "WHERE op = 'chat' AND contains(lower(model), ?))"
            )
            params.append(self.model.lower())
        if self.min_tokens is not None or self.max_tokens is not None:
            having = []
            if self.min_tokens is not None:
                having.append("sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) >= ?")
                params.append(self.min_tokens)
            if self.max_tokens is not None:
                having.append("sum(coalesce(input_tokens, 0) + coalesce(output_tokens, 0)) <= ?")
                params.append(self.max_tokens)
            where.append(
                "conversation_id IN (SELECT conversation_id FROM spans WHERE op = 'chat' "
                f"GROUP BY conversation_id HAVING {' AND '.join(having)})"
            )
        if self.says:
            # Messages are stored in the spans' attributes and events, as JSON text.
            where.append(
                "conversation_id IN (SELECT conversation_id FROM spans WHERE op = 'chat' "
                "AND (contains(lower(CAST(attributes AS VARCHAR)), ?) "
                "OR contains(lower(CAST(events AS VARCHAR)), ?)))"
            )
            needle = self.says.lower()
            params += [needle, needle]
        return where, params

    @property
    def active(self) -> bool:
        return any(getattr(self, name) is not None for name in self.__slots__)
