"""The layers stay apart and start cheap: the import contracts hold, nothing in tracer or
replay loads Textual, ``baton sql`` loads only what it needs, and the public names work
from ``tracer`` and from the module paths the README shows."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import tracer
from sample_traces import trace_files

ROOT = Path(__file__).resolve().parent.parent

#: What a ``baton sql`` process must not load: the runner and the SDKs it talks to, the
#: receiver's web server, the Textual app, and the parts of tracer that only write.
NOT_FOR_SQL = (
    "openai",
    "pydantic",
    "uvicorn",
    "starlette",
    "textual",
    "agents",
    "opentelemetry",
    "pyarrow",
    "replay",
    "tui.app",
    "tracer.runner",
    "tracer.capture.spanrows",
    "tracer.otlp.receiver",
)


def loaded_modules(*argv: str, cwd: Path = ROOT) -> set[str]:
    """Every module a Python process running ``argv`` imported (``-X importtime``)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, cwd=cwd
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = set()
    for line in result.stderr.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if line.startswith("import time:") and len(fields) == 3 and fields[0].strip().isdigit():
            modules.add(fields[2].strip())
    return modules


def loaded_any_of(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


def test_the_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports)], capture_output=True, text=True, cwd=ROOT)
    # On failure the output names the broken contract and the import chain that breaks it.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_tracer_and_replay_do_not_load_textual() -> None:
    code = (
        "import importlib, pkgutil, sys, tracer, replay\n"
        "for package in (tracer, replay):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_baton_sql_loads_only_the_store(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    subprocess.run(  # create it first, so the measured run is the plain read a user makes
        [sys.executable, "-m", "tui", "import", "--store", str(store), *map(str, trace_files())],
        check=True,
        capture_output=True,
    )
    modules = loaded_modules("-m", "tui", "sql", "--store", str(store), "select 1")
    assert "tracer.store.store" in modules and "duckdb" in modules
    assert loaded_any_of(modules, NOT_FOR_SQL) == []


def test_baton_help_loads_no_store_and_no_server() -> None:
    modules = loaded_modules("-m", "tui", "--help")
    assert loaded_any_of(modules, ("duckdb", *NOT_FOR_SQL)) == []


def test_import_tracer_store_does_not_load_the_runner_or_the_receiver() -> None:
    modules = loaded_modules("-c", "import tracer.store")
    assert loaded_any_of(modules, ("tracer.runner", "tracer.otlp", "tracer.capture")) == []
    assert loaded_any_of(modules, ("openai", "pydantic", "opentelemetry")) == []


def test_import_tracer_loads_none_of_its_parts_until_asked() -> None:
    modules = loaded_modules("-c", "import tracer")
    assert loaded_any_of(modules, ("tracer.store", "tracer.capture", "tracer.runner")) == []
    assert loaded_any_of(modules, ("duckdb", "pydantic", "openai")) == []


def test_every_public_name_of_tracer_resolves_to_its_home() -> None:
    homes = tracer._HOMES
    assert sorted(tracer._MODULE_OF) == sorted(tracer.__all__)
    for module, names in homes.items():
        for name in names:
            assert getattr(tracer, name) is getattr(importlib.import_module(module), name)
    assert set(tracer.__all__) <= set(dir(tracer))


def test_the_readme_module_paths_are_the_same_objects_as_their_homes() -> None:
    import tracer.agents_sdk
    import tracer.capture.agents_sdk
    import tracer.chat_server
    import tracer.models
    import tracer.runner.chat_server
    import tracer.runner.models

    for public, home in (
        (tracer.agents_sdk, tracer.capture.agents_sdk),
        (tracer.chat_server, tracer.runner.chat_server),
        (tracer.models, tracer.runner.models),
    ):
        assert public.__all__ == home.__all__
        for name in home.__all__:
            assert getattr(public, name) is getattr(home, name)
