"""Compare two of Textual's SVG screenshots (the snapshot tests') cell by cell: each
cell's background fill, and its character with its CSS. Two screenshots of the same
screen can differ as text only in how cells are grouped into elements; this tells
whether a snapshot that changed shows anything different.

    python bench/svg_cells.py OLD.svg NEW.svg
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

CELL_WIDTH = 12.2  # Rich's SVG export: pixels per cell
Cell = tuple[int, float]  # column, line's y

_RECT = re.compile(
    r'<rect fill="([^"]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="24.65"'
)
_TEXT = re.compile(
    r'<text class="(terminal-r\d+)" x="([\d.]+)" y="([\d.]+)" textLength="([\d.]+)"'
    r' clip-path="[^"]+">([^<]*)</text>'
)


def cells(path: Path) -> tuple[dict[Cell, str], dict[Cell, tuple[str, str]]]:
    """(background of each cell, (character, css) of each cell with a character)."""
    svg = re.sub(r"terminal-\d+-", "terminal-", path.read_text(encoding="utf-8"))
    css = dict(re.findall(r"\.(terminal-r\d+) \{ ([^}]*) \}", svg))
    background: dict[Cell, str] = {}
    for fill, x, y, width in _RECT.findall(svg):
        for i in range(round(float(width) / CELL_WIDTH)):
            background[(round(float(x) / CELL_WIDTH) + i, round(float(y), 1))] = fill
    text: dict[Cell, tuple[str, str]] = {}
    for rule, x, y, length, content in _TEXT.findall(svg):
        content = html.unescape(content).replace("\xa0", " ")
        width = round(float(length) / CELL_WIDTH)
        chars = list(content) if len(content) == width else [content]  # wide: kept whole
        for i, char in enumerate(chars):
            if char != " ":
                text[(round(float(x) / CELL_WIDTH) + i, round(float(y), 1))] = (char, css[rule])
    return background, text


def main() -> None:
    old, new = cells(Path(sys.argv[1])), cells(Path(sys.argv[2]))
    differ = 0
    for name, before, after in (("background", old[0], new[0]), ("text", old[1], new[1])):
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        differ += len(changed)
        print(f"{name}: {len(set(before) | set(after))} cells, {len(changed)} differ")
        for key in changed[:5]:
            print(f"  {key}: {before.get(key)} -> {after.get(key)}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
