"""Loading DuckDB's ``ducklake`` and ``postgres`` extensions for a lake store.

In order: an extension DuckDB already has installed (``INSTALL ducklake`` on a machine
that reaches DuckDB's extension repository); the one shipped as a wheel by
``pip install 'baton[team]'`` (``duckdb-extension-ducklake``, ``duckdb-extension-postgres``,
each built for one DuckDB version); else DuckDB installs it itself. The postgres wheel
names its file ``postgres.duckdb_extension`` while DuckDB looks for the entry point of
``postgres_scanner``, so it is copied once under that name into a cache folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import duckdb

from tracer.store.location import default_data_dir

#: extension as DuckDB names it -> (wheel package, file name inside the wheel)
_WHEELS = {
    "ducklake": ("duckdb_extension_ducklake", "ducklake"),
    "postgres_scanner": ("duckdb_extension_postgres", "postgres"),
}
EXTENSION_CACHE_ENV = "BATON_DUCKDB_EXTENSIONS"
#: The DuckDB version the team extra pins (the extension wheels' version).
TEAM_DUCKDB = "1.5.5"


class ExtensionMissing(RuntimeError):
    """An extension the lake needs cannot be loaded; the message says how to get it."""


def load(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Load extension ``name`` (``ducklake`` or ``postgres_scanner``) into ``con``."""
    try:
        con.execute(f"LOAD {name}")
        return
    except duckdb.Error:
        pass
    shipped = _wheel_file(name)
    if shipped is not None:
        con.execute(f"LOAD '{_escape(str(shipped))}'")
        return
    try:
        con.execute(f"INSTALL {name}")
        con.execute(f"LOAD {name}")
    except duckdb.Error as exc:
        raise ExtensionMissing(
            f"a DuckLake store needs DuckDB's {name} extension, which could not be loaded "
            f"({str(exc).splitlines()[0]}); install baton's team extra "
            f"(pip install 'baton[team]', DuckDB {TEAM_DUCKDB}), or use a DuckDB that "
            "can download it (INSTALL ducklake; INSTALL postgres)"
        ) from exc


def _wheel_file(name: str) -> Path | None:
    package, filename = _WHEELS[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    shipped = root / "extensions" / f"v{duckdb.__version__}" / f"{filename}.duckdb_extension"
    if not shipped.is_file():
        return None  # built for another DuckDB version than this one
    if filename == name:
        return shipped
    cache = (
        Path(os.environ.get(EXTENSION_CACHE_ENV) or default_data_dir() / "duckdb-extensions")
        / f"v{duckdb.__version__}"
    )
    target = cache / f"{name}.duckdb_extension"
    if not target.is_file() or target.stat().st_size != shipped.stat().st_size:
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(shipped, partial)
        os.replace(partial, target)  # atomic: concurrent processes see a whole file
    return target


def _escape(text: str) -> str:
    return text.replace("'", "''")
