#!/usr/bin/env bash
# walkthrough_check.sh ETUNER SCRIPT_MODEL SOURCE_DIR: runs every ```bash block of
# docs/walkthrough.md, in order, in a fresh folder that holds what the walkthrough assumes
# the user has: model.pt (script_model stands in for `torch.jit.script(net).save(...)`),
# frames/ and labels.csv (walkthrough_data.py). Then checks what the commands left behind,
# and that a wrong class count or label exits 2 naming the problem.
set -euo pipefail
etuner=$1 script_model=$2 source=$3
work=$(mktemp -d /tmp/etuner-walkthrough-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir bin && ln -s "$etuner" bin/etuner
export PATH="$work/bin:$PATH"
"$script_model" model.pt 3 3
python3 "$source/tests/walkthrough_data.py" .

awk '/^```bash$/ {on=1; next} /^```$/ {on=0} on' "$source/docs/walkthrough.md" > steps.sh
[ -s steps.sh ] || { echo "no bash blocks in docs/walkthrough.md"; exit 1; }
bash -euo pipefail steps.sh > steps.log 2>&1 || { cat steps.log; exit 1; }

fail() { echo "FAIL: $*"; cat steps.log; exit 1; }
[ -f runs/mine/results.json ] || fail "bench wrote no results.json"
[ -f runs/mine/report.html ] || fail "no report"
[ -f model-adapted.pt ] || fail "no adapted checkpoint picked up"
[ -f runs/adapted/results.json ] || fail "no bench from the adapted model"
grep -q '"label"' serve-predict.json || fail "serve answered no prediction: $(cat serve-predict.json)"
python3 - <<'PY' || fail "results do not match the stream"
import json
r = json.load(open("runs/mine/results.json"))
p = r["policies"]["immediate"]
assert p["requests"] == 60 and p["scored_requests"] == 20, p
assert [s["name"] for s in r["scenarios"]] == ["day", "night"], r["scenarios"]
assert p["rounds"] > 0, p
PY

# Errors a user meets: exit 2 and a message that says what to fix.
expect_2() {  # expect_2 TEXT CMD...: exit 2 with TEXT in stderr
  local text=$1; shift
  set +e; err=$("$@" 2>&1 >/dev/null); rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "exit $rc (expected 2) from $*: $err"
  grep -qF -- "$text" <<<"$err" || fail "no '$text' in: $err"
}
expect_2 "4 classes" etuner bench --stream stream.json --set '{"data":{"num_classes":4}}' --quiet \
  --policies never --out runs/bad
sed 's/,2,/,7,/' stream.csv > bad.csv
line=$(grep -n ',7,' bad.csv | head -1 | cut -d: -f1)
expect_2 "line $line: label 7 out of range" etuner bench --stream stream.json \
  --set '{"data":{"root":"bad.csv"}}' --quiet --policies never --out runs/bad
echo "walkthrough ok"
