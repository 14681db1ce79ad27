"""The replay screen: one conversation, turn by turn.

The screen holds the state (which turn, playing or not, the search term) and hands each
widget what it shows; widgets report clicks and focus back as messages. The conversation
loads in a worker and reloads when the store changes (live follow).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, LoadingIndicator, Static
from textual.worker import get_current_worker

from replay.cost import Cost, agent_costs, conversation_cost
from replay.model import Conversation, Step, ToolCall, TraceLoop
from replay.spans import SpanRecord
from replay.transcript import conversation_markdown
from tui.gc_hold import GCHold, LongLived
from tui.humanize import rate as rate_text
from tui.lanes import lane_agents, lane_columns
from tui.pager import show_in_pager, transcript_path
from tui.palette import AgentColors
from tui.screens.conversations import ConversationsScreen
from tui.screens.goto import GotoScreen
from tui.screens.search import SearchScreen
from tui.screens.text_view import TextScreen
from tui.screens.waterfall import WaterfallScreen
from tui.scrub import KINDS, jump_targets, next_target
from tui.search import find_step, matching_steps, step_texts
from tui.selection import span_json, tool_call_text, turn_text
from tui.source import describe_failure, graph_upto
from tui.span_cache import SpanRecords, Stretch, stretch_around
from tui.widgets.agent_graph import AgentGraphView
from tui.widgets.lanes import AgentLanes
from tui.widgets.message_blocks import ToolCallBlock, ToolCallSelected
from tui.widgets.messages import MessageView
from tui.widgets.panel import ScrollPanel
from tui.widgets.replay_bars import (
    conversation_title,
    failure_text,
    failure_title,
    turn_banner,
)
from tui.widgets.span_details import SpanDetails
from tui.widgets.timeline import Timeline, TurnMark, lazy_turn_marks

if TYPE_CHECKING:
    from tui.app import BatonApp

#: Seconds per turn while playing, slowest first.
SPEEDS = (4.0, 2.0, 1.0, 0.5, 0.25, 0.1)
DEFAULT_SPEED = 2  # one turn a second
#: Seconds a load runs before the messages panel shows a loading indicator.
LOADING_INDICATOR_AFTER = 0.3


class ReplayScreen(Screen[None]):
    """Replays the conversation (or trace) ``conversation_id``."""

    HELP_TITLE = "Replay"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "step(-1)", "Previous turn", key_display="←", show=False),
        Binding("right", "step(1)", "Next turn", key_display="→", show=False),
        Binding("home", "first", "First turn", show=False),
        Binding("end", "last", "Last turn", show=False),
        Binding("space", "play", "Play/pause"),
        Binding("plus,right_square_bracket", "speed(1)", "Faster", show=False),
        Binding("minus,left_square_bracket", "speed(-1)", "Slower", show=False),
        Binding("colon", "goto", "Go to turn", key_display=":", show=False),
        Binding("u", "jump('user', 1)", "Next user message", show=False),
        Binding("U", "jump('user', -1)", "Previous user message", show=False),
        Binding("r", "jump('run', 1)", "Next run", show=False),
        Binding("R", "jump('run', -1)", "Previous run", show=False),
        Binding("h", "jump('handoff', 1)", "Next handoff", show=False),
        Binding("H", "jump('handoff', -1)", "Previous handoff", show=False),
        Binding("w", "waterfall", "Waterfall of the run"),
        Binding("c", "copy", "Copy (turn, tool call or span)", show=False),
        Binding("o", "open_full", "Open full screen", show=False),
        Binding("p", "open_pager", "Open in $PAGER", show=False),
        Binding("M", "export_markdown", "Save the transcript as Markdown", show=False),
        Binding("l", "next_loop", "Next loop"),
        Binding("e", "next_error", "Next error"),
        Binding("slash", "search", "Search", key_display="/"),
        Binding("n", "find(1)", "Next match", show=False),
        Binding("N", "find(-1)", "Previous match", show=False),
        Binding("x", "toggle_folds", "Unfold/fold all", show=False),
        Binding("up", "scroll(-1)", "Scroll messages up", show=False),
        Binding("down", "scroll(1)", "Scroll messages down", show=False),
        Binding("pageup", "scroll(-10)", "Page messages up", show=False),
        Binding("pagedown", "scroll(10)", "Page messages down", show=False),
        Binding("tab", "app.focus_next", "Next panel, tool call or fold", show=False),
        Binding("shift+tab", "app.focus_previous", "Previous panel", show=False),
        Binding("v", "toggle_lanes", "Lanes/timeline"),
        Binding("t", "focus_panel('timeline')", "Focus the timeline (or lanes)", show=False),
        Binding("m", "focus_panel('messages')", "Focus the messages", show=False),
        Binding("g", "focus_panel('graph')", "Focus the agent graph", show=False),
        Binding("d", "focus_panel('details-box')", "Focus the span details", show=False),
        Binding("enter", "noop", "Open/close the focused fold", show=False),
        Binding("escape", "back", "Back to the list", key_display="esc", show=False),
    ]

    index: reactive[int] = reactive(0, init=False)  # Step.index shown; 0 before loading
    playing: reactive[bool] = reactive(False, init=False)
    speed: reactive[int] = reactive(DEFAULT_SPEED, init=False)
    lanes_shown: reactive[bool] = reactive(False, init=False)  # lanes instead of timeline

    def __init__(self, conversation_id: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.conversation: Conversation | None = None
        self.agent_colors = AgentColors()
        self.marks: Sequence[TurnMark] = ()
        self.search_term: str | None = None
        self.cost: Cost | None = None  # the conversation's, once priced
        #: Whether the agents' colours follow the store's order (else: while it is read).
        self.colours_final = False
        self.search_matches: tuple[int, ...] = ()  # the turns that mention search_term
        self._last_typed: str | None = None
        self.error: str | None = None
        self._texts: list[str] | None = None
        self._timer: Timer | None = None
        self._loaded_version: tuple[int, int] | None = None
        self.span_records = SpanRecords()  # read a stretch of turns at a time
        self._lanes_drawn_for: Conversation | None = None  # the lanes' columns are of it
        self.long_lived = LongLived()  # the conversation, kept out of the collector's walks
        self._gc_hold = GCHold(self)  # no collection in the middle of stepping

    def compose(self) -> ComposeResult:
        yield Static(id="replay-title", classes="title-bar")
        with Vertical(id="timeline-box") as box:
            box.border_title = "Timeline"
            yield Timeline(id="timeline")
            lanes = AgentLanes(id="lanes")
            lanes.display = False
            yield lanes
        with Horizontal(id="replay-body"):
            messages = MessageView(id="messages")
            messages.border_title = "Turn"
            yield messages
            with Vertical(id="side"):
                graph = AgentGraphView(id="graph")
                graph.border_title = "Agents"
                yield graph
                with ScrollPanel(id="details-box") as details_box:
                    details_box.border_title = "Span"
                    yield SpanDetails(id="details")
        yield Static(id="banner")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#replay-title", Static).update(f"Loading {self.conversation_id}…")
        # The spinner only for a load that takes a while: it redraws itself many times a
        # second, which slows a quick load it competes with for the interpreter.
        self.set_timer(LOADING_INDICATOR_AFTER, self._show_loading)
        self.watch(self.app, "store_version", self._store_changed, init=False)
        self.load()

    def _show_loading(self) -> None:
        if self.conversation is None and self.error is None:
            self.query_one(MessageView).mount(LoadingIndicator())

    def on_unmount(self) -> None:
        self._gc_hold.release()
        self.long_lived.thaw()

    def on_screen_suspend(self) -> None:
        self._gc_hold.release()

    @property
    def baton(self) -> BatonApp:
        return cast("BatonApp", self.app)

    # -- loading -------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="conversation", exit_on_error=False)
    def load(self) -> None:
        """Read the conversation off the UI thread; the newest request wins."""
        source = self.baton.source
        try:
            # The version is read first, so a change during the load shows later.
            ahead = self.baton.read_ahead
            read = ahead.take(self.conversation_id) if ahead is not None else None
            with self.long_lived.building():
                if read is not None:  # started with the app (``baton tui ID``)
                    conversation, version = read.result()
                else:
                    conversation, version = source.conversation_at(self.conversation_id)
            # The colours' order when already read (the list reads it once its first page
            # is shown); else the turn shows at once and its colours follow (recolour).
            order = source.known_agent_order()
            if order is not None and not set(conversation.agents) <= set(order):
                order = None
        except Exception as exc:  # reported on screen: the UI outlives a failed read
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._show_failure, describe_failure(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(
                self._show_conversation, conversation, version, order or (), order is not None
            )
        if order is None and not get_current_worker().is_cancelled:
            try:
                order = source.agent_order(conversation.agents)
            except Exception:
                return
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._recolour, conversation, order)

    def _recolour(self, conversation: Conversation, order: tuple[str, ...]) -> None:
        """The agents' colours in the store's order, once it has been read."""
        if conversation is not self.conversation:
            return
        colors = AgentColors(conversation.agents, order)
        self.agent_colors = colors
        self.colours_final = True
        timeline, graph = self.query_one(Timeline), self.query_one(AgentGraphView)
        details, lanes = self.query_one(SpanDetails), self.query_one(AgentLanes)
        timeline.agent_colors = graph.agent_colors = colors
        details.agent_colors = lanes.agent_colors = colors
        for widget in (timeline, graph, lanes):
            widget.refresh()
        # The messages keep their folds and scroll: their names take the new colours on
        # the next step (rebuilding them now would undo what the reader opened).
        details.refresh_cost()

    def _store_changed(self, version: tuple[int, int] | None) -> None:
        if version is not None and version != self._loaded_version:
            self.load()

    def _show_failure(self, message: str) -> None:
        self.error = message
        if self.conversation is not None:
            self.notify(message, title="Could not reload", severity="warning", markup=False)
            return
        self.query_one("#replay-title", Static).update(failure_title(self.conversation_id))
        self.add_class("-failed")
        self.query_one(MessageView).show_nothing(failure_text(message))
        self.query_one("#banner", Static).update("")

    def _show_conversation(
        self,
        conversation: Conversation,
        version: tuple[int, int] | None,
        order: tuple[str, ...] = (),
        colours_final: bool = True,
    ) -> None:
        following = self.conversation is not None and self.index == len(self.conversation.steps)
        first_load = self.conversation is None
        self.conversation = conversation
        self.error = None
        self.remove_class("-failed")
        self._loaded_version = version
        self._texts = None
        self.span_records.clear()  # the store changed: read them again as they are shown
        self.agent_colors = AgentColors(conversation.agents, order)
        self.colours_final = colours_final
        self.marks = lazy_turn_marks(conversation)  # made as the timeline shows them
        timeline = self.query_one(Timeline)
        timeline.agent_colors = self.query_one(AgentGraphView).agent_colors = self.agent_colors
        self.query_one(SpanDetails).agent_colors = self.agent_colors
        timeline.marks = self.marks
        self.query_one(AgentLanes).agent_colors = self.agent_colors
        self._lanes_drawn_for = None
        if self.lanes_shown:
            self._fill_lanes()
        self.query_one(AgentGraphView).layout_graph = graph_upto(conversation, None)
        self.cost = None
        self.query_one(SpanDetails).agent_costs = {}
        # After the turn is drawn: pricing 10,000 turns would hold the first paint back.
        self.call_after_refresh(self.price, conversation)
        self._show_title()
        count = len(conversation.steps)
        if count == 0:
            self.query_one(MessageView).show_nothing(
                "No model calls recorded in this conversation yet."
            )
            return
        # Start at the first turn; at the last turn, follow new turns as they arrive.
        if first_load:
            target = 1
        elif following:
            target = count
        else:
            target = min(self.index, count)
        if target == self.index:
            self._show_step()
        else:
            self.index = target

    def _fill_lanes(self) -> None:
        """The lanes' columns, made when the lanes are first shown for this conversation
        (a 10,000-turn conversation's take a while, and the timeline is the default)."""
        conversation = self.conversation
        if conversation is None or self._lanes_drawn_for is conversation:
            return
        self._lanes_drawn_for = conversation
        columns = lane_columns(
            conversation,
            looping={i + 1 for i, mark in enumerate(self.marks) if mark.in_loop},
            failing={i + 1 for i, mark in enumerate(self.marks) if mark.failed},
        )
        lanes = self.query_one(AgentLanes)
        lanes.agents = lane_agents(conversation, columns)
        lanes.columns = tuple(columns)

    def _show_title(self) -> None:
        if self.conversation is not None:
            self.query_one("#replay-title", Static).update(
                conversation_title(self.conversation, self.cost), layout=False
            )

    # Named: Textual's default description is the repr of the arguments, and a
    # 10,000-turn conversation's repr takes 100 ms of the UI thread after the first paint.
    @work(thread=True, exclusive=True, group="price", exit_on_error=False, description="price")
    def price(self, conversation: Conversation) -> None:
        """Price every model call off the UI thread (10,000 turns take a moment). Pricing
        reads every step, so the steps not made yet (``replay.steps.Steps``) are made
        here, off the UI thread, and kept out of the collector's walks as the rest."""
        cost, by_agent = conversation_cost(conversation), agent_costs(conversation)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._priced, conversation, cost, by_agent)

    def _priced(self, conversation: Conversation, cost: Cost, by_agent: dict[str, Cost]) -> None:
        if conversation is not self.conversation:
            return
        self.long_lived.keep()  # the steps pricing made
        self.cost = cost
        self.query_one(SpanDetails).agent_costs = by_agent
        self._show_title()
        if self.step is not None:
            self.query_one(SpanDetails).refresh_cost()

    # -- showing a turn ------------------------------------------------------------------

    def watch_index(self) -> None:
        self._show_step()

    def _show_step(self) -> None:
        # Every panel's change in one frame, not one frame per panel.
        with self.app.batch_update():
            self._show_panels()

    def _show_panels(self) -> None:
        conversation = self.conversation
        if conversation is None or not 1 <= self.index <= len(conversation.steps):
            return
        step = conversation.steps[self.index - 1]
        previous = conversation.steps[self.index - 2] if self.index > 1 else None
        self.query_one(Timeline).current = self.index
        self.query_one(AgentLanes).current = self.index
        messages = self.query_one(MessageView)
        messages.show(step, previous, self.agent_colors, self.search_term)
        total = len(conversation.steps)
        run = (
            conversation.trace_ids.index(step.trace_id) + 1
            if step.trace_id in conversation.trace_ids
            else 1
        )
        runs = (
            f" · run {run} of {len(conversation.trace_ids)}"
            if len(conversation.trace_ids) > 1
            else ""
        )
        messages.border_title = f"Turn {self.index} of {total:,}{runs}"
        view = "Lanes" if self.lanes_shown else "Timeline"
        self.query_one("#timeline-box").border_title = f"{view} · turn {self.index} of {total:,}"
        graph = self.query_one(AgentGraphView)
        graph.counts = graph_upto(conversation, self.index)
        graph.active = step.agent
        self._show_details(step)
        self._show_banner(step)

    def _show_banner(self, step: Step) -> None:
        rate = 1 / SPEEDS[self.speed] if self.playing else None
        banner = turn_banner(
            step,
            self.loops_at(step.index),
            playing_rate=rate,
            search=self.search_term,
            matches=self.search_matches,
        )
        self.query_one("#banner", Static).update(banner, layout=False)  # one line high

    def loops_at(self, index: int) -> list[TraceLoop]:
        """The loops that turn ``index`` is part of."""
        if self.conversation is None:
            return []
        return [
            found
            for found in self.conversation.loops
            if found.first_step is not None
            and found.last_step is not None
            and found.first_step <= index <= found.last_step
        ]

    @property
    def step(self) -> Step | None:
        if self.conversation is None or not 1 <= self.index <= len(self.conversation.steps):
            return None
        return self.conversation.steps[self.index - 1]

    @on(Timeline.StepClicked)
    def _clicked(self, event: Timeline.StepClicked) -> None:
        self.index = event.index

    @on(ToolCallSelected)
    def _tool_call_selected(self, event: ToolCallSelected) -> None:
        if self.step is not None:
            self._show_details(event.call, self.step.trace_id)

    def _show_details(self, selected: Step | ToolCall, trace_id: str | None = None) -> None:
        """The span in the details panel: at once when its record was read with the turns
        around it, else once the stretch around the current turn has been read."""
        trace_id = trace_id or cast("Step", selected).trace_id
        record = self.span_records.get(trace_id, selected.span_id)
        self.query_one(SpanDetails).show(selected, record)
        if record is None and self.conversation is not None:
            self.read_span(
                trace_id, selected.span_id, stretch_around(self.conversation, self.index)
            )

    @work(thread=True, exclusive=True, group="span", exit_on_error=False)
    def read_span(self, trace_id: str, span_id: str, stretch: Stretch) -> None:
        """Read the stored records of the turns around the current one off the UI thread
        (and the selected span's on its own if it lies outside them)."""
        source = self.baton.source
        try:
            records = source.spans(stretch.trace_ids, stretch.started_from, stretch.started_to)
            if (trace_id, span_id) not in records:
                records[trace_id, span_id] = source.span(trace_id, span_id)
        except Exception as exc:  # the details keep what the conversation already said
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._span_unavailable, span_id, describe_failure(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show_span_records, records, records[trace_id, span_id])

    def _show_span_records(
        self, records: dict[tuple[str, str], SpanRecord], record: SpanRecord
    ) -> None:
        self.span_records.add(records)
        details = self.query_one(SpanDetails)
        if details.selected is not None and details.selected.span_id == record.span_id:
            details.show(details.selected, record)

    def _span_unavailable(self, span_id: str, problem: str) -> None:
        details = self.query_one(SpanDetails)
        if details.selected is not None and details.selected.span_id == span_id:
            details.show(details.selected, problem=f"unavailable: {problem}")

    # -- keys ----------------------------------------------------------------------------

    def _count(self) -> int:
        return len(self.conversation.steps) if self.conversation else 0

    def action_step(self, delta: int) -> None:
        if self._count():
            self._gc_hold.busy()
            self.index = max(1, min(self.index + delta, self._count()))

    def action_first(self) -> None:
        if self._count():
            self._gc_hold.busy()
            self.index = 1

    def action_last(self) -> None:
        if self._count():
            self._gc_hold.busy()
            self.index = self._count()

    def action_play(self) -> None:
        if not self._count():
            return
        if not self.playing and self.index >= self._count():
            self.index = 1  # play from the start when at the end
        self.playing = not self.playing

    def watch_playing(self, playing: bool) -> None:
        self._restart_timer()
        if self.step is not None:
            self._show_banner(self.step)

    def action_speed(self, delta: int) -> None:
        self.speed = max(0, min(self.speed + delta, len(SPEEDS) - 1))

    def watch_speed(self) -> None:
        self._restart_timer()
        rate = 1 / SPEEDS[self.speed]
        self.notify(rate_text(rate, "turn"), timeout=1.5)
        if self.step is not None:
            self._show_banner(self.step)

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.playing:
            self._timer = self.set_interval(SPEEDS[self.speed], self._tick)

    def _tick(self) -> None:
        if self.index < self._count():
            self.index += 1
        else:
            self.playing = False

    def selection(self) -> tuple[str, str] | None:
        """(title, text) of what copy and open take: the focused tool call, the span
        details when they have focus, else the current turn."""
        step = self.step
        if step is None or self.conversation is None:
            return None
        focused = self.focused
        chain = [focused, *focused.ancestors] if focused is not None else []
        details = self.query_one(SpanDetails)
        if any(getattr(node, "id", None) == "details-box" for node in chain):
            if details.record is not None:
                return f"span {details.record.name}", span_json(details.record)
            if isinstance(details.selected, ToolCall):
                return f"tool call {details.selected.name}", tool_call_text(details.selected)
        for node in chain:
            if isinstance(node, ToolCallBlock):
                return f"tool call {node.call.name}", tool_call_text(node.call)
        previous = self.conversation.steps[step.index - 2] if step.index > 1 else None
        return f"turn {step.index}", turn_text(step, previous)

    def action_copy(self) -> None:
        chosen = self.selection()
        if chosen is not None:
            title, text = chosen
            self.app.copy_to_clipboard(text)  # OSC 52: works over ssh, in tmux too
            self.notify(f"Copied {title} ({len(text):,} characters).", timeout=2, markup=False)

    def action_open_full(self) -> None:
        chosen = self.selection()
        if chosen is not None:
            self.app.push_screen(TextScreen(*chosen))

    def action_open_pager(self) -> None:
        chosen = self.selection()
        if chosen is None:
            return
        problem = show_in_pager(self.app, chosen[1])
        if problem is not None:
            self.notify(problem, severity="warning", timeout=4, markup=False)

    def action_export_markdown(self) -> None:
        if self.conversation is None:
            return
        path = transcript_path(self.conversation.conversation_id)
        try:
            path.write_text(conversation_markdown(self.conversation), encoding="utf-8")
        except OSError as exc:
            self.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error")
            return
        self.notify(f"Wrote the transcript to {path}", timeout=4, markup=False)

    def action_waterfall(self) -> None:
        step, conversation = self.step, self.conversation
        if step is None or conversation is None:
            return
        runs = conversation.trace_ids
        run = f"run {runs.index(step.trace_id) + 1} of {len(runs)} · " if len(runs) > 1 else ""
        title = f"Waterfall · {run}trace {step.trace_id} · turn {step.index} lit"
        self.app.push_screen(WaterfallScreen(step, title))

    def action_goto(self) -> None:
        if self._count():
            self.app.push_screen(GotoScreen(self._count()), self._go_to)

    def _go_to(self, turn: int | None) -> None:
        if turn is not None:
            self.index = turn

    def action_page(self, direction: int) -> None:
        """A timeline's width of turns back or forward."""
        view = self.query_one(AgentLanes) if self.lanes_shown else self.query_one(Timeline)
        self.action_step(direction * view.page_size())

    def action_jump(self, kind: str, direction: int) -> None:
        conversation = self.conversation
        if conversation is None:
            return
        what = KINDS[kind]
        target, wrapped = next_target(jump_targets(conversation, kind), self.index, direction)
        if target is None:
            self.notify(f"No other {what} in this conversation.", timeout=3)
            return
        if wrapped:
            self.notify(f"Back to the {'first' if direction > 0 else 'last'} {what}.", timeout=2)
        self.index = target

    def action_next_loop(self) -> None:
        loops = sorted(
            (
                found
                for found in (self.conversation.loops if self.conversation else ())
                if found.first_step is not None
            ),
            key=lambda found: found.first_step or 0,
        )
        if not loops:
            self.notify("No loops in this conversation.", timeout=3)
            return
        after = [found for found in loops if (found.first_step or 0) > self.index]
        target = after[0] if after else loops[0]
        if not after:
            self.notify("Back to the first loop.", timeout=2)
        self.index = target.first_step or 1

    def action_next_error(self) -> None:
        failing = [i + 1 for i, mark in enumerate(self.marks) if mark.failed]
        if not failing:
            self.notify("No errors in this conversation.", timeout=3)
            return
        after = [i for i in failing if i > self.index]
        if not after:
            self.notify("Back to the first error.", timeout=2)
        self.index = after[0] if after else failing[0]

    def action_search(self) -> None:
        if self.conversation is None:
            return
        self.app.push_screen(SearchScreen(self.search_term or self._last_typed), self._search_for)

    def _search_for(self, term: str | None) -> None:
        if term is None:
            return
        self._last_typed = term
        self.find(term, self.index, backwards=False)

    def action_find(self, direction: int) -> None:
        if self.search_term is None:
            self.action_search()
            return
        self.find(self.search_term, self.index, backwards=direction < 0)

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def find(self, term: str, current: int, *, backwards: bool) -> None:
        """Find the next turn mentioning ``term``, off the UI thread."""
        conversation = self.conversation
        if conversation is None:
            return
        texts = self._texts
        if texts is None:
            texts = step_texts(conversation.steps)
        found = find_step(texts, term, current, backwards=backwards)
        matches = matching_steps(texts, term)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._found, conversation, texts, term, found, matches)

    def _found(
        self,
        conversation: Conversation,
        texts: list[str],
        term: str,
        found: int | None,
        matches: tuple[int, ...],
    ) -> None:
        if conversation is not self.conversation:
            return
        self._texts = texts
        if found is None:
            # Forget the failed term: no stale highlights, and n does not look for it again.
            self.search_term = None
            self.search_matches = ()
            self._show_step()
            self.notify(f"No turn mentions “{term}”.", severity="warning", timeout=3, markup=False)
            return
        self.search_term = term
        self.search_matches = matches
        if found == self.index:
            self._show_step()  # the only match: show it highlighted
        else:
            self.index = found

    def action_toggle_folds(self) -> None:
        messages = self.query_one(MessageView)
        messages.set_folds(expanded=not messages.folds_expanded())

    def action_scroll(self, lines: int) -> None:
        messages = self.query_one(MessageView)
        messages.scroll_relative(y=lines, animate=False)

    def action_focus_panel(self, panel: str) -> None:
        if panel == "timeline" and self.lanes_shown:
            panel = "lanes"
        self.query_one(f"#{panel}").focus()

    def action_toggle_lanes(self) -> None:
        self.lanes_shown = not self.lanes_shown

    def watch_lanes_shown(self, shown: bool) -> None:
        timeline, lanes = self.query_one(Timeline), self.query_one(AgentLanes)
        had_focus = self.focused in (timeline, lanes)
        if shown:
            self._fill_lanes()
        timeline.display, lanes.display = not shown, shown
        self.set_class(shown, "-lanes")
        if had_focus:
            (lanes if shown else timeline).focus()
        if self.step is not None:
            self._show_step()

    def action_noop(self) -> None:
        """Enter toggles a focused fold; the binding is here to list it in the help."""

    async def action_back(self) -> None:
        self.playing = False
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else None
        if isinstance(below, ConversationsScreen):
            await below.ensure_composed()
        self.dismiss(None)
