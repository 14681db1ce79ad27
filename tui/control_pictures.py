"""Recorded text never drives the terminal from the TUI either: every line Textual draws
passes ``ShowControlCharacters``, which shows control characters as the Unicode "control
pictures" (ESC as ␛, BEL as ␇) and the C1 controls and bidirectional overrides as �,
instead of letting them reach the terminal (where ESC sequences set the title, move the
cursor or clear the screen).

It works on drawn segments, after layout, so no widget can forget it; Rich counts a
control character as no cell wide, so a line that held some is cut back to its width.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}


def _picture(match: re.Match[str]) -> str:
    return _PICTURES.get(ord(match.group(0)), "\ufffd")


class ShowControlCharacters(LineFilter):
    """A line filter that draws control characters as visible symbols."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        if not any(not segment.control and _UNSAFE.search(segment.text) for segment in segments):
            return segments
        width = Segment.get_line_length(segments)
        shown = [
            segment
            if segment.control or _UNSAFE.search(segment.text) is None
            else Segment(_UNSAFE.sub(_picture, segment.text), segment.style)
            for segment in segments
        ]
        return Segment.adjust_line_length(shown, width)
