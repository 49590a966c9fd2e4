#!/usr/bin/env bash
# Serve load benchmark (docs/serve.md): starts `etuner serve` on a fresh data directory on
# loopback, runs build/etuner_serve_load (idle phase, then tuning phase), stops the server
# with SIGTERM and prints the load tool's JSON.
#   scripts/bench-serve.sh [BUILD_DIR] -- extra serve flags
# Environment: MODEL (smallcnn), INPUT (1x28x28), CLASSES (10), POLICY (immediate),
# CLIENTS (4), SAMPLE_CLIENTS (2), SECONDS (20).
set -euo pipefail
build=${1:-build}
shift || true
[ "${1:-}" = "--" ] && shift
MODEL=${MODEL:-smallcnn} INPUT=${INPUT:-1x28x28} CLASSES=${CLASSES:-10} POLICY=${POLICY:-immediate}
CLIENTS=${CLIENTS:-4} SAMPLE_CLIENTS=${SAMPLE_CLIENTS:-2} SECONDS_PER_PHASE=${SECONDS:-20}

dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
"$build/etuner" serve --model "$MODEL" --classes "$CLASSES" --input "$INPUT" --policies "$POLICY" \
  --data-dir "$dir/data" --port 0 --port-file "$dir/port" --quiet "$@" &
server=$!
for _ in $(seq 600); do [ -f "$dir/port" ] && break; sleep 0.1; done
[ -f "$dir/port" ] || { echo "server did not start" >&2; exit 1; }
"$build/etuner_serve_load" --port "$(cat "$dir/port")" --input "$INPUT" --classes "$CLASSES" \
  --clients "$CLIENTS" --sample-clients "$SAMPLE_CLIENTS" --seconds "$SECONDS_PER_PHASE"
kill -TERM $server
wait $server
