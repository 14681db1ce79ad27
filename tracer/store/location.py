"""Where a store lives: ``--store``, else ``BATON_STORE``, else a per-user data directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

STORE_ENV = "BATON_STORE"
STORE_FILENAME = "baton.duckdb"


def default_data_dir() -> Path:
    """The per-user data directory, following each platform's convention."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "baton"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "baton"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "baton"


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store file to use: the explicit path, else ``$BATON_STORE``, else the default."""
    if path is not None and str(path) != "":
        return Path(path).expanduser()
    env = os.environ.get(STORE_ENV)
    if env:
        return Path(env).expanduser()
    return default_data_dir() / STORE_FILENAME
