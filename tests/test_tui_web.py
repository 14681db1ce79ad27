"""``baton tui --web`` (issue #15): the same app served on 127.0.0.1, driven over the page's
websocket exactly as the browser page drives it (keys in as ``["stdin", ...]``, the
terminal's output back): the page loads, the app opens a conversation, steps, and shows
the lane view. A real ``baton tui --web`` process and real app processes behind it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from tui_helpers import WAIT_SECONDS
from tui_sample import LOOPING

from tracer.store import Store

pytest.importorskip("textual_serve")
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(sample_store: Store) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "tui",
            "--web",
            "--port",
            str(port),
            "--store",
            str(sample_store.path),
            LOOPING,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "TZ": "UTC"},
    )
    yield f"http://127.0.0.1:{port}", process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def page_html(url: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS * 3
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url) as response:
                    assert response.status == 200
                    return await response.text()
            except aiohttp.ClientConnectorError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)


async def test_the_browser_page_drives_the_app(
    served: tuple[str, subprocess.Popen[bytes]],
) -> None:
    url, _ = served
    html = await page_html(url)
    assert f'data-session-websocket-url="{url.replace("http", "ws")}/ws"' in html
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url.replace("http", "ws") + "/ws?width=120&height=40") as ws,
    ):
        seen = bytearray()

        async def until(text: str) -> None:
            deadline = time.monotonic() + WAIT_SECONDS * 3
            while text.encode() not in seen:
                remaining = deadline - time.monotonic()
                assert remaining > 0, f"gave up waiting for {text!r} in the page's terminal"
                message = await ws.receive(timeout=remaining)
                if message.type == aiohttp.WSMsgType.BINARY:
                    seen.extend(message.data)
                elif message.type == aiohttp.WSMsgType.TEXT:
                    seen.extend(message.data.encode())
                else:
                    raise AssertionError(f"the websocket closed: {message}")

        await until("Turn 1 of")
        assert LOOPING.encode() in seen
        seen.clear()
        await ws.send_str(json.dumps(["stdin", "\x1b[C"]))  # →, as the page sends it
        await until("Turn 2 of")
        seen.clear()
        await ws.send_str(json.dumps(["stdin", "v"]))  # the lane view
        await until("Lanes")
        await until("Billing")
        await ws.send_str(json.dumps(["stdin", "q"]))


CHROMIUM = Path("/usr/bin/chromium")


def test_in_a_headless_chromium(served: tuple[str, subprocess.Popen[bytes]]) -> None:
    """The real page in Debian's Chromium, driven by Playwright (installed by .ci/run):
    it connects its websocket, takes keys typed into the page, and receives the app's
    screens. What the terminal draws goes to a canvas, so the frames the page receives
    are what is read."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    url, _ = served
    asyncio.run(page_html(url))  # the server is up
    received = bytearray()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})

            def on_socket(ws: object) -> None:
                def frame(payload: object) -> None:
                    received.extend(
                        payload if isinstance(payload, bytes) else str(payload).encode()
                    )

                ws.on("framereceived", frame)  # type: ignore[attr-defined]

            page.on("websocket", on_socket)
            page.goto(url)

            def until(text: str) -> None:
                deadline = time.monotonic() + WAIT_SECONDS * 3
                while text.encode() not in received:
                    assert time.monotonic() < deadline, f"the page never showed {text!r}"
                    page.wait_for_timeout(100)

            until("Turn 1 of")
            page.locator("#terminal, .xterm, body").first.click()
            received.clear()
            page.keyboard.press("ArrowRight")
            until("Turn 2 of")
            received.clear()
            page.keyboard.press("v")
            until("Lanes")
        finally:
            browser.close()
