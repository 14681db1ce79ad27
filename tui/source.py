"""Where the terminal UI's data comes from: the replay API over one store.

The app only ever talks to a ``ConversationSource``; ``StoreSource`` is the real one and
the only place the TUI calls ``replay``. Every method may be slow (it reads DuckDB), so the
app calls them from thread workers, never from the UI thread. No Textual here.
"""

from __future__ import annotations

import datetime as dt
import shlex
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import replay
from replay.agent_order import agents_in_order
from replay.cost import Cost, conversation_costs
from replay.diff import RunDiff, diff_runs
from replay.list_filter import ConversationFilter
from replay.model import AgentGraph, Conversation, ConversationSummary
from replay.spans import SpanRecord
from replay.waterfall import SpanTiming, run_timings
from tracer.store import Store, StoreError
from tui.list_words import is_filter_word, read_word

#: The sort keys ``replay.list_conversations`` accepts, as the list's columns offer them.
SORT_KEYS = (
    "started_at",
    "duration_ms",
    "n_turns",
    "n_handoffs",
    "n_tool_calls",
    "conversation_id",
)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What the conversation list shows: a filter and an order."""

    text: str | None = None
    agent: str | None = None
    only_loops: bool = False
    only_errors: bool = False
    sort: str = "started_at"
    descending: bool = True
    filters: ConversationFilter = field(default_factory=ConversationFilter)
    problems: tuple[str, ...] = ()  # filter words that could not be read, and why

    @classmethod
    def parse(
        cls,
        typed: str,
        *,
        sort: str = "started_at",
        descending: bool = True,
        now: dt.datetime | None = None,
    ) -> ListQuery:
        """Read the filter box: ``agent:NAME`` (the start of a name, any case), ``is:loop``,
        ``is:error``, ``is:ok`` and the words of ``tui.list_words`` are filters; every
        other word is text to match (ids, agent and tool names). Quotes group words
        (``says:"double charge"``)."""
        words: list[str] = []
        agent: str | None = None
        only_loops = only_errors = False
        filters = ConversationFilter()
        problems: list[str] = []
        moment = now or dt.datetime.now(dt.UTC)
        for word in _words(typed):
            lowered = word.lower()
            if lowered.startswith("agent:") and len(word) > len("agent:"):
                agent = word[len("agent:") :]
            elif lowered in ("is:loop", "is:loops"):
                only_loops = True
            elif lowered in ("is:error", "is:errors"):
                only_errors = True
            elif lowered == "is:ok":
                filters = replace(filters, failed=False)
            elif is_filter_word(word):
                filters, problem = read_word(word, filters, moment)
                if problem:
                    problems.append(problem)
            else:
                words.append(word)
        return cls(
            text=" ".join(words) or None,
            agent=agent,
            only_loops=only_loops,
            only_errors=only_errors,
            sort=sort,
            descending=descending,
            filters=filters,
            problems=tuple(problems),
        )

    @property
    def filtered(self) -> bool:
        return bool(
            self.text or self.agent or self.only_loops or self.only_errors or self.filters.active
        )

    def sorted_by(self, sort: str, descending: bool) -> ListQuery:
        return replace(self, sort=sort, descending=descending)


class Page(Protocol):
    """One page of the conversation list (``replay.ConversationPage``)."""

    @property
    def rows(self) -> Sequence[ConversationSummary]: ...

    @property
    def total(self) -> int: ...

    @property
    def version(self) -> tuple[int, int] | None:
        """The store's version the page was read at (the first page's; None for others)."""
        ...


class ConversationSource(Protocol):
    """What the app reads. Implementations may block; call them from workers."""

    @property
    def location(self) -> str:
        """Where the data lives, for titles and messages (the store's path)."""
        ...

    def page(self, query: ListQuery, offset: int, limit: int) -> Page: ...

    def conversation(self, conversation_or_trace_id: str) -> Conversation: ...

    def conversation_at(
        self, conversation_or_trace_id: str
    ) -> tuple[Conversation, tuple[int, int]]:
        """The conversation and the ``version`` it was read at, in one read."""
        ...

    def version(self) -> tuple[int, int]: ...

    def span(self, trace_id: str, span_id: str) -> SpanRecord: ...

    def spans(
        self, trace_ids: Sequence[str], started_from: dt.datetime, started_to: dt.datetime
    ) -> dict[tuple[str, str], SpanRecord]:
        """The records of these traces' spans started in that window, in one read."""
        ...

    def agent_order(self, needed: Sequence[str] = ()) -> tuple[str, ...]:
        """The store's agents in order of first appearance (for their colours), read
        again when an agent of ``needed`` is not in it yet."""
        ...

    def known_agent_order(self) -> tuple[str, ...] | None:
        """The order last read, without reading (None before the first read)."""
        ...

    def run_timings(self, trace_id: str) -> tuple[SpanTiming, ...]:
        """Every span of a run with its times, in tree order (the waterfall)."""
        ...

    def costs(self, conversation_ids: Sequence[str]) -> dict[str, Cost]:
        """What each of these conversations' model calls cost (a page of the list)."""
        ...

    def diff(self, left_id: str, right_id: str) -> RunDiff:
        """Two runs compared turn by turn (``baton diff``)."""
        ...


@dataclass(frozen=True, slots=True)
class EmptyPage:
    rows: tuple[ConversationSummary, ...] = ()
    total: int = 0
    version: tuple[int, int] | None = (0, 0)  # a store not there yet: ``version()``'s


class StoreSource:
    """A ``ConversationSource`` over a baton store, through the replay API.

    A store that does not exist yet reads as empty (the app then shows how to record a
    first run, and follows the path until a recorder creates it) rather than as an error.

    Reads take turns: the app's workers (a page, a conversation, the live-follow poll)
    would otherwise open the file from several threads at once, and DuckDB's in-process
    database cache can fail such simultaneous opens ("Unique file handle conflict").
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._reading = threading.Lock()
        self._agent_order: tuple[str, ...] | None = None

    @property
    def location(self) -> str:
        return short_path(self.store.path)

    def _missing(self) -> bool:
        return not self.store.exists()

    def page(self, query: ListQuery, offset: int, limit: int) -> Page:
        if self._missing():
            return EmptyPage()
        with self._reading:
            return self._page(query, offset, limit)

    def _page(self, query: ListQuery, offset: int, limit: int) -> Page:
        return replay.list_conversations(
            self.store,
            text=query.text,
            agent=query.agent,
            only_loops=query.only_loops,
            only_errors=query.only_errors,
            sort=query.sort,
            descending=query.descending,
            offset=offset,
            limit=limit,
            filters=query.filters if query.filters.active else None,
            with_version=offset == 0,
        )

    def conversation(self, conversation_or_trace_id: str) -> Conversation:
        with self._reading:
            return replay.load_conversation(self.store, conversation_or_trace_id)

    def conversation_at(
        self, conversation_or_trace_id: str
    ) -> tuple[Conversation, tuple[int, int]]:
        with self._reading:
            return replay.load_conversation_at(self.store, conversation_or_trace_id)

    def version(self) -> tuple[int, int]:
        if self._missing():
            return (0, 0)
        with self._reading:
            return replay.store_version(self.store)

    def span(self, trace_id: str, span_id: str) -> SpanRecord:
        with self._reading:
            return replay.span_record(self.store, trace_id, span_id)

    def spans(
        self, trace_ids: Sequence[str], started_from: dt.datetime, started_to: dt.datetime
    ) -> dict[tuple[str, str], SpanRecord]:
        with self._reading:
            return replay.span_records(self.store, trace_ids, started_from, started_to)

    def diff(self, left_id: str, right_id: str) -> RunDiff:
        with self._reading:
            return diff_runs(self.store, left_id, right_id)

    def costs(self, conversation_ids: Sequence[str]) -> dict[str, Cost]:
        if self._missing() or not conversation_ids:
            return {}
        with self._reading:
            return conversation_costs(self.store, conversation_ids)

    def run_timings(self, trace_id: str) -> tuple[SpanTiming, ...]:
        with self._reading:
            return run_timings(self.store, trace_id)

    def agent_order(self, needed: Sequence[str] = ()) -> tuple[str, ...]:
        # It scans every span (about 0.1 s for a million): read once a session, and again
        # only for an agent that was not recorded yet. New agents only ever come last.
        known = self._agent_order
        if known is None or not set(needed) <= set(known):
            if self._missing():
                return ()
            with self._reading:
                known = self._agent_order = agents_in_order(self.store)
        return known

    def known_agent_order(self) -> tuple[str, ...] | None:
        return self._agent_order


def graph_upto(conversation: Conversation, step_index: int | None) -> AgentGraph:
    """Agents and the transfers between them up to and including ``step_index`` (1-based)."""
    return replay.agent_graph(conversation, upto_step=step_index)


def describe_failure(error: Exception) -> str:
    """A store problem as the user should read it; anything else named as a bug."""
    if isinstance(error, StoreError):
        return str(error)
    return f"{type(error).__name__}: {error} (this is a bug in baton; please report it)"


def short_path(path: Path) -> str:
    """``path`` as short as it stays unambiguous: relative to the working directory when
    under it, else with ``~`` for the home directory."""
    for base, prefix in ((Path.cwd(), ""), (Path.home(), "~/")):
        try:
            return prefix + str(path.relative_to(base))
        except ValueError:
            continue
    return str(path)


def _words(typed: str) -> list[str]:
    """Words, quotes grouping (``says:"two words"``); an unclosed quote reads as text."""
    try:
        return shlex.split(typed)
    except ValueError:
        return typed.split()
