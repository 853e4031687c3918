#!/usr/bin/env bash
# One command for every benchmark: `bash benchmarks/run.sh [SCRIPT ...]`.
# Creates .bench-venv (ioukit + all peers) on first use, then runs the given
# benchmark scripts (default: all bench_*.py) in one process each.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.bench-venv
STAMP="$VENV/.requirements-installed"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
# (re)install the peers when a requirements file is newer than the last install
if [ ! -f "$STAMP" ] || [ benchmarks/requirements.txt -nt "$STAMP" ] \
    || [ benchmarks/requirements-nodeps.txt -nt "$STAMP" ]; then
    "$VENV/bin/pip" install -q -r benchmarks/requirements.txt
    "$VENV/bin/pip" install -q --no-deps -r benchmarks/requirements-nodeps.txt
    "$VENV/bin/pip" install -q -e ".[dask,images]"
    touch "$STAMP"
fi
# Byte-compile ioukit's sources as a regular (non-editable) install would: with
# PYTHONDONTWRITEBYTECODE set, an editable install recompiles them on every import.
"$VENV/bin/python" -m compileall -q src
scripts=("$@")
[ ${#scripts[@]} -gt 0 ] || scripts=(benchmarks/bench_*.py)
for s in "${scripts[@]}"; do
    echo "=== $s"
    "$VENV/bin/python" "$s"
done
