#!/usr/bin/env python3
"""scorecard_test.py ETUNER SOURCE_DIR: scripts/scorecard.py on a tiny suite.

One stream over a generated Fashion-MNIST-shaped data set (the IDX layout of tests/fixtures.h,
model "tiny"), 2 seeds x 2 loads, 3 policies, -j 2, plus a stream whose data is missing. Checks
the structure of scorecard.json, the statistics against the cells' own results.json, that a
second run skips every cell, that a removed cell is run again, and that a policy's interval
against itself is exactly 0.
"""
import gzip
import json
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

ETUNER, SOURCE = sys.argv[1], sys.argv[2]
SCRIPT = os.path.join(SOURCE, "scripts", "scorecard.py")
POLICIES = ["never", "immediate", "immediate-bn"]
SEEDS = [11, 12]


def write_split(root, prefix, n, size, seed):
    """Class c: a bright square in quadrant c % 4 and a stripe at row c // 4 + 1, over noise."""
    rng = random.Random(seed)
    img = bytearray(struct.pack(">IIII", 0x803, n, size, size))
    lab = bytearray(struct.pack(">II", 0x801, n))
    half = size // 2
    for i in range(n):
        c = i % 10
        lab.append(c)
        for yy in range(size):
            for xx in range(size):
                v = (160 if (yy // half) * 2 + xx // half == c % 4 else 0) + \
                    (80 if yy == c // 4 + 1 else 0) + rng.randrange(40)
                img.append(min(v, 255))
    for kind, data in (("images-idx3", img), ("labels-idx1", lab)):
        with gzip.open(os.path.join(root, f"{prefix}-{kind}-ubyte.gz"), "wb") as f:
            f.write(bytes(data))


def write_fixture(work):
    data = os.path.join(work, "tiny-data")
    os.makedirs(data)
    write_split(data, "train", 400, 12, 1)
    write_split(data, "t10k", 200, 12, 2)
    scenario = {"labeled_batches": 3, "batch_size": 16, "requests_per_batch": 10}
    spec = {"name": "tiny", "seed": 3, "model": "tiny",
            "data": {"source": "fashion-mnist", "root": data},
            "pretrain": {"samples": 200, "epochs": 10, "lr": 0.1, "batch_size": 32},
            "train": {"lr": 0.03, "batch_size": 16, "epochs_per_round": 2, "replay_samples": 16,
                      "replay_buffer": 64},
            "protocol": {"mode": "instant", "device": "cpu-2core"},
            "scenarios": [dict(scenario, name="clean"),
                          dict(scenario, name="dark", shift="darken", severity=3)]}
    with open(os.path.join(work, "tiny.json"), "w") as f:
        json.dump(spec, f)
    suite = {"name": "tiny", "policies": POLICIES, "threads": 1,
             "seed_sets": {"tiny": SEEDS},
             "streams": [{"name": "tiny", "spec": os.path.join(work, "tiny.json"), "seeds": "tiny",
                          "loads": {"standard": {}, "busy": {"protocol": {
                              "mode": "realtime", "batch_interval_s": 0.05}}}},
                         {"name": "nodata", "spec": os.path.join(work, "tiny.json"),
                          "seeds": "tiny", "data": os.path.join(work, "missing"),
                          "loads": {"standard": {}}}],
             # immediate-bn as the target policy: its checks against itself are exact
             "targets": {"policy": "immediate-bn", "within_pp_of_immediate_bn": 0.5,
                         "min_gain_pp_over_immediate": 1.75,
                         "max_modeled_seconds_x_immediate_bn": 0.36,
                         "max_modeled_energy_x_immediate_bn": 0.44}}
    with open(os.path.join(work, "suite.json"), "w") as f:
        json.dump(suite, f)


def scorecard(work, *extra, suite="suite.json", out="card"):
    proc = subprocess.run([sys.executable, SCRIPT, "--suite", suite, "--out", out,
                           "-j", "2", "--etuner", ETUNER, *extra], cwd=work, capture_output=True,
                          text=True, env=dict(os.environ, ETUNER_CACHE=os.path.join(work, "cache")))
    if proc.returncode != 0:
        fail(f"scorecard.py exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    with open(os.path.join(work, out, "scorecard.json")) as f:
        return proc.stdout, json.load(f)


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def cell_results(work, load, seed):
    with open(os.path.join(work, "card", "cells", "tiny", load, f"seed-{seed}",
                           "results.json")) as f:
        return json.load(f)


def check_structure(card):
    expect(card["schema_version"] == 1 and card["policies"] == POLICIES, "header")
    expect(card["git_commit"], "no commit recorded")
    for key in ("command", "date", "git_commit", "machine", "targets", "ratios"):
        expect(key in card, f"no '{key}'")
    expect(set(card["machine"]) == {"uname", "nproc", "cpu"}, f"machine {card['machine']}")
    expect(list(card["streams"]) == ["tiny", "nodata"], f"streams {list(card['streams'])}")
    expect("data not found" in card["streams"]["nodata"].get("skipped", ""), "nodata not skipped")
    loads = card["streams"]["tiny"]["loads"]
    expect(list(loads) == ["standard", "busy"], f"loads {list(loads)}")
    for load, e in loads.items():
        expect(e["seeds"] == SEEDS, f"{load}: seeds {e['seeds']}")
        expect(list(e["policies"]) == POLICIES, f"{load}: policies {list(e['policies'])}")
        expect(set(e) == {"set", "seeds", "etuner_commits", "policies", "pareto_front",
                          "targets"}, f"{load}: keys {sorted(e)}")
        for p, c in e["policies"].items():
            expect(set(c) == {"accuracy_pct", "modeled_seconds", "modeled_energy_j",
                              "modeled_seconds_per_seed", "modeled_energy_j_per_seed",
                              "delta_pp_vs_immediate", "delta_pp_vs_immediate-bn",
                              "modeled_seconds_x_immediate", "modeled_energy_j_x_immediate",
                              "modeled_seconds_x_immediate-bn",
                              "modeled_energy_j_x_immediate-bn"}, f"{load}/{p}: {sorted(c)}")
        expect(e["pareto_front"], f"{load}: empty Pareto front")
        expect([c["name"] for c in e["targets"]["checks"]][-1].startswith("no policy"), "checks")


def check_statistics(work, card):
    spread = []  # never vs immediate's half-widths: the fixture must make them differ from 0
    for load, e in card["streams"]["tiny"]["loads"].items():
        runs = [cell_results(work, load, s) for s in SEEDS]
        acc = {p: [100 * r["policies"][p]["avg_inference_accuracy"] for r in runs]
               for p in POLICIES}
        for base in ("immediate", "immediate-bn"):  # against itself: exactly 0
            d = e["policies"][base][f"delta_pp_vs_{base}"]
            expect(d["per_seed"] == [0, 0] and d["mean"] == 0 and d["ci95_half_width"] == 0,
                   f"{load}: {base} against itself: {d}")
            expect(e["policies"][base][f"modeled_energy_j_x_{base}"] in (1.0, None),
                   f"{load}: {base} energy ratio to itself")
        d = e["policies"]["never"]["delta_pp_vs_immediate"]
        diffs = [a - b for a, b in zip(acc["never"], acc["immediate"])]
        m = sum(diffs) / 2
        hw = 12.706 * math.sqrt(sum((x - m) ** 2 for x in diffs)) / math.sqrt(2)
        expect(abs(d["mean"] - m) < 1e-9 and abs(d["ci95_half_width"] - hw) < 1e-9,
               f"{load}: never vs immediate {d}, expected {m} +- {hw}")
        got = e["policies"]["never"]["accuracy_pct"]["per_seed"]
        expect(got == acc["never"], f"{load}: per-seed accuracy {got} vs {acc['never']}")
        got = e["policies"]["immediate"]["modeled_seconds_per_seed"]
        want = [r["policies"]["immediate"]["modeled_finetune_seconds"] for r in runs]
        expect(got == want and min(want) > 0, f"{load}: per-seed seconds {got} vs {want}")
        spread.append(d["ci95_half_width"])
        t = e["targets"]
        expect(t["policy"] == "immediate-bn" and t["checks"][0]["value"] == 0 and
               t["checks"][0]["margin"] == 0.5 and t["checks"][0]["pass"], f"{load}: {t}")
    expect(max(spread) > 1, f"the fixture gives every seed the same difference: {spread}")


def check_page(work, md):
    """--into puts the tables between the page's markers and keeps the rest; --check passes on
    that page and fails, naming the fix, once the tables are edited by hand."""
    tool = [sys.executable, os.path.join(SOURCE, "scripts", "scorecard_md.py"),
            os.path.join(work, "card", "scorecard.json")]
    page = os.path.join(work, "results.md")
    with open(page, "w") as f:
        f.write("# Results\n\n<!-- scorecard: old marker text -->\nstale\n"
                "<!-- end of the generated scorecard -->\n\n## Serve\n")
    subprocess.run(tool + ["--into", page], check=True)
    with open(page) as f:
        text = f.read()
    expect(text.startswith("# Results\n\n<!-- scorecard: generated by") and
           text.endswith("<!-- end of the generated scorecard -->\n\n## Serve\n") and
           md.strip() in text and "stale" not in text, f"--into wrote:\n{text}")
    expect(subprocess.run(tool + ["--check", page]).returncode == 0, "--check failed fresh")
    with open(page, "w") as f:
        f.write(text.replace("| immediate | ", "| immediate | 99.99% edited ", 1))
    bad = subprocess.run(tool + ["--check", page], capture_output=True, text=True)
    expect(bad.returncode != 0 and "--into" in bad.stderr, f"--check passed an edited page: "
           f"{bad.returncode} {bad.stderr}")


def check_refresh(work, card):
    """A policy rerun alone gives the numbers it gave beside the others (so --refresh after a
    default change is sound), its rows replace its own in the cell's csv files, the cell
    records where they came from, and a second refresh by the same binary skips every cell."""
    rounds = os.path.join(work, "card", "cells", "tiny", "standard", f"seed-{SEEDS[0]}",
                          "rounds.csv")
    def rows():  # every column but those measured from the wall clock
        with open(rounds) as f:
            lines = [line.split(",") for line in f.read().splitlines()]
        drop = {lines[0].index("wall_s"), lines[0].index("energy_j")}
        return sorted(",".join(v for i, v in enumerate(r) if i not in drop) for r in lines)

    before = rows()
    out, card4 = scorecard(work, "--refresh", "immediate-bn")
    expect("refresh immediate-bn (" in out and "): 4 cells" in out, f"refresh: {out}")
    expect(card4["streams"] == card["streams"], "a policy run alone gave other numbers")
    after = rows()
    expect(after == before, "refreshed rows differ:\n" + "\n".join(
        sorted(set(after) ^ set(before))))
    r = cell_results(work, "busy", SEEDS[0])
    expect("refreshed" in r["policies"]["immediate-bn"] and
           "refreshed" not in r["policies"]["immediate"], "refresh not recorded per policy")
    out, _ = scorecard(work, "--refresh", "immediate-bn")
    expect("): 0 cells" in out, f"second refresh did not skip: {out}")
    bad = subprocess.run([sys.executable, SCRIPT, "--suite", "suite.json", "--out", "card",
                          "--refresh", "etunr"], cwd=work, capture_output=True, text=True)
    expect(bad.returncode != 0 and "etunr" in bad.stderr, f"unknown policy: {bad.stderr}")


def check_tuned(work):
    """A policy with settings of its own at a load runs alone with them (the load's set
    patched), joins the cell, keeps them through --refresh, and a change of them reruns the
    cell."""
    with open(os.path.join(work, "suite.json")) as f:
        suite = json.load(f)
    suite["streams"] = suite["streams"][:1]
    suite["streams"][0]["tuned"] = {"busy": {"immediate": {"train": {"epochs_per_round": 1}}}}
    with open(os.path.join(work, "suite-tuned.json"), "w") as f:
        json.dump(suite, f)
    tuned = {"suite": "suite-tuned.json", "out": "card-tuned"}
    out, card = scorecard(work, "--loads", "busy", **tuned)
    expect("2 cells: 0 done, 2 to run" in out, f"tuned: {out}")
    md = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "scorecard_md.py"),
                         os.path.join(work, "card-tuned", "scorecard.json")], check=True,
                        capture_output=True, text=True).stdout
    expect('`immediate` runs with its own settings at this load' in md and
           '{"train": {"epochs_per_round": 1}}' in md, f"tuned settings not on the page:\n{md}")
    with open(os.path.join(work, "card-tuned", "scorecard.html")) as f:
        expect("immediate with its own settings" in f.read(), "tuned settings not in the html")
    cell = os.path.join(work, "card-tuned", "cells", "tiny", "busy", f"seed-{SEEDS[0]}")

    def epochs_by_policy():
        with open(os.path.join(cell, "rounds.csv")) as f:
            rows = [line.split(",") for line in f.read().splitlines()]
        at = rows[0].index("epochs")
        return {p: {r[at] for r in rows[1:] if r[0] == p} for p in ("immediate", "immediate-bn")}

    def command():
        with open(os.path.join(cell, "results.json")) as f:
            entry = json.load(f)["policies"]["immediate"]
        for mark in ("refreshed", "ran_alone"):
            if mark in entry:
                return " ".join(entry[mark]["command"])
        return ""

    expect(epochs_by_policy() == {"immediate": {"1"}, "immediate-bn": {"2"}},
           f"tuned epochs: {epochs_by_policy()}")
    expect('"batch_interval_s": 0.05' in command() and '"epochs_per_round": 1' in command(),
           f"tuned command: {command()}")
    scorecard(work, "--loads", "busy", "--refresh", "immediate", **tuned)
    expect(epochs_by_policy()["immediate"] == {"1"}, "refresh lost the tuned settings")
    suite["streams"][0]["tuned"]["busy"]["immediate"]["train"]["epochs_per_round"] = 3
    with open(os.path.join(work, "suite-tuned.json"), "w") as f:
        json.dump(suite, f)
    out, _ = scorecard(work, "--loads", "busy", "--no-run", **tuned)
    expect("2 cells: 0 done, 0 to run, 2 to retune" in out, f"changed settings: {out}")
    others = rows_of(os.path.join(cell, "rounds.csv"), "immediate-bn")
    out, _ = scorecard(work, "--loads", "busy", **tuned)
    expect(epochs_by_policy()["immediate"] == {"3"}, f"retuned: {epochs_by_policy()}")
    expect(rows_of(os.path.join(cell, "rounds.csv"), "immediate-bn") == others,
           "a retune reran a policy whose settings did not change")
    out, _ = scorecard(work, "--loads", "busy", "--no-run", **tuned)
    expect("2 cells: 2 done, 0 to run" in out, f"retuned cells not current: {out}")


def check_extend(work, card):
    """--extend carries the loads with no cell in OUT from an earlier card, marked, as they
    stand there; a load the suite now runs with other settings is not carried."""
    earlier = os.path.join("card", "scorecard.json")
    shutil.copytree(os.path.join(work, "card", "cells", "tiny", "standard"),  # as if run here
                    os.path.join(work, "card-ext", "cells", "tiny", "standard"))
    out, ext = scorecard(work, "--no-run", "--extend", earlier, out="card-ext")
    expect("4 cells: 2 done, 2 to run" in out, f"extend planned other cells: {out}")
    loads, before = ext["streams"]["tiny"]["loads"], card["streams"]["tiny"]["loads"]
    expect("carried_from" not in loads["standard"] and
           loads["standard"]["policies"] == before["standard"]["policies"], "standard rerun")
    origin = loads["busy"].get("carried_from", {})
    expect(origin.get("git_commit") and origin.get("command", "").startswith("scripts/") and
           {k: v for k, v in loads["busy"].items() if k != "carried_from"} == before["busy"],
           f"busy not carried as it stood: {sorted(loads['busy'])}")
    md = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "scorecard_md.py"),
                         os.path.join(work, "card-ext", "scorecard.json")], check=True,
                        capture_output=True, text=True).stdout
    expect(md.count("Carried over from the card of") == 1, f"carried load not named:\n{md}")

    with open(os.path.join(work, "suite.json")) as f:
        suite = json.load(f)
    suite["streams"][0]["loads"]["busy"]["protocol"]["batch_interval_s"] = 0.07
    with open(os.path.join(work, "suite-busier.json"), "w") as f:
        json.dump(suite, f)
    out, ext = scorecard(work, "--no-run", "--extend", earlier, suite="suite-busier.json",
                         out="card-ext")
    expect("not carried: tiny, busy" in out and
           "policies" not in ext["streams"]["tiny"]["loads"]["busy"], f"stale load carried: {out}")


