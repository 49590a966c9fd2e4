#!/usr/bin/env bash
# Bounded fuzz smoke run for ctest: run_fuzz.sh <fuzzer> <seconds> <seed corpus dir> <dict>.
# Exit 77 (ctest: skipped) when the fuzzer was not built (no clang). New inputs go to a
# scratch copy of the corpus so the source tree is never written; a finding fails the test
# (reproducible alone or not) and leaves its input in the build directory (crash-*), to be
# added under fuzz/regressions/ as a regression test.
set -euo pipefail
exe=$1 seconds=$2 seeds=$3 dict=$4
if [ ! -x "$exe" ]; then
  echo "skipped: $exe not built (needs clang++; see fuzz/CMakeLists.txt)"
  exit 77
fi
export UBSAN_OPTIONS="suppressions=$(dirname "$0")/ubsan.supp:halt_on_error=1:print_stacktrace=1"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work"/ 2>/dev/null || true
regress=$(dirname "$seeds")/../regressions/$(basename "$seeds")
mapfile -t past < <(find "$regress" -type f ! -name '.*' 2>/dev/null)
if [ ${#past[@]} -gt 0 ]; then
  "$exe" "${past[@]}"   # every past crash must stay fixed
fi
# libFuzzer exits 77 on a finding by default, which ctest would read as "skipped": make every
# finding exit 1. Every finding fails the test, whether or not its input reproduces when run
# alone (a nondeterministic one is still a bug: stb read state a corrupt JPEG never set, kept
# in fuzz/regressions/image/). The input stays in the build directory for investigation.
set +e
"$exe" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=5 -dict="$dict" \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="$(pwd)/" "$work"
rc=$?
set -e
[ $rc -eq 0 ] && exit 0
found=$(ls -t "$(pwd)"/crash-* "$(pwd)"/timeout-* "$(pwd)"/oom-* "$(pwd)"/leak-* 2>/dev/null | head -1 || true)
# Replayed alone, a finding that reproduces exits nonzero; one that exits 0 did not reproduce.
if [ -n "$found" ] && "$exe" -error_exitcode=1 "$found" >/dev/null 2>&1; then
  echo "fuzz finding (exit $rc) does not reproduce alone: $found; it fails all the same." \
       "Investigate, then add it under fuzz/regressions/" >&2
else
  echo "fuzz finding (exit $rc): ${found:-(no input saved)}; add it under fuzz/regressions/" >&2
fi
exit 1
