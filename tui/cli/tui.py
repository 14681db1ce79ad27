"""``baton tui``: the terminal UI."""

from __future__ import annotations

import click

from tui.cli.options import open_store, reports_errors, store_option


@click.command()
@store_option
@click.option(
    "--theme",
    type=click.Choice(["dark", "light"]),
    default="dark",
    show_default=True,
    help="Colours for dark or light terminals (ctrl+t switches while running).",
)
@click.argument("conversation_or_trace_id", required=False)
@reports_errors
def tui(store_path: str | None, theme: str, conversation_or_trace_id: str | None) -> None:
    """Browse the store's conversations and replay them turn by turn.

    \b
    With CONVERSATION_OR_TRACE_ID, opens that conversation straight away.
    Keys: arrows step, space plays, l next loop, e next error, / search, ? all keys, q quits.
    The list and an open conversation follow the store while runs are being recorded.
    """
    # Imported here so that other commands start without loading Textual.
    from tui.app import BatonApp
    from tui.source import StoreSource

    app = BatonApp(StoreSource(open_store(store_path)), conversation_or_trace_id, theme=theme)
    app.run()
