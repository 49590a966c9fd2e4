#!/usr/bin/env bash
# scripts/check_includes.py fails, saying where to declare the edge, on each kind of break:
# each case edits a copy of the tree once and expects exit 1 and a message.
set -euo pipefail
python=${1:-python3}  # the interpreter CMake found
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fresh() {  # a copy of what the check reads
  rm -rf "$tmp/t" && mkdir -p "$tmp/t/cmake"
  cp -r "$src/src" "$src/include" "$src/tools" "$tmp/t/"
  cp "$src/cmake/modules.txt" "$tmp/t/cmake/"
}

expect() {  # expect <rc> <text the output must hold> <case name>
  local rc=0 out
  out=$("$python" "$src/scripts/check_includes.py" --root "$tmp/t" 2>&1) || rc=$?
  if [ "$rc" != "$1" ] || ! grep -qF -- "$2" <<<"$out"; then
    echo "FAIL $3: want rc $1 and \"$2\", got rc $rc:"; echo "$out" | head -5; fails=$((fails + 1))
  else
    echo "ok   $3"
  fi
}

fresh
expect 0 "files follow cmake/modules.txt" "the tree as it is"

fresh  # meter may use only core
echo '#include "etuner/harness.h"' >> "$tmp/t/src/meter/modeled.cpp"
expect 1 "add harness to the line of meter in cmake/modules.txt" "a new edge"

fresh
echo '#include "tuning/activation_cache.h"' >> "$tmp/t/src/harness/bench.cpp"
expect 1 "is private to module tuning" "another module's private header"

fresh
echo '#include <etuner/runtime.h>' >> "$tmp/t/src/report/page.cpp"
expect 1 "report may not use module runtime" "an edge written with <>"

fresh
sed -i 's/^module core$/module core stream/' "$tmp/t/cmake/modules.txt"
expect 1 "dependency cycle core -> stream -> core" "a cycle in the table"

fresh
mkdir "$tmp/t/src/newmod" && touch "$tmp/t/src/newmod/a.cpp"
expect 1 "src/newmod/ is not a module" "an undeclared module folder"

fresh
mkdir "$tmp/t/tools/newtool" && touch "$tmp/t/tools/newtool/main.cpp"
expect 1 "tools/newtool/ is not a program" "an undeclared program folder"

fresh
touch "$tmp/t/include/etuner/extra.h"
expect 1 "include/etuner/extra.h has no owner" "an undeclared public header"

fresh
echo 'header extra.h core' >> "$tmp/t/cmake/modules.txt" && touch "$tmp/t/include/etuner/extra.h"
expect 1 "etuner.h does not include etuner/extra.h" "the umbrella header misses one"

fresh
echo 'exception src/meter/modeled.cpp etuner/harness.h' >> "$tmp/t/cmake/modules.txt"
expect 1 "is no longer needed" "a stale exception"

[ "$fails" = 0 ] || { echo "$fails case(s) failed"; exit 1; }