def check_rehydrate(work, card):
    """--refresh with --extend, on an OUT with no cells, rebuilds the cells from the earlier
    card and reruns only the refreshed policy in them: the card it gives is the earlier one,
    and the other policies did not run."""
    out, again = scorecard(work, "--extend", os.path.join("card", "scorecard.json"),
                           "--refresh", "immediate-bn", out="card-re")
    expect("rehydrated 4 cells from the earlier card, 0 to run" in out and "): 4 cells" in out,
           f"rehydrate: {out}")
    for load in ("standard", "busy"):
        entry = again["streams"]["tiny"]["loads"][load]
        before = card["streams"]["tiny"]["loads"][load]
        origin = entry.get("rehydrated_from", {})
        expect(origin.get("rerun") == ["immediate-bn"] and origin.get("seeds") == 2 and
               "carried_from" not in entry, f"{load}: rehydration not recorded: {origin}")
        expect(close(entry["policies"], before["policies"]),
               f"{load}: a rebuilt card gave other numbers")
    cell = os.path.join(work, "card-re", "cells", "tiny", "standard", f"seed-{SEEDS[0]}")
    with open(os.path.join(cell, "results.json")) as f:
        entries = json.load(f)["policies"]
    rounds = os.path.join(cell, "rounds.csv")
    expect("refreshed" in entries["immediate-bn"] and "refreshed" not in entries["never"] and
           rows_of(rounds, "immediate-bn") and not rows_of(rounds, "never"),
           "a policy not refreshed ran in a rebuilt cell")
    md = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "scorecard_md.py"),
                         os.path.join(work, "card-re", "scorecard.json")], check=True,
                        capture_output=True, text=True).stdout
    expect(md.count("2 of these seeds rebuilt from the card of") == 2 and
           "rerun since: `immediate-bn`." in md, f"rebuilt loads not named:\n{md}")


