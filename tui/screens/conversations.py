"""The conversations screen: every conversation in the store, filtered as you type.

Pages of rows are fetched in a worker as the cursor (or the scroll) nears the end of what
is loaded, so a store of a million spans shows its first rows at once and never holds
more rows than were scrolled past. A new filter, sort or store version reloads from the
top; a generation counter drops pages that arrive for an older request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Static
from textual.worker import get_current_worker

from replay.cost import Cost
from tui.gc_hold import GCHold
from tui.humanize import plural
from tui.messages import OpenConversation
from tui.screens.diff import DiffScreen
from tui.source import ListQuery, Page, describe_failure
from tui.widgets.conversation_table import COLUMNS, SORTABLE, ConversationTable
from tui.widgets.empty_store import EmptyStore

if TYPE_CHECKING:
    from tui.app import BatonApp

PAGE_SIZE = 100  # the first page: small, so it shows at once
#: The list's first read, unfiltered: ``baton tui`` starts it with the app (tui.read_ahead).
FIRST_READ = (ListQuery(), 0, PAGE_SIZE)
MORE_SIZE = 500  # later pages: a page costs about the same to query whatever its size
PREFETCH_ROWS = 250  # fetch the next page when the cursor or view gets this close to the end
MAX_RELOAD_ROWS = 1000  # a live reload re-reads at most this many rows
FILTER_DELAY = 0.15  # seconds of quiet typing before the filter runs


class ConversationsScreen(Screen[None]):
    """The list of conversations; Enter replays the one under the cursor."""

    HELP_TITLE = "Conversations"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Replay", show=False),
        # The table moves itself when it has focus; these also work from the filter box.
        Binding("up", "move(-1)", "Previous conversation", key_display="↑", show=False),
        Binding("down", "move(1)", "Next conversation", key_display="↓", show=False),
        Binding("pageup", "move(-20)", "Page up", show=False),
        Binding("pagedown", "move(20)", "Page down", show=False),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("l", "toggle_word('is:loop')", "Only loops"),
        Binding("e", "toggle_word('is:error')", "Only errors"),
        Binding("s", "next_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse the order", show=False),
        Binding("r", "reload", "Reload", show=False),
        Binding("m", "mark", "Mark for a diff", show=False),
        Binding("D", "diff", "Diff with the marked one"),
        Binding("escape", "leave_filter", "Back to the list", show=False),
        Binding("home", "top", "First conversation", show=False),
        Binding("end", "bottom", "Last conversation loaded", show=False),
    ]

    query_state: reactive[ListQuery] = reactive(ListQuery, init=False)

    def __init__(self, *, deferred: bool = False) -> None:
        super().__init__()
        #: ``deferred``: under a conversation opened straight away, the list's widgets are
        #: made when it is first shown (their styling would hold the replay's first turn).
        self.composed = not deferred
        self.total: int | None = None
        self.error: str | None = None
        self._generation = 0
        self._loading_more = False
        self._filter_timer: Timer | None = None
        self._loaded_version: tuple[int, int] | None = None
        self._gc_hold = GCHold(self)

    @property
    def baton(self) -> BatonApp:
        return cast("BatonApp", self.app)

    def compose(self) -> ComposeResult:
        if not self.composed:
            return
        yield Static(id="list-title", classes="title-bar")
        yield Input(
            placeholder=(
                "filter: text · agent:NAME · is:loop · is:error · is:ok · since:1h · "
                "model:NAME · took:>10s · tokens:>2k · says:TEXT  (/ to type, Esc leaves)"
            ),
            id="filter",
        )
        with ContentSwitcher(initial="table", id="list-body"):
            yield ConversationTable(id="table")
            yield EmptyStore(self.baton.source.location, id="empty")
        yield Static(id="list-status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        if self.composed:
            self._set_up()

    def _set_up(self) -> None:
        table = self.query_one(ConversationTable)
        table.set_columns(self.query_state.sort, self.query_state.descending)
        table.focus()
        self._show_title()
        self.query_one("#list-status", Static).update(Content.styled("Loading…", "$text-muted"))
        self.watch(self.app, "store_version", self._store_changed, init=False)
        self.watch(table, "scroll_y", self._scrolled, init=False)

    async def on_screen_resume(self) -> None:
        # Load when first shown, not when mounted: opened straight on a conversation, the
        # app should not spend its first second on a list nobody sees yet.
        if self.app.screen is not self:
            return
        await self.ensure_composed()
        if self._generation == 0:
            self.reload()

    async def ensure_composed(self) -> None:
        """Make the widgets of a deferred list (the replay calls this before it goes, so
        that no key reaches the list before its widgets are there)."""
        if not self.composed:
            self.composed = True
            await self.recompose()
            self._set_up()

    def _show_title(self) -> None:
        count = "" if self.total is None else f" · {plural(self.total, 'conversation')}"
        self.query_one("#list-title", Static).update(
            Content.assemble(("baton", "bold $accent"), f"  {self.baton.source.location}{count}")
        )

    # -- loading -------------------------------------------------------------------------

    def reload(self, *, keep_rows: bool = False) -> None:
        """Fetch the first page again (after a filter, sort or store change)."""
        self._generation += 1
        self._loading_more = False
        table = self.query_one(ConversationTable)
        limit = PAGE_SIZE
        if keep_rows:
            limit = min(max(PAGE_SIZE, table.loaded), MAX_RELOAD_ROWS)
        self.fetch(self._generation, self.query_state, 0, limit)

    @work(thread=True, exclusive=True, group="list", exit_on_error=False)
    def fetch(self, generation: int, query: ListQuery, offset: int, limit: int) -> None:
        """Read one page off the UI thread and hand it to ``_page_arrived``."""
        ahead = self.baton.list_ahead
        read = ahead.take((query, offset, limit)) if ahead is not None else None
        try:
            # The first page comes with the store's version, read in the same snapshot.
            if read is not None:  # started with the app
                page = read.result()
            else:
                page = self.baton.source.page(query, offset, limit)
        except Exception as exc:  # reported on screen: the UI outlives a failed read
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._fetch_failed, generation, describe_failure(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._page_arrived, generation, offset, page)

    def _page_arrived(
        self,
        generation: int,
        offset: int,
        page: Page,
    ) -> None:
        if generation != self._generation:
            return  # an answer to a request that was superseded
        self.error = None
        self._loading_more = False
        if offset == 0 and page.version is not None:
            self._loaded_version = page.version
        self.total = page.total
        table = self.query_one(ConversationTable)
        if offset == 0:
            table.replace_rows(page.rows)
        else:
            table.append_rows(page.rows)
        empty = page.total == 0 and not self.query_state.filtered
        self.query_one(ContentSwitcher).current = "empty" if empty else "table"
        self._show_title()
        self._show_status()
        self._maybe_fetch_more()
        if page.rows:  # priced after the rows are shown: the first rows wait for nothing
            self.fetch_costs(generation, [row.conversation_id for row in page.rows])
            if offset == 0 and self.baton.source.known_agent_order() is None:
                self.fetch_agent_order()

    @work(thread=True, exclusive=True, group="agent-order", exit_on_error=False)
    def fetch_agent_order(self) -> None:
        """Read the store's agent order (the replay's colours) while the list is looked
        at, so that opening a conversation does not wait for it."""
        try:
            self.baton.source.agent_order()
        except Exception:
            return

    @work(thread=True, group="costs", exit_on_error=False)
    def fetch_costs(self, generation: int, conversation_ids: list[str]) -> None:
        """Price a page's conversations off the UI thread; the Cost column fills in."""
        try:
            costs = self.baton.source.costs(conversation_ids)
        except Exception:
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._costs_arrived, generation, costs)

    def _costs_arrived(self, generation: int, costs: dict[str, Cost]) -> None:
        if generation == self._generation:
            self.query_one(ConversationTable).set_costs(costs)

    def _fetch_failed(self, generation: int, message: str) -> None:
        if generation != self._generation:
            return
        self._loading_more = False
        self.error = message
        self.query_one("#list-status", Static).update(
            Content.assemble(("✗ ", "bold $error"), message, ("   r retries", "$text-muted"))
        )

    def _show_status(self) -> None:
        table = self.query_one(ConversationTable)
        query = self.query_state
        sort = next(c.label for c in SORTABLE if c.sort == query.sort)
        order = (
            "newest first"
            if query.sort == "started_at" and query.descending
            else (f"by {sort.lower()} {'▼' if query.descending else '▲'}")
        )
        if self.total == 0 and query.filtered:
            text = Content.styled("No conversation matches the filter.", "$warning")
        else:
            text = Content(
                f"{table.loaded:,} of {plural(self.total or 0, 'conversation')} · {order}"
            )
        if query.problems:  # words that were left out of the filter, and why
            text = Content.assemble(
                text, "\n", Content.styled("✗ " + "; ".join(query.problems), "$warning")
            )
        self.query_one("#list-status", Static).update(text)

    def _store_changed(self, version: tuple[int, int] | None) -> None:
        if self._generation and version is not None and version != self._loaded_version:
            self.reload(keep_rows=True)

    def _maybe_fetch_more(self) -> None:
        table = self.query_one(ConversationTable)
        loaded = table.loaded
        if self._loading_more or self.total is None or loaded >= self.total:
            return
        bottom_in_view = table.scroll_y + table.scrollable_content_region.height
        if max(table.cursor_row, bottom_in_view) >= loaded - PREFETCH_ROWS:
            self._loading_more = True
            self.fetch(self._generation, self.query_state, loaded, MORE_SIZE)

    def _scrolled(self) -> None:
        self._gc_hold.busy()
        self._maybe_fetch_more()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self._gc_hold.busy()
        self._maybe_fetch_more()

    def on_screen_suspend(self) -> None:
        self._gc_hold.release()

    def on_unmount(self) -> None:
        self._gc_hold.release()

    # -- filter and sort -----------------------------------------------------------------

    @on(Input.Changed, "#filter")
    def _filter_typed(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self._apply_filter)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self._apply_filter()
        self.query_one(ConversationTable).focus()

    def _apply_filter(self) -> None:
        typed = self.query_one("#filter", Input).value
        current = self.query_state
        query = ListQuery.parse(typed, sort=current.sort, descending=current.descending)
        if query != current:
            self.query_state = query

    def watch_query_state(self, old: ListQuery, new: ListQuery) -> None:
        if (old.sort, old.descending) != (new.sort, new.descending):
            self.query_one(ConversationTable).set_columns(new.sort, new.descending)
        self.reload()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(ConversationTable).focus()

    def action_toggle_word(self, word: str) -> None:
        box = self.query_one("#filter", Input)
        words = box.value.split()
        box.value = (
            " ".join(w for w in words if w != word) if word in words else " ".join([*words, word])
        )
        self._apply_filter()

    def action_next_sort(self) -> None:
        keys = [column.sort for column in SORTABLE]
        following = keys[(keys.index(self.query_state.sort) + 1) % len(keys)]
        assert following is not None
        self.query_state = self.query_state.sorted_by(
            following, descending=following != "conversation_id"
        )

    def action_reverse_sort(self) -> None:
        query = self.query_state
        self.query_state = query.sorted_by(query.sort, not query.descending)

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        column = COLUMNS[event.column_index]
        if column.sort is None:
            return
        query = self.query_state
        descending = (
            not query.descending if column.sort == query.sort else column.sort != "conversation_id"
        )
        self.query_state = query.sorted_by(column.sort, descending)

    def action_move(self, rows: int) -> None:
        table = self.query_one(ConversationTable)
        if table.row_count:
            table.move_cursor(row=max(0, min(table.cursor_row + rows, table.row_count - 1)))

    def action_top(self) -> None:
        self.query_one(ConversationTable).move_cursor(row=0)

    def action_bottom(self) -> None:
        table = self.query_one(ConversationTable)
        table.move_cursor(row=max(0, table.row_count - 1))

    def action_mark(self) -> None:
        table = self.query_one(ConversationTable)
        current = table.current_id
        if current is not None:
            table.set_marked(None if table.marked == current else current)

    def action_diff(self) -> None:
        table = self.query_one(ConversationTable)
        current, marked = table.current_id, table.marked
        if current is None:
            return
        if marked is None or marked == current:
            self.notify(
                "Mark a conversation with m, then press D on another to compare them.",
                timeout=4,
            )
            return
        self.app.push_screen(DiffScreen(marked, current))

    def action_reload(self) -> None:
        self.reload(keep_rows=True)

    # -- opening -------------------------------------------------------------------------

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.post_message(OpenConversation(event.row_key.value))

    def action_open(self) -> None:
        conversation_id = self.query_one(ConversationTable).current_id
        if conversation_id is not None:
            self.post_message(OpenConversation(conversation_id))
