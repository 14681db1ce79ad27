"""The conversation list: a ``DataTable`` with one row per conversation summary.

The table only displays what it is given, page by page; the screen fetches the pages.
Rows are keyed by conversation id, so the cursor can be put back on a conversation after
a reload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from replay.cost import Cost
from replay.model import ConversationSummary
from tui.humanize import dollars, duration


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    sort: str | None  # the replay sort key, None when the column cannot sort
    width: int | None
    justify: str = "left"


COLUMNS = (
    Column("marks", "", None, 2),
    Column("started", "Started", "started_at", 11),
    Column("took", "Took", "duration_ms", 6, "right"),
    Column("turns", "Turn", "n_turns", 5, "right"),
    Column("handoffs", "Hand", "n_handoffs", 5, "right"),
    Column("tools", "Tool", "n_tool_calls", 5, "right"),
    Column("cost", "Cost", None, 7, "right"),
    Column("agents", "Agents", None, None),
    Column("id", "Conversation", "conversation_id", None),
)
SORTABLE = tuple(column for column in COLUMNS if column.sort)
FIXED_WIDTH = sum(column.width or 0 for column in COLUMNS)
MIN_AGENTS_WIDTH = 10
MIN_ID_WIDTH = 10  # ids longer than their column are cut in the middle (middle_cut)

CHUNK_ROWS = 100  # rows added to the table per screen refresh

LOOP_STYLE = "bold #e5a03a"
ERROR_STYLE = "bold #e0505a"


def flexible_widths(width: int, longest_id: int, padding: int = 1) -> tuple[int, int]:
    """How wide the agents and id columns can be in a table ``width`` cells wide: the id
    gets what it needs up to about half of the room, the agents the rest."""
    room = width - FIXED_WIDTH - 2 * padding * len(COLUMNS) - 1  # 1: the scrollbar
    id_width = max(MIN_ID_WIDTH, min(longest_id, room // 2))
    return max(MIN_AGENTS_WIDTH, room - id_width), id_width


class ConversationTable(DataTable[Text]):
    """Conversations, newest first unless sorted otherwise."""

    # Home and End go to the first and last row (DataTable scrolls sideways with them).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First conversation", show=False),
        Binding("end", "scroll_bottom", "Last conversation loaded", show=False),
    ]

    DEFAULT_CSS = """
    ConversationTable { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            id=id, cursor_type="row", zebra_stripes=True, cursor_foreground_priority="renderable"
        )
        self.rows_shown: list[ConversationSummary] = []
        #: Each conversation's cost, as the pages bring them.
        self.costs: dict[str, Cost] = {}
        #: The conversation marked (m) to be compared with another (D).
        self.marked: str | None = None
        self._pending: list[ConversationSummary] = []  # fetched, not added yet
        self._known: set[str] = set()
        self._keep: str | None = None  # the conversation to put the cursor back on
        self._scheduled = False
        self._sort: tuple[str, bool] = ("started_at", True)
        self._widths: tuple[int, int] = (0, 0)

    @property
    def ids(self) -> list[str]:
        return [row.conversation_id for row in self.rows_shown]

    def set_columns(self, sort: str, descending: bool) -> None:
        """(Re)build the header, the sort column marked with ▼ or ▲, keeping the rows."""
        self._sort = (sort, descending)
        self._rebuild()

    def on_resize(self) -> None:
        if self._fit() != self._widths:
            self._rebuild()

    def _fit(self) -> tuple[int, int]:
        longest = max((len(row.conversation_id) for row in self.rows_shown), default=0)
        return flexible_widths(self.size.width or 80, max(longest, len("Conversation")))

    def _rebuild(self) -> None:
        rows = [*self.rows_shown, *self._pending]
        self._widths = self._fit()
        agents_width, id_width = self._widths
        sort, descending = self._sort
        self.clear(columns=True)
        for column in COLUMNS:
            label = column.label
            if column.sort == sort:
                label = f"{label}{'▼' if descending else '▲'}"
            elif column.sort is not None:
                label = f"{label}↕"  # sortable: s cycles to it, a click sorts by it
            width = {"agents": agents_width, "id": id_width}.get(column.key, column.width)
            self.add_column(Text(label, justify=column.justify), key=column.key, width=width)  # type: ignore[arg-type]
        self.replace_rows(rows)

    def replace_rows(self, rows: Sequence[ConversationSummary]) -> None:
        """Show ``rows`` instead of what was there; the cursor stays on the same conversation
        when it is still listed."""
        self._keep = self.current_id
        self.clear()
        self.rows_shown = []
        self._pending = []
        self._known.clear()
        self.append_rows(rows)

    def append_rows(self, rows: Sequence[ConversationSummary]) -> int:
        """Add a page; rows already listed (a live store shifts pages) are skipped. Rows go
        in ``CHUNK_ROWS`` per screen refresh, so a big page never holds up the UI."""
        fresh = [row for row in rows if row.conversation_id not in self._known]
        self._known.update(row.conversation_id for row in fresh)
        self._pending.extend(fresh)
        self._add_pending()
        return len(fresh)

    @property
    def loaded(self) -> int:
        """Rows fetched so far, shown or about to be."""
        return len(self.rows_shown) + len(self._pending)

    def _add_pending(self) -> None:
        self._scheduled = False
        chunk, self._pending = self._pending[:CHUNK_ROWS], self._pending[CHUNK_ROWS:]
        for row in chunk:
            self.rows_shown.append(row)
            cells = summary_cells(row, self.costs.get(row.conversation_id), self._widths[1])
            if row.conversation_id == self.marked:
                cells[0] = _with_diff_mark(cells[0])
            self.add_row(*cells, key=row.conversation_id)
            if row.conversation_id == self._keep:
                self.move_cursor(row=len(self.rows_shown) - 1, animate=False)
                self._keep = None
        if chunk and self._fit() != self._widths:
            self._rebuild()
        elif self._pending and not self._scheduled:
            self._scheduled = True
            self.call_after_refresh(self._add_pending)

    def set_costs(self, costs: dict[str, Cost]) -> None:
        """Fill in the Cost cells of rows priced since they were added."""
        self.costs.update(costs)
        shown = set(self.ids)
        for conversation_id, cost in costs.items():
            if conversation_id in shown:
                self.update_cell(conversation_id, "cost", _cost_cell(cost))

    def set_marked(self, conversation_id: str | None) -> None:
        """Mark ``conversation_id`` (◆ in the first column) for a diff; None unmarks."""
        before, self.marked = self.marked, conversation_id
        for changed in {before, conversation_id} - {None}:
            assert changed is not None
            if changed in self._known and changed in self.ids:
                row = self.rows_shown[self.ids.index(changed)]
                cell = summary_cells(row, self.costs.get(changed), self._widths[1])[0]
                if changed == self.marked:
                    cell = _with_diff_mark(cell)
                self.update_cell(changed, "marks", cell)

    @property
    def current_id(self) -> str | None:
        if 0 <= self.cursor_row < len(self.rows_shown):
            return self.rows_shown[self.cursor_row].conversation_id
        return None


