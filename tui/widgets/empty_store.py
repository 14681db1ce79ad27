"""What an empty store shows: how to record a first run into it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


def first_run_help(location: str) -> Content:
    code = (
        "    import tracer\n"
        f'    tracer.setup("{location}")\n'
        "    # ... run your agents: baton's runner, the OpenAI Agents SDK,\n"
        "    # or any app instrumented with OpenTelemetry ...\n"
        "    tracer.shutdown()\n"
    )
    return Content.assemble(
        ("No conversations in ", "bold"),
        (location, "bold $accent"),
        (" yet.\n\n", "bold"),
        "Record a first run into this store:\n\n",
        (code, "$text-success"),
        "\nor open another store with ",
        ("baton tui --store PATH", "bold"),
        ".\n\n",
        (
            "This screen follows the store: conversations appear here as they are recorded.",
            "$text-muted",
        ),
    )


class EmptyStore(Static):
    """Shown instead of the list while the store holds no conversation."""

    DEFAULT_CSS = """
    EmptyStore { padding: 1 2; height: auto; }
    """

    def __init__(self, location: str, *, id: str | None = None) -> None:
        super().__init__(first_run_help(location), id=id)
