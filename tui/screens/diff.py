"""``D`` on the list: two runs side by side, turn by turn, as ``baton diff`` compares them:
``≠`` where their paths differ (agent, tool calls and arguments, handoffs), ``≈`` where
only an answer's wording does, and where the paths first part."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from replay.diff import DiffRow, RunDiff
from replay.paths import PathTurn
from tui.source import describe_failure
from tui.widgets.panel import ScrollPanel

if TYPE_CHECKING:
    from tui.app import BatonApp

DIFFERS = "bold #e0505a"
REWORDED = "bold #e5a03a"


class DiffScreen(ModalScreen[None]):
    """``left_id`` and ``right_id`` (conversation or trace ids) compared; Esc closes."""

    HELP_TITLE = "Diff"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", key_display="esc"),
    ]

    def __init__(self, left_id: str, right_id: str) -> None:
        super().__init__()
        self.left_id = left_id
        self.right_id = right_id
        self.result: RunDiff | None = None
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        with ScrollPanel(id="diff-panel") as panel:
            panel.border_title = Text(f"diff · {self.left_id} ⇄ {self.right_id}")
            panel.border_subtitle = "esc closes"
            yield Static(Text("Comparing…", style="dim"), id="diff")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ScrollPanel).focus()
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def load(self) -> None:
        source = cast("BatonApp", self.app).source
        try:
            result = source.diff(self.left_id, self.right_id)
        except Exception as exc:  # shown in the panel: the UI outlives a failed read
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self._failed, describe_failure(exc))
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, result)

    def _failed(self, message: str) -> None:
        self.error = message
        self.query_one("#diff", Static).update(Text(f"✗ {message}", style="bold red"))

    def _show(self, result: RunDiff) -> None:
        self.result = result
        self.query_one("#diff", Static).update(diff_renderable(result))


def diff_renderable(result: RunDiff) -> Group:
    """The verdict, then a table of turns: left, a mark, right."""
    divergence = result.divergence
    if divergence is None:
        verdict = Text(f"Same path ({len(result.rows)} turns).", style="bold green")
    else:
        verdict = Text.assemble(
            (f"The paths part at turn {divergence.turn} ({divergence.aspect}):", DIFFERS),
            f"\n  left:  {divergence.expected}\n  right: {divergence.got}",
        )
    table = Table(expand=True, box=None, padding=(0, 1), show_edge=False)
    table.add_column("turn", justify="right", style="dim", no_wrap=True)
    table.add_column(Text(f"left · {_label(result.left.conversation_id)}"), ratio=1)
    table.add_column("", width=1, no_wrap=True)
    table.add_column(Text(f"right · {_label(result.right.conversation_id)}"), ratio=1)
    for row in result.rows:
        table.add_row(str(row.turn), _side(row.left), _mark(row), _side(row.right))
    return Group(verdict, Text(""), table)


def _mark(row: DiffRow) -> Text:
    if row.differences:
        return Text("≠", DIFFERS)
    if row.output_differs:
        return Text("≈", REWORDED)
    return Text(" ")


def _side(turn: PathTurn | None) -> Text:
    if turn is None:
        return Text("(run ended)", style="dim")
    indent = "  " * turn.depth
    text = Text(f"{indent}{'↳ ' if turn.depth else ''}{turn.agent or '?'}", style="bold")
    failed = set(turn.failed_tools)
    for name, arguments in turn.tool_calls:
        text.append(f"\n{indent}  ⚙ {name}{' ✗' if name in failed else ''}")
        if arguments:
            text.append(f"\n{indent}    {arguments}", style="dim")
    if turn.handoff:
        text.append(f"\n{indent}  → {turn.handoff}")
    if turn.output:
        text.append(f"\n{indent}  “{' '.join(turn.output.split())}”", style="italic")
    return text


def _label(conversation_id: str) -> str:
    return conversation_id if len(conversation_id) <= 40 else conversation_id[:39] + "…"
