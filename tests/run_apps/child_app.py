"""A child process using only the OpenTelemetry API (no provider of its own): under
baton run its spans are recorded all the same. Writes its span ids to argv[1]."""

from __future__ import annotations

import json
import sys

from opentelemetry import trace

tracer = trace.get_tracer("child-app")
made = []
for n in range(3):
    with tracer.start_as_current_span(f"child step {n}") as span:
        made.append(format(span.get_span_context().span_id, "016x"))
with open(sys.argv[1], "w") as f:
    json.dump(made, f)
print("child done", file=sys.stderr)
