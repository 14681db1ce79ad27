"""Recorded text never drives the terminal: what ``baton`` commands print goes through
``TerminalSafe``, which shows control characters (ESC, BEL, carriage return, the C1
controls, bidirectional overrides) as escapes such as ``\\x1b`` instead of sending them.

JSON output stays exact: JSON escapes the C0 controls itself, and the C1 controls and
bidirectional marks, which it leaves raw, are escaped the way JSON spells them
(``\u009b``), so the document decodes to the same values. The Textual app is not wrapped:
it draws with escapes of its own, and shows user text through ``Text``, never markup.
"""

from __future__ import annotations

import re
import sys
from typing import IO, Any

# C0 controls but tab and newline, DEL, C1 controls, and the Unicode marks that reorder
# or hide text on screen (bidi embeddings, overrides and isolates).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` with every character that could drive a terminal shown as an escape."""
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    # C0 controls and DEL as \x1b; the rest as \u009b, which is also how JSON spells them,
    # so a JSON document (which escapes C0 itself, but not these) stays valid and exact.
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


class TerminalSafe:
    """A text stream that escapes control characters on their way to ``stream``."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(escape_controls(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding, buffer…
        return getattr(self._stream, name)


def guard_standard_streams() -> None:
    """From now on, ``sys.stdout`` and ``sys.stderr`` escape control characters."""
    if not isinstance(sys.stdout, TerminalSafe):
        sys.stdout = TerminalSafe(sys.stdout)
    if not isinstance(sys.stderr, TerminalSafe):
        sys.stderr = TerminalSafe(sys.stderr)
