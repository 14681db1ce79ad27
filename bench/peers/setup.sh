#!/usr/bin/env bash
# Creates the peers' own venvs for bench/bench_peers.py (never baton's dependencies):
#   bash bench/peers/setup.sh            # /work/fw/mlflow and /work/fw/phoenix
# Each gets openai-agents at the version in baton's venv, so all three record the same SDK.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
root="${BATON_FW:-/work/fw}"
py="${PYTHON:-python3.11}"
agents_version="$("${BATON_PYTHON:-$here/.venv/bin/python}" -c 'import importlib.metadata as m; print(m.version("openai-agents"))')"
mk() {
    name=$1; shift
    rm -rf "$root/$name"
    "$py" -m venv "$root/$name"
    "$root/$name/bin/pip" install -q --disable-pip-version-check "openai-agents==$agents_version" "$@"
    echo "$root/$name: $("$root/$name/bin/python" -c 'import importlib.metadata as m; print(m.version("openai-agents"))') openai-agents"
}
mk mlflow mlflow
mk phoenix arize-phoenix arize-phoenix-otel openinference-instrumentation-openai-agents
