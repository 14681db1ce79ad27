"""``BatonApp``: browse the conversations of a store and replay them turn by turn.

The app owns the data source and the live-follow poll; screens own what they show. Data
flows down as attributes (``store_version``), requests flow up as messages
(``OpenConversation``). Every read of the store runs in a thread worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import partial
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.events import Resize
from textual.filter import LineFilter
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import get_current_worker

from tracer.store import StoreError
from tui.commands import commands
from tui.control_pictures import ShowControlCharacters
from tui.messages import OpenConversation
from tui.read_ahead import ConversationRead, ReadAhead
from tui.screens.conversations import FIRST_READ, ConversationsScreen
from tui.screens.help import HelpScreen
from tui.screens.replay import ReplayScreen
from tui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen
from tui.source import ConversationSource, Page

THEMES = {"dark": "textual-dark", "light": "textual-light"}


_SHOW_CONTROLS = ShowControlCharacters()


class BatonApp(App[None]):
    """The terminal UI over one ``ConversationSource``."""

    TITLE = "baton"
    CSS_PATH = "baton.tcss"
    # ctrl+p: every action of the screen, its panels and the app, by name (tui.commands).
    ENABLE_COMMAND_PALETTE = True
    # Below 80 columns the side panels give way to the messages.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-normal")]  # noqa: RUF012
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Keys", key_display="?"),
        Binding("ctrl+t", "toggle_theme", "Light/dark", show=False),
    ]

    #: A marker of what the store holds; it changes when spans arrive (live follow).
    store_version: reactive[tuple[int, int] | None] = reactive(None)

    def __init__(
        self,
        source: ConversationSource,
        open_id: str | None = None,
        *,
        theme: str = "dark",
        follow_interval: float | None = 1.0,
    ) -> None:
        super().__init__()
        self.source = source
        self.open_id = open_id
        self.follow_interval = follow_interval
        self.theme = THEMES[theme]
        self._screens_ready = False
        self.read_ahead: ReadAhead[ConversationRead] | None = None
        self.list_ahead: ReadAhead[Page] | None = None

    def get_line_filters(self) -> Sequence[LineFilter]:
        # Textual's own filters (NO_COLOR's monochrome, dimming), then control characters
        # in recorded text drawn as symbols, never sent to the terminal.
        return [*super().get_line_filters(), _SHOW_CONTROLS]

    def on_load(self) -> None:
        # Before the screens are made: the first read overlaps Textual's start.
        if self.open_id:
            self.read_ahead = ReadAhead(
                self.open_id, partial(self.source.conversation_at, self.open_id)
            )
        else:
            self.list_ahead = ReadAhead(FIRST_READ, partial(self.source.page, *FIRST_READ))

    def on_mount(self) -> None:
        self.push_screen(ConversationsScreen(deferred=bool(self.open_id)))
        if self.open_id:
            self.push_screen(ReplayScreen(self.open_id))
        self._screens_ready = True
        self._check_size(self.size.width, self.size.height)
        if self.follow_interval:
            self.set_interval(self.follow_interval, self.poll_store)

    # -- live follow ---------------------------------------------------------------------

    def poll_store(self) -> None:
        """Ask, off the UI thread, whether the store changed since the last look."""
        self._poll_version()

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def _poll_version(self) -> None:
        try:
            version = self.source.version()
        except StoreError:
            return  # busy or unreadable for now: the screens report errors on their loads
        if not get_current_worker().is_cancelled:
            self.call_from_thread(self._set_version, version)

    def _set_version(self, version: tuple[int, int]) -> None:
        self.store_version = version

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        if isinstance(screen, TooSmallScreen):
            return
        for command in commands(screen, self):
            binding = command.binding
            keys = binding.key_display or self.get_key_display(binding)
            yield SystemCommand(
                binding.description,
                f"{command.section} · {keys}",
                partial(command.target.run_action, binding.action),
            )
        titles = {command.binding.description for command in commands(screen, self)}
        for system in super().get_system_commands(screen):
            if system.title not in titles:  # Textual's own: themes, screenshot, ...
                yield system

    # -- navigation ----------------------------------------------------------------------

    def on_open_conversation(self, message: OpenConversation) -> None:
        self.push_screen(ReplayScreen(message.conversation_id))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen | TooSmallScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_toggle_theme(self) -> None:
        self.theme = THEMES["light"] if self.theme == THEMES["dark"] else THEMES["dark"]

    # -- terminal size -------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        if self._screens_ready:
            self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        too_small = width < MIN_WIDTH or height < MIN_HEIGHT
        showing = isinstance(self.screen, TooSmallScreen)
        if too_small and not showing:
            self.push_screen(TooSmallScreen())
        elif not too_small and showing:
            self.pop_screen()
