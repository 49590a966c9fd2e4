#!/usr/bin/env bash
# Issue 22's "done when", as a test: install the build into a prefix, build examples/ against
# it as a user would (find_package(etuner)), run `embed`, and run `client` against the
# installed `etuner serve`.
#   examples_test.sh BUILD_DIR SOURCE_DIR GENERATOR CXX [LAUNCHER]
# The work folder sits in BUILD_DIR (fixed paths, so ccache serves a rerun) and is remade
# each time.
set -euo pipefail
build=$1 src=$2 generator=$3 cxx=$4 launcher=${5:-}
work=$build/examples-test
rm -rf "$work" && mkdir -p "$work"
step() { echo "== $1 ($SECONDS s)"; }

step install
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
step configure
cmake -S "$src/examples" -B "$work/build" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
  ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher} -DCMAKE_PREFIX_PATH="$work/prefix" \
  > "$work/configure.log" || { cat "$work/configure.log"; exit 1; }
step build
cmake --build "$work/build" -j 2 > "$work/build.log" || { tail -40 "$work/build.log"; exit 1; }

step embed
"$work/build/embed" | tee "$work/embed.out"
grep -q "^accuracy: " "$work/embed.out"

if [ ! -x "$work/build/client" ] || ! "$work/prefix/bin/etuner" serve --help > /dev/null 2>&1; then
  echo "client: not built, or etuner built without serve; skipped"; exit 0
fi
step client
"$work/prefix/bin/etuner" serve --model tiny --classes 10 --input 1x28x28 --quiet --port 0 \
  --port-file "$work/port" --data-dir "$work/serve" &
serve=$!
trap 'kill $serve 2> /dev/null || true' EXIT
for _ in $(seq 600); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || { echo "etuner serve did not start"; exit 1; }
"$work/build/client" "$(cat "$work/port")" | tee "$work/client.out"
grep -q "^predict: label " "$work/client.out"
grep -q "^sample: stored as id " "$work/client.out"
kill $serve && wait $serve || true
step done