def close(a, b):
    """Equal but for float rounding (a rebuilt cell keeps accuracy / 100 of the card's %)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def rows_of(path, policy):
    with open(path) as f:
        return [line for line in f.read().splitlines() if line.startswith(policy + ",")]


def main():
    work = tempfile.mkdtemp(prefix="etuner-scorecard-")
    try:
        write_fixture(work)
        out, card = scorecard(work)
        expect("4 cells: 0 done, 4 to run" in out, f"first run: {out}")
        expect(out.index("pretrained tiny") < out.index("[1/4]"), f"no pretrain first: {out}")
        expect("skip nodata: data not found" in out, f"no skip line: {out}")
        check_structure(card)
        check_statistics(work, card)
        expect(os.path.getsize(os.path.join(work, "card", "scorecard.html")) > 0, "no html")
        with open(os.path.join(work, "card", "scorecard.html")) as f:
            expect(f.read().count("<svg") == 2, "not one plot per stream and load")

        md = subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "scorecard_md.py"),
                             os.path.join(work, "card", "scorecard.json")], check=True,
                            capture_output=True, text=True).stdout
        for text in ("#### `tiny`, standard load (seeds 11, 12)", "| immediate | ",
                     "#### `nodata`: skipped", "| tiny | busy | 2 | no |"):
            expect(text in md, f"no '{text}' in the markdown:\n{md}")

        check_page(work, md)

        out, card2 = scorecard(work)
        expect("4 cells: 4 done, 0 to run" in out, f"second run did not skip: {out}")
        expect(card2["streams"] == card["streams"], "second run changed the card")

        shutil.rmtree(os.path.join(work, "card", "cells", "tiny", "busy", f"seed-{SEEDS[1]}"))
        os.makedirs(os.path.join(work, "card", "cells", "tiny", "busy", f"seed-{SEEDS[0]}.tmp"))
        out, _ = scorecard(work, "--loads", "standard")
        expect("2 cells: 2 done, 0 to run" in out, f"--loads standard planned more: {out}")
        out, card3 = scorecard(work)
        expect("4 cells: 3 done, 1 to run" in out, f"removed cell not rerun: {out}")
        expect(card3["streams"]["tiny"]["loads"]["busy"]["seeds"] == SEEDS, "cell not back")
        expect(card3["streams"] == card["streams"], "a rerun cell gave other numbers")
        check_refresh(work, card)
        check_tuned(work)
        check_extend(work, card)
        check_rehydrate(work, card)
        print("scorecard ok")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
