"""The team store (#17): a DuckLake with a real PostgreSQL catalog and a local directory as
its data path holds exactly what a local store holds, through every reader, while several
"machines" (processes with their own local segment folders) commit to it at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from lake_fixtures import Lake, Postgres, lake, postgres  # noqa: F401

from tracer.store import Store, StoreError
from tracer.store.lake import LakeStore
from tracer.store.rows import COLUMN_NAMES
from tracer.store.url import LakeUrlError, parse_lake_url

ABSORBER = str(Path(__file__).parent / "procs" / "lake_absorber.py")
TABLES = ("spans", "turns", "handoffs", "tool_calls", "loops", "conversations")


@pytest.fixture
def lake_env(lake: Lake, monkeypatch: pytest.MonkeyPatch) -> Lake:  # noqa: F811
    monkeypatch.setenv("BATON_LAKE_DATA", f"{lake.data}/")
    return lake


@pytest.fixture
def samples(tmp_path: Path) -> Iterator[Store]:
    from sample_traces import trace_files
    from tracer.capture.importing import import_files

    local = Store(tmp_path / "local.duckdb")
    problems: list[str] = []
    import_files(local, trace_files(), report=problems.append)
    assert problems == []
    yield local


def everything(store: Store) -> dict[str, list[tuple[object, ...]]]:
    return {name: store.query(f"SELECT * FROM {name} ORDER BY ALL").rows for name in TABLES}


def baton(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


# -- the URL ------------------------------------------------------------------------------


def test_lake_urls_are_spelled_as_ducklake_spells_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BATON_LAKE_DATA", raising=False)
    team = parse_lake_url(
        "ducklake:postgres:dbname=baton host=db.internal user=baton password=s3cret"
    )
    assert (team.catalog_kind, team.catalog, team.data_path) == (
        "postgres",
        "dbname=baton host=db.internal user=baton password=s3cret",
        None,
    )
    assert team.describe_catalog() == "PostgreSQL dbname=baton host=db.internal user=baton"
    one = parse_lake_url(f"ducklake:{tmp_path}/team.ducklake", data_path="s3://bucket/baton/")
    assert (one.catalog_kind, one.catalog, one.data_path) == (
        "duckdb",
        f"{tmp_path}/team.ducklake",
        "s3://bucket/baton/",
    )
    monkeypatch.setenv("BATON_LAKE_DATA", "/srv/lake/")
    assert parse_lake_url("ducklake:postgres:dbname=x").data_path == "/srv/lake/"
    for wrong in ("ducklake:postgres:", "ducklake:team.db", "ducklake:"):
        with pytest.raises(
            LakeUrlError, match=r"ducklake:postgres:<libpq connection string>|libpq"
        ):
            parse_lake_url(wrong)


def test_a_lake_url_wherever_a_store_path_goes_makes_a_lake_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert type(Store("ducklake:postgres:dbname=baton")) is LakeStore
    monkeypatch.setenv("BATON_STORE", f"ducklake:{tmp_path}/t.ducklake")
    assert type(Store()) is LakeStore
    assert type(Store(tmp_path / "local.duckdb")) is Store  # local stores are unchanged
    with pytest.raises(StoreError, match="spell a team store"):
        Store("ducklake:nonsense")


# -- everything reads the lake -------------------------------------------------------------


def test_the_lake_holds_what_a_local_store_holds_through_every_view(
    lake_env: Lake, samples: Store
) -> None:
    team = Store(lake_env.url)
    from sample_traces import trace_files
    from tracer.capture.importing import import_files

    problems: list[str] = []
    summary = import_files(team, trace_files(), report=problems.append)
    assert problems == []
    local = everything(samples)
    assert summary.spans_added == len(local["spans"])
    assert everything(team) == local
    # What a user's SQL sees, on the locked connection: the same, and nothing else.
    assert team.user_query("SELECT count(*) FROM handoffs")[0].rows == [(len(local["handoffs"]),)]
    with pytest.raises(StoreError, match="out of its reach"):
        team.user_query("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(StoreError, match="refused"):
        team.user_query("DELETE FROM spans")
    assert team.query("SELECT count(*) FROM spans").rows == [(len(local["spans"]),)]


def test_a_one_machine_lake_with_a_duckdb_catalog_file(
    samples: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lake_fixtures import extensions_problem

    problem = extensions_problem()
    if problem:
        pytest.skip(f"needs DuckDB's ducklake extension: {problem}")
    monkeypatch.setenv("BATON_LAKE_DATA", f"{tmp_path}/files/")
    from tracer.store.lake import push

    team = Store(f"ducklake:{tmp_path}/team.ducklake")
    assert isinstance(team, LakeStore)
    push(samples, team)
    assert push(samples, team) == 0
    assert everything(team) == everything(samples)
    assert team.status().lake is not None
    assert team.user_query("SELECT count(*) FROM loops")[0].rows == [(1,)]


def test_replay_load_conversation_reads_the_lake_as_it_reads_a_local_store(
    lake_env: Lake, samples: Store
) -> None:
    from replay import load_conversation
    from tracer.store.lake import push

    team = LakeStore(lake_env.url)
    push(samples, team)
    ids = [
        row[0] for row in samples.query("SELECT conversation_id FROM conversations ORDER BY 1").rows
    ]
    assert len(ids) == 9
    for conversation_id in ids:
        assert load_conversation(team, conversation_id) == load_conversation(
            samples, conversation_id
        )


def test_the_command_line_on_a_team_store(lake_env: Lake, samples: Store, tmp_path: Path) -> None:
    local = everything(samples)
    pushed = baton(
        "store", "push", str(samples.path), lake_env.url, "--lake-data", f"{lake_env.data}/"
    )
    assert pushed.returncode == 0, pushed.stderr
    assert pushed.stdout.startswith(f"pushed {len(local['spans'])} new spans from ")
    again = baton("store", "push", str(samples.path), lake_env.url)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("pushed 0 new spans")  # idempotent
    assert everything(Store(lake_env.url)) == local

    sql = baton("sql", "--store", lake_env.url, "--format", "csv", "SELECT count(*) FROM handoffs")
    assert (sql.returncode, sql.stdout, sql.stderr) == (
        0,
        f"count_star()\n{len(local['handoffs'])}\n",
        "",
    )
    status = baton("store", "status", env={"BATON_STORE": lake_env.url})
    assert status.returncode == 0, status.stderr
    lines = dict(
        line.split(None, 1) if " " in line else (line, "") for line in status.stdout.splitlines()
    )
    libpq = lake_env.url.removeprefix("ducklake:postgres:")
    assert status.stdout.splitlines()[:3] == [
        f"store           {lake_env.url}",
        f"catalog         PostgreSQL {libpq}",
        f"data path       {lake_env.data}/",
    ]
    assert status.stdout.splitlines()[3].startswith("snapshot        ")
    assert int(status.stdout.splitlines()[3].split()[1]) > 0
    assert lines["spans"].strip() == str(len(local["spans"]))
    loops = baton("loops", "--store", lake_env.url)
    local_loops = baton("loops", "--store", str(samples.path))
    assert (loops.returncode, loops.stdout) == (
        local_loops.returncode,
        local_loops.stdout.replace(str(samples.path), lake_env.url),
    )
    first, second = (
        row[0]
        for row in samples.query(
            "SELECT trace_id FROM spans GROUP BY 1 ORDER BY min(start_time) LIMIT 2"
        ).rows
    )
    diff = baton("diff", "--store", lake_env.url, first, second)
    local_diff = baton("diff", "--store", str(samples.path), first, second)
    assert (diff.returncode, diff.stdout) == (local_diff.returncode, local_diff.stdout)
    assert diff.returncode == 1  # two different runs
    traces = baton("traces", "--store", lake_env.url)
    assert traces.returncode == 0, traces.stderr
    assert traces.stdout == baton("traces", "--store", str(samples.path)).stdout


# -- many machines at once -----------------------------------------------------------------


def _source(samples: Store, tmp_path: Path) -> Path:
    with samples.read_connection() as con:
        table = con.execute(
            f"SELECT {', '.join(COLUMN_NAMES)} FROM spans ORDER BY trace_id, span_id"
        ).arrow()
    if not isinstance(table, pa.Table):
        table = table.read_all()
    path = tmp_path / "source.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as out:
        out.write_table(table)
    return path


def _machine(
    target: Lake, source: Path, name: str, home: Path, chunk: int = 120, mode: str = "interleave"
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, ABSORBER, target.url, str(source), name, str(chunk), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "XDG_DATA_HOME": str(home), "BATON_LAKE_DATA": f"{target.data}/"},
    )


def _expected(
    samples: Store, source: Path, names: list[str], tmp_path: Path
) -> dict[str, list[tuple[object, ...]]]:
    """What one local store holds after the same segments: the shared spans once, each
    machine's own copy once."""
    sys.path.insert(0, str(Path(ABSORBER).parent))
    try:
        from lake_absorber import own_copy
    finally:
        sys.path.pop(0)
    with pa.OSFile(str(source), "rb") as file:
        shared = pa.ipc.open_file(file).read_all()
    reference = Store(tmp_path / "reference.duckdb")
    reference.ingest(shared)
    for name in names:
        reference.ingest(own_copy(shared, name))
    return everything(reference)


