"""Copy and open (issue #15): c copies the current turn, the focused tool call or the span
details' JSON to the clipboard by OSC 52; o opens it full screen, p in $PAGER; M saves
the conversation's Markdown transcript. The pager and OSC 52 are checked on a real
``baton tui`` process in a pseudo-terminal."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from tui_helpers import WAIT_SECONDS, make_app, shown_text, wait_for
from tui_sample import LOOPING

from replay import load_conversation
from replay.transcript import conversation_markdown, step_markdown
from tracer.store import Store
from tui.app import BatonApp
from tui.screens.replay import ReplayScreen
from tui.screens.text_view import TextScreen
from tui.selection import span_json, tool_call_text
from tui.widgets.message_blocks import ToolCallBlock
from tui.widgets.span_details import SpanDetails

pytestmark = pytest.mark.usefixtures("utc")
ROOT = Path(__file__).resolve().parent.parent


async def opened(pilot: Pilot[None], app: BatonApp) -> ReplayScreen:
    def ready() -> bool:
        screen = app.screen
        return (
            isinstance(screen, ReplayScreen)
            and screen.step is not None
            and screen.query_one(SpanDetails).settled
        )

    await wait_for(pilot, ready, "the conversation")
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


async def test_c_copies_the_turn_the_tool_call_or_the_span(sample_store: Store) -> None:
    conversation = load_conversation(sample_store, LOOPING)
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("e")  # turn 6: tool calls, one failing
        step = conversation.steps[5]
        assert screen.index == 6
        await pilot.press("c")
        assert app.clipboard == step_markdown(step, conversation.steps[4])
        assert "refund_charge" in app.clipboard

        block = screen.query(ToolCallBlock).first()
        block.focus()
        await pilot.press("c")
        assert app.clipboard == tool_call_text(block.call)
        assert block.call.arguments is not None
        arguments = json.loads(block.call.arguments)
        assert json.dumps(arguments, indent=2) in app.clipboard

        await pilot.press("d")
        details = screen.query_one(SpanDetails)
        await wait_for(pilot, lambda: details.record is not None, "the span's attributes")
        await pilot.press("c")
        assert details.record is not None
        assert app.clipboard == span_json(details.record)
        copied = json.loads(app.clipboard)
        assert copied["attributes"] == details.record.attributes
        assert copied["span_id"] == block.call.span_id


async def test_o_opens_it_full_screen(sample_store: Store) -> None:
    conversation = load_conversation(sample_store, LOOPING)
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        screen = await opened(pilot, app)
        await pilot.press("o")
        full = app.screen
        assert isinstance(full, TextScreen)
        assert full.text == step_markdown(conversation.steps[0], None)
        first_line = full.text.splitlines()[0]
        assert first_line in shown_text(full.query_one("#text-body"))
        await pilot.press("pagedown", "c")
        assert app.clipboard == full.text
        await pilot.press("escape")
        assert app.screen is screen


async def test_m_saves_the_transcript(
    sample_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        await opened(pilot, app)
        await pilot.press("M")
    written = tmp_path / f"baton-{LOOPING}.md"
    assert written.read_text() == conversation_markdown(load_conversation(sample_store, LOOPING))


async def test_p_without_a_terminal_to_lend_says_so(sample_store: Store) -> None:
    app = make_app(sample_store, LOOPING)
    async with app.run_test(size=(110, 36)) as pilot:
        await opened(pilot, app)
        await pilot.press("p")  # the test driver cannot suspend: no pager, a message
        assert any(
            "cannot hand the screen to a pager" in str(n.message) for n in app._notifications
        )


class Terminal:
    """``baton tui`` in a pseudo-terminal: keys in, everything it writes collected."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.fd, child = pty.openpty()
        # The terminal's size, as a terminal emulator sets it: 110 columns, 36 rows.
        fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 110, 0, 0))
        os.set_blocking(self.fd, False)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui", *args],
            stdin=child,
            stdout=child,
            stderr=child,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        os.close(child)
        self.output = b""

    def read_until(self, done: Callable[[], bool], what: str) -> None:
        """Read what the app writes (it blocks when nobody does) until ``done()``."""
        deadline = time.monotonic() + WAIT_SECONDS * 3
        while not done():
            if time.monotonic() > deadline:
                raise AssertionError(f"gave up waiting for {what}: {self.output[-400:]!r}")
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    self.output += os.read(self.fd, 65536)
                except OSError:  # the app exited and closed its side
                    return

    def shows(self, wanted: bytes) -> Callable[[], bool]:
        return lambda: wanted in self.output

    def press(self, keys: str) -> None:
        os.write(self.fd, keys.encode())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        os.close(self.fd)


def test_a_real_terminal_gets_osc_52_and_the_pager(sample_store: Store, tmp_path: Path) -> None:
    conversation = load_conversation(sample_store, LOOPING)
    turn = step_markdown(conversation.steps[0], None)
    paged = tmp_path / "paged.txt"
    pager = tmp_path / "pager.py"
    pager.write_text(f"import sys\nopen({str(paged)!r}, 'wb').write(sys.stdin.buffer.read())\n")
    env = {
        **os.environ,
        "PAGER": f"{sys.executable} {pager}",
        "TERM": "xterm-256color",
        "TZ": "UTC",
    }
    terminal = Terminal(["tui", "--store", str(sample_store.path), LOOPING], env)
    try:
        terminal.read_until(terminal.shows(b"Turn 1 of"), "the replay on screen")
        terminal.press("c")
        osc = b"\x1b]52;c;" + base64.b64encode(turn.encode()) + b"\x07"
        terminal.read_until(terminal.shows(osc), "the turn in an OSC 52 sequence")
        terminal.press("p")
        size = len(turn.encode())
        terminal.read_until(lambda: paged.exists() and paged.stat().st_size >= size, "the pager")
        assert paged.read_text() == turn
        # Back from the pager, the app draws itself again and takes keys again.
        terminal.output = b""
        terminal.read_until(terminal.shows(b"Turn 1 of"), "the replay back on screen")
        terminal.press("\x1b[C")  # → : the next turn
        terminal.read_until(terminal.shows(b"Turn 2 of"), "the next turn after the pager")
        terminal.press("q")
        terminal.read_until(lambda: terminal.process.poll() is not None, "baton tui to quit")
        assert terminal.process.wait(timeout=WAIT_SECONDS) == 0
    finally:
        terminal.close()
