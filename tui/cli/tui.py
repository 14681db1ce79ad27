"""``baton tui``: the terminal UI, in the terminal or (``--web``) in a browser."""

from __future__ import annotations

import shlex
import sys

import click

from tui.cli.options import fail, open_store, reports_errors, store_option

WEB_HOST = "127.0.0.1"  # loopback only: the page drives a process with the store's data


@click.command()
@store_option
@click.option(
    "--theme",
    type=click.Choice(["dark", "light"]),
    default="dark",
    show_default=True,
    help="Colours for dark or light terminals (ctrl+t switches while running).",
)
@click.option(
    "--web",
    is_flag=True,
    help="Serve the same app to a browser on 127.0.0.1 (needs pip install 'baton[web]').",
)
@click.option("--port", default=8000, show_default=True, help="--web: the port to listen on.")
@click.argument("conversation_or_trace_id", required=False)
@reports_errors
def tui(
    store_path: str | None,
    theme: str,
    web: bool,
    port: int,
    conversation_or_trace_id: str | None,
) -> None:
    """Browse the store's conversations and replay them turn by turn.

    \b
    With CONVERSATION_OR_TRACE_ID, opens that conversation straight away.
    Keys: arrows step, space plays, l next loop, e next error, / search, ? all keys, q quits.
    The list and an open conversation follow the store while runs are being recorded.
    With --web, each browser tab that opens http://127.0.0.1:PORT gets its own app.
    """
    store = open_store(store_path)
    if web:
        serve_web(str(store.path), theme, conversation_or_trace_id, port)
        return
    # Imported here so that other commands start without loading Textual.
    from tui.app import BatonApp
    from tui.source import StoreSource

    app = BatonApp(StoreSource(store), conversation_or_trace_id, theme=theme)
    app.run()


def serve_web(store: str, theme: str, conversation_id: str | None, port: int) -> None:
    """Serve ``baton tui`` (this store, theme and conversation) over HTTP and a websocket
    with textual-serve: the browser shows the terminal, a process per tab runs the app."""
    try:
        from textual_serve.server import Server
    except ModuleNotFoundError:
        fail("baton tui --web needs textual-serve: pip install 'baton[web]'")
        return
    command = [sys.executable, "-m", "tui", "tui", "--store", store, "--theme", theme]
    if conversation_id:
        command.append(conversation_id)
    Server(shlex.join(command), host=WEB_HOST, port=port, title="baton").serve()
