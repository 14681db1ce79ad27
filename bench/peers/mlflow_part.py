"""MLflow's part of ``bench/bench_peers.py``, run by /work/fw/mlflow's python: recorded by
``mlflow.openai.autolog()`` (MLflow's documented way to trace the Agents SDK) into a local
tracking store (its default kind, ``sqlite:///mlflow.db``, here in the work folder), read
back with ``mlflow.search_traces``. MLflow's defaults are kept: asynchronous trace logging,
a queue of ``MLFLOW_ASYNC_TRACE_LOGGING_MAX_QUEUE_SIZE`` traces."""

from __future__ import annotations

import argparse
from pathlib import Path

import mlflow
import workflow


def setup(args: argparse.Namespace) -> workflow.Tool:
    mlflow.set_tracking_uri(f"sqlite:///{Path(args.workdir) / 'mlflow.db'}")
    experiment = mlflow.set_experiment("bench-peers").experiment_id
    mlflow.openai.autolog()

    def count() -> tuple[int, int]:
        traces = mlflow.search_traces(locations=[experiment], return_type="list")
        return sum(len(trace.data.spans) for trace in traces), len(traces)

    def count_traces() -> int:
        found = mlflow.search_traces(
            locations=[experiment], return_type="list", include_spans=False
        )
        return len(found)

    return workflow.Tool(
        name="mlflow",
        package="mlflow",
        flush=mlflow.flush_trace_async_logging,
        count=count,
        extra_spans=lambda sdk: sdk.traces + sdk.by_type["generation"],
        extra_doc="+1 per trace (its Runner.run root), +1 per model call (openai autolog)",
        count_traces=count_traces,
    )


if __name__ == "__main__":
    workflow.main(setup)
