"""Regenerate docs/replay.svg, the replay screen the README shows:

    python docs/screenshot.py

It builds the TUI tests' fixed sample store in a scratch folder, opens the looping
support conversation at its first error, 110×34, and saves what the terminal shows. The
same data and time zone every time, so the picture only changes when the UI does.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tui_sample import LOOPING, build_sample_store  # noqa: E402

from tracer.store import Store  # noqa: E402
from tui.app import BatonApp  # noqa: E402
from tui.screens.replay import ReplayScreen  # noqa: E402
from tui.source import StoreSource  # noqa: E402

OUT = ROOT / "docs" / "replay.svg"
SIZE = (110, 34)


async def screenshot(store: Store) -> str:
    app = BatonApp(StoreSource(store), LOOPING, follow_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        while not (isinstance(app.screen, ReplayScreen) and app.screen.conversation):
            await pilot.pause(0.01)
        await pilot.press("e")  # the turn where a tool failed: calls, an agent as tool
        await pilot.pause()
        svg = app.export_screenshot(title="baton tui")
    # Rich gives every export a random id; a fixed one keeps the file stable.
    return re.sub(r"\bterminal-\d+-", "terminal-baton-", svg)


def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)  # the title shows the store's path relative to here
        store = build_sample_store(Store(Path(scratch) / "runs.duckdb"))
        OUT.write_text(asyncio.run(screenshot(store)), encoding="utf-8")
        os.chdir(ROOT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