def test_machines_absorbing_into_one_lake_at_once_lose_and_duplicate_nothing(
    lake_env: Lake, samples: Store, tmp_path: Path
) -> None:
    source = _source(samples, tmp_path)
    names = ["a1", "b2", "c3", "d4"]
    machines = [_machine(lake_env, source, name, tmp_path / f"machine-{name}") for name in names]
    reader = Store(lake_env.url)
    reads = 0
    while any(m.poll() is None for m in machines):
        # Every snapshot a reader sees holds each span once.
        rows = reader.query("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").rows
        assert rows[0][0] == rows[0][1]
        reads += 1
    outputs = []
    for machine in machines:
        out, err = machine.communicate(timeout=60)
        assert machine.returncode == 0, err
        assert out.strip().endswith("done")
        outputs.append(out)
    assert reads >= 1
    expected = _expected(samples, source, names, tmp_path)
    added = sum(
        int(line.split()[1])
        for out in outputs
        for line in out.splitlines()
        if line.startswith("absorbed")
    )
    assert added == len(expected["spans"]) == (len(names) + 1) * len(everything(samples)["spans"])
    assert everything(reader) == expected
    status = reader.status()  # and it is the lake that holds them
    assert status.lake is not None and status.lake.data_path == f"{lake_env.data}/"
    assert status.rows["spans"] == len(expected["spans"])
    for name in names:  # every machine's local segments are gone: all in the lake
        assert (
            list((tmp_path / f"machine-{name}" / "baton" / "lakes").glob("*/incoming/*.arrow"))
            == []
        )


