"""Makes N spans with the OpenTelemetry API only, writes their ids to argv[1], then
ends as argv[3] says: ``raise`` (a crash), ``sigint`` (kills itself with SIGINT),
``wait`` (prints "ready" and waits to be interrupted or terminated)."""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from opentelemetry import trace

tracer = trace.get_tracer("spans-then")
made = []
for n in range(int(sys.argv[2])):
    with tracer.start_as_current_span(f"work {n}") as span:
        made.append(format(span.get_span_context().span_id, "016x"))
with open(sys.argv[1], "w") as f:
    json.dump(made, f)
how = sys.argv[3]
if how == "raise":
    raise RuntimeError("the app crashed")
if how == "sigint":
    os.kill(os.getpid(), signal.SIGINT)
if how == "wait":
    print("ready", flush=True)
    for _ in range(600):
        time.sleep(0.1)
    sys.exit(9)
