#!/usr/bin/env bash
# `make fuzz-long`: each libFuzzer target (image, request, http) to RUNS executions (default
# 10^6) from its corpus in fuzz/corpus/<target>/, then the new coverage merged back into that
# corpus (minimized, so the repository keeps a small corpus). Not in CI. Any finding fails
# (exit 1) and its input stays in the current directory (crash-*, timeout-*, oom-*). Prints
# each target's executions.
# Usage: fuzz/fuzz_long.sh <build dir> [runs]
set -euo pipefail
build=$1 runs=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
export UBSAN_OPTIONS="suppressions=$here/ubsan.supp:halt_on_error=1:print_stacktrace=1"
for t in image request http; do
  exe=$build/fuzz/fuzz_$t
  [ -x "$exe" ] || { echo "fuzz-long: $exe not built (needs clang++)" >&2; exit 1; }
  work=$(mktemp -d)
  cp -r "$here/corpus/$t"/. "$work"/
  start=$(date +%s)
  set +e
  "$exe" -runs="$runs" -rss_limit_mb=1024 -timeout=5 -dict="$here/$t.dict" \
    -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$(pwd)/" -print_final_stats=1 \
    "$work" > "$work.log" 2>&1
  rc=$?
  set -e
  grep -E "stat::number_of_executed_units|ERROR|^Done" "$work.log" || tail -20 "$work.log"
  echo "fuzz-long: $t: $runs runs requested, $(( $(date +%s) - start )) s, exit $rc"
  [ "$rc" -eq 0 ] || exit 1
  "$exe" -merge=1 "$here/corpus/$t" "$work" >/dev/null 2>&1
  rm -rf "$work"
done