def test_a_machine_killed_mid_absorb_loses_nothing_once_its_segments_are_absorbed(
    lake_env: Lake, samples: Store, tmp_path: Path
) -> None:
    source = _source(samples, tmp_path)
    home = tmp_path / "machine-e5"
    other = _machine(lake_env, source, "f6", tmp_path / "machine-f6")
    victim = _machine(lake_env, source, "e5", home, chunk=5, mode="all-then-absorb")
    assert victim.stdout is not None
    first = victim.stdout.readline()  # every segment written; now it is absorbing
    assert first.startswith("written"), victim.stderr.read() if victim.stderr else ""
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    _, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    # The killed machine's segments wait in its own folder; its next absorb moves them.
    env = {"XDG_DATA_HOME": str(home), "BATON_LAKE_DATA": f"{lake_env.data}/"}
    sql = "SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans"
    status = baton("sql", "--store", lake_env.url, "--format", "csv", sql, env=env)
    assert status.returncode == 0, status.stderr
    expected = _expected(samples, source, ["e5", "f6"], tmp_path)
    assert everything(Store(lake_env.url)) == expected
    assert list((home / "baton" / "lakes").glob("*/incoming/*.arrow")) == []


def test_recorders_exporting_through_opentelemetry_record_into_the_lake(
    lake_env: Lake, tmp_path: Path
) -> None:
    # baton's real StoreExporter behind OpenTelemetry's batch processor, in two processes
    # (two machines), each absorbing now and then and at exit.
    recorder = str(Path(__file__).parent / "procs" / "recorder.py")
    runs = 40
    procs = [
        subprocess.Popen(
            [sys.executable, recorder, lake_env.url, f"m{i}", str(runs), "0.5"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "XDG_DATA_HOME": str(tmp_path / f"rec-{i}")},
        )
        for i in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert out.strip().endswith("done")
    team = Store(lake_env.url)
    assert isinstance(team, LakeStore)
    assert team.query("SELECT count(*), count(DISTINCT (trace_id, span_id)) FROM spans").rows == [
        (2 * runs * 6, 2 * runs * 6)
    ]
    assert team.query("SELECT count(*) FROM handoffs").rows == [(2 * runs,)]
    assert team.query("SELECT count(*) FROM conversations").rows == [(2 * runs,)]