def summary_cells(
    row: ConversationSummary, cost: Cost | None = None, id_width: int = 0
) -> list[Text]:
    marks = Text()
    marks.append("⟲" if row.has_loop else " ", LOOP_STYLE)
    marks.append("✗" if row.has_error else " ", ERROR_STYLE)
    started = row.started_at.astimezone().strftime("%m-%d %H:%M") if row.started_at else "—"
    return [
        marks,
        Text(started),
        Text(duration(row.duration_ms), justify="right"),
        Text(f"{row.n_turns:,}", justify="right"),
        Text(f"{row.n_handoffs:,}", justify="right"),
        Text(f"{row.n_tool_calls:,}", justify="right"),
        _cost_cell(cost),
        Text(" › ".join(row.agents) or "—", no_wrap=True, overflow="ellipsis"),
        Text(middle_cut(row.conversation_id, id_width), no_wrap=True),
    ]


def _cost_cell(cost: Cost | None) -> Text:
    """``$0.012``; ``?`` when a model has no known price (never a guess); ``$0.01+?`` when
    some turns do."""
    if cost is None or cost.priced == 0:
        return Text("?" if cost is not None and cost.unpriced else "—", "dim", justify="right")
    amount = dollars(cost.usd)
    return Text(f"{amount}+?" if cost.unpriced else amount, justify="right")


def middle_cut(text: str, width: int) -> str:
    """``text`` in ``width`` cells, cut in the middle when too long: ids that differ only
    at the end (``run-2026-03-14-0001``, ``…-0002``) stay told apart."""
    if width <= 0 or len(text) <= width:
        return text
    if width < 5:
        return text[: width - 1] + "…"
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + text[-tail:]


def _with_diff_mark(marks: Text) -> Text:
    return Text("◆", "bold #4e9de6") + marks[1:]
