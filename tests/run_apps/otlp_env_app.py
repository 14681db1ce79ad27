"""Stands in for a non-Python program (run with ``python -I``, so no sitecustomize and
no PYTHONPATH): the stock OTLP/HTTP exporter configured from the environment only.
argv: the JSON file for span ids, how many spans, the exit status."""

from __future__ import annotations

import json
import sys

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider(resource=Resource.create())
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
tracer = provider.get_tracer("otlp-env-app")
made = []
for n in range(int(sys.argv[2])):
    with tracer.start_as_current_span(f"step {n}") as span:
        made.append(format(span.get_span_context().span_id, "016x"))
provider.shutdown()
with open(sys.argv[1], "w") as f:
    json.dump(made, f)
sys.stdout.write("out line\n")
sys.stderr.write("err line\n")
sys.exit(int(sys.argv[3]))
