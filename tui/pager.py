"""Leaving the TUI for a moment: a text in ``$PAGER``, a transcript written to a file."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

from textual.app import App, SuspendNotSupported

DEFAULT_PAGER = "less -R"


def show_in_pager(app: App[object], text: str) -> str | None:
    """Suspend ``app`` and page ``text`` with ``$PAGER`` (else ``less``), fed on stdin
    as git does; the problem, when it could not be shown."""
    command = shlex.split(os.environ.get("PAGER") or DEFAULT_PAGER)
    if not command:
        return "$PAGER is empty."
    try:
        with app.suspend():
            subprocess.run(command, input=text.encode("utf-8"), check=False)
    except SuspendNotSupported:
        return "This terminal cannot hand the screen to a pager; press o for full screen."
    except OSError as exc:
        return f"Cannot run the pager {command[0]!r}: {exc.strerror or exc}"
    return None


def transcript_path(conversation_id: str, folder: Path | None = None) -> Path:
    """``baton-<id>.md`` in ``folder`` (the working directory), the id made safe as a
    file name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", conversation_id).strip("._") or "conversation"
    return (folder or Path.cwd()) / f"baton-{safe[:80]}.md"
