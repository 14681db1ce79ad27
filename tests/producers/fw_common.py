"""What every Python recording script shares (run inside a framework's own venv, so
only the OpenTelemetry SDK and the standard library): the environment ``record.py`` sets,
a tracer provider exporting OTLP/HTTP to the sink, and writing the framework's truth."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

MODEL_URL = os.environ.get("BATON_MODEL_URL", "")
OTLP_ENDPOINT = os.environ.get("BATON_OTLP_ENDPOINT", "")
WORKFLOW = os.environ.get("BATON_WORKFLOW", "")
TRUTH_OUT = os.environ.get("BATON_TRUTH_OUT", "")


def provider(service: str) -> Any:
    """A tracer provider exporting every span to the recording sink, set as the global."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(OTLP_ENDPOINT)))
    trace.set_tracer_provider(tracer_provider)
    return tracer_provider


def write_truth(truth: Any) -> None:
    """The framework's own account of the run, for the fixture's ``truth.json``."""
    with open(TRUTH_OUT, "w", encoding="utf-8") as out:
        json.dump(truth, out, indent=2, sort_keys=True, default=str)
    print(f"{WORKFLOW}: truth written", file=sys.stderr)
