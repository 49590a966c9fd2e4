#!/usr/bin/env python3
"""scorecard.py: every stream of a suite, over several timelines and loads, against every policy.

  scripts/scorecard.py --suite bench/suites/standard.json --out out/scorecard -j 2

Run from the repository root (stream specs and data roots are relative to it, as for
`etuner bench`). A cell is one (stream, load, seed): one `etuner bench --seeds <seed>` process
with every policy of the suite, so the policies of a cell share one timeline and their
differences are paired. A cell is written to a temporary folder and renamed when complete,
so a stopped run (Ctrl-C, a killed machine) leaves only whole cells behind; the next run
skips them and runs the rest. A cell whose command changed (other policies, load or
threads) is run again. Extending a card = adding seeds (or streams) to the suite and running
again with the same --out.

`--refresh etuner` reruns one policy (or several, comma-separated) alone in every done cell
and puts its results in place of the cell's own: each policy replays the cell's timeline
from the same deployed model in its own loop, so its results do not depend on the others
run beside it (a test checks this), and a changed default costs one policy's runs, not the
whole card. Each refreshed entry records the commit and command it came from; a cell
already refreshed by a binary of the same commit is skipped.

A stream may give a policy its own settings at a load (`"tuned": {"busy": {"immediate-bn":
{"train": {"epochs_per_round": 2}}}}`, patched over the load's `set` as `--set` does): the
best point of that policy's grid on the tuning timelines, so a baseline is not held to
settings chosen for another load. Such a policy runs alone on the cell's timeline and its
results join the cell's (entry `ran_alone`); `--refresh` keeps its settings, and a change of
them reruns only that policy in the finished cells.

`--extend CARD` carries over, from an earlier scorecard.json (a committed one: run folders
are not committed, so they do not outlive a session), every stream and load that has no done
cell in OUT, as it stands there (entry `carried_from`: that card's date, commits and command).
Only an entry run with the settings the suite asks now is carried; a load whose settings
changed is left empty, to be run. So a session extends the committed card by running only
the streams and loads it adds or changes. With `--refresh P`, the cells of such loads are
rebuilt from the earlier card instead (`rehydrated_from`: each policy's accuracy and modeled
costs per seed, what the card reads of a cell) and only P reruns in them.

Writes OUT/scorecard.json (per stream, load and policy: mean accuracy, the paired difference
against immediate and immediate-bn with its 95% t interval, ratios of modeled seconds and
energy, and the suite's targets checked for its target policy) and OUT/scorecard.html
(scripts/scorecard_html.py). scripts/scorecard_md.py turns the json into markdown tables.

Python 3 standard library only.
"""
import argparse
import concurrent.futures as futures
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scorecard_html  # noqa: E402  (next to this file)

SCHEMA_VERSION = 1
# Two-sided 95% Student t quantiles for df 1..30 (the same table as src/harness/paired.cpp).
T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]
BASELINES = ["immediate", "immediate-bn"]
COSTS = {"modeled_seconds": "modeled_finetune_seconds",
         "modeled_energy_j": "modeled_finetune_energy_joules"}
# Where a spec with data.root "" finds its data (src/data: default_root); ETUNER_DATA_ROOT
# holding the entry wins, as in etuner.
DEFAULT_ROOTS = {"fashion-mnist": ("fashion-mnist", "/usr/share/datasets/fashion-mnist"),
                 "cifar10-bin": ("cifar-10-batches-bin", "data/cifar-10-batches-bin"),
                 "cifar100-bin": ("cifar-100-binary", "data/cifar-100-binary"),
                 "imagefolder": ("cifar10-jpg", "../shared/data/cifar10-jpg")}


# ---------------------------------------------------------------------------- the suite

def load_suite(path):
    with open(path) as f:
        suite = json.load(f)
    for key in ("policies", "seed_sets", "streams"):
        if key not in suite:
            raise SystemExit(f"{path}: no '{key}'")
    for s in suite["streams"]:
        if s["seeds"] not in suite["seed_sets"]:
            raise SystemExit(f"{path}: stream {s['name']}: no seed set '{s['seeds']}'")
        for load, by_policy in s.get("tuned", {}).items():
            unknown = [p for p in by_policy if p not in suite["policies"]]
            if load not in s["loads"] or unknown:
                raise SystemExit(f"{path}: stream {s['name']}: tuned '{load}' "
                                 f"{'is not a load' if load not in s['loads'] else unknown}")
    return suite


def merge_patch(base, patch):
    """RFC 7386, as `etuner bench --set` applies it."""
    if not isinstance(patch, dict):
        return patch
    out = dict(base) if isinstance(base, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def data_root(stream):
    """The folder the stream's data comes from (the suite's 'data' wins over the spec's)."""
    with open(stream["spec"]) as f:
        data = json.load(f).get("data", {})
    root = stream.get("data") or data.get("root", "")
    if root:
        return root
    entry, default = DEFAULT_ROOTS.get(data.get("source", ""), ("", ""))
    env = os.environ.get("ETUNER_DATA_ROOT")
    if env and entry and os.path.exists(os.path.join(env, entry)):
        return os.path.join(env, entry)
    return default


def cells_of(suite, stream):
    for load, overrides in stream["loads"].items():
        for seed in suite["seed_sets"][stream["seeds"]]:
            yield {"stream": stream["name"], "load": load, "seed": seed,
                   "spec": stream["spec"], "data": stream.get("data"), "set": overrides,
                   "tuned": tuned_at(stream, load)}


def tuned_at(stream, load):
    """The policies with settings of their own at `load`, and those settings."""
    return stream.get("tuned", {}).get(load, {})


def policy_groups(cell, policies):
    """The bench runs that give `policies` on a cell: those without settings of their own
    together at the load's set, each tuned one alone at the load's set patched with its own."""
    tuned = cell["tuned"]
    plain = [p for p in policies if p not in tuned]
    return ([(plain, cell["set"])] if plain else []) + \
        [([p], merge_patch(cell["set"], tuned[p])) for p in policies if p in tuned]


# ---------------------------------------------------------------------------- running cells

def cell_dir(out, cell):
    return os.path.join(out, "cells", cell["stream"], cell["load"], f"seed-{cell['seed']}")


def cell_command(etuner, suite, cell, out_dir, policies, overrides):
    cmd = [etuner, "bench", "--stream", cell["spec"], "--policies", ",".join(policies),
           "--seeds", str(cell["seed"]), "--threads", str(suite.get("threads", 1)), "--quiet",
           "--out", out_dir]
    if overrides:
        cmd += ["--set", json.dumps(overrides, sort_keys=True)]
    if cell["data"]:
        cmd += ["--data", cell["data"]]
    return cmd


def cell_key(suite, cell):
    """What makes a finished cell reusable: everything in its command but paths."""
    key = {"spec": cell["spec"], "data": cell["data"], "set": cell["set"], "seed": cell["seed"],
           "policies": suite["policies"], "threads": suite.get("threads", 1)}
    if cell["tuned"]:  # absent otherwise, so cells run before tuned settings existed stay done
        key["tuned"] = cell["tuned"]
    return key


def stored_key(out, cell):
    """The key a finished cell was run under, or None."""
    d = cell_dir(out, cell)
    try:
        with open(os.path.join(d, "cell.json")) as f:
            done = json.load(f)
    except (OSError, ValueError):
        return None
    return done.get("key") if os.path.exists(os.path.join(d, "results.json")) else None


def cell_done(out, suite, cell):
    return stored_key(out, cell) == cell_key(suite, cell)


def retune_policies(before, now, policies):
    """Between a finished cell's key and the current one: the policies whose own settings
    changed, where nothing else did (only they need to run again)."""
    if before is None or before == now:
        return []
    before, now = dict(before), dict(now)
    was, want = before.pop("tuned", {}), now.pop("tuned", {})
    return [p for p in policies if was.get(p) != want.get(p)] if before == now else []


def failure(rc, cmd, output):
    """What a failed process prints: its exit status, its command and the end of its output."""
    return f"exit {rc}: {' '.join(cmd)}\n{output[-2000:]}"


def run_bench(etuner, suite, cell, tmp, policies, overrides):
    """One bench process of the cell's timeline into a fresh `tmp`; its command, and the
    error (exit status and the log's tail) or None."""
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    cmd = cell_command(etuner, suite, cell, tmp, policies, overrides)
    with open(os.path.join(tmp, "bench.log"), "w") as log:
        rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    if rc == 0:
        return cmd, None
    with open(os.path.join(tmp, "bench.log")) as log:
        return cmd, failure(rc, cmd, log.read())


def cell_name(cell):
    return f"{cell['stream']}/{cell['load']}/seed-{cell['seed']}"


def run_cell(etuner, out, suite, cell):
    """One bench process into a temporary folder, renamed into place when it succeeded."""
    final = cell_dir(out, cell)
    tmp = final + ".tmp"
    start = datetime.datetime.now(datetime.timezone.utc)
    (policies, overrides), *alone = policy_groups(cell, suite["policies"])
    cmd, error = run_bench(etuner, suite, cell, tmp, policies, overrides)
    if error:
        return cell, error
    seed_out = os.path.join(tmp, f"seed-{cell['seed']}")
    for name in os.listdir(seed_out):  # seed-<S>/results.json ... up one level
        os.rename(os.path.join(seed_out, name), os.path.join(tmp, name))
    os.rmdir(seed_out)
    seconds = (datetime.datetime.now(datetime.timezone.utc) - start).total_seconds()
    with open(os.path.join(tmp, "cell.json"), "w") as f:
        json.dump({"key": cell_key(suite, cell), "command": cmd, "wall_s": round(seconds, 1),
                   "started": start.strftime("%Y-%m-%dT%H:%M:%SZ")}, f, indent=1)
    for policies, overrides in alone:
        error = run_into(etuner, suite, cell, tmp, policies, overrides, "ran_alone")
        if error:
            return cell, error
    shutil.rmtree(final, ignore_errors=True)  # a stale cell of another command
    os.rename(tmp, final)
    return cell, None


def binary_commit(etuner):
    """The commit an etuner binary was built from: `etuner --version` says 0.1.0 (<commit>)."""
    text = subprocess.check_output([etuner, "--version"], text=True).strip()
    return text.split("(", 1)[1].rstrip(")") if "(" in text else text


def refreshed_by(out, cell, policy):
    try:
        with open(os.path.join(cell_dir(out, cell), "cell.json")) as f:
            return json.load(f).get("refreshed", {}).get(policy, {}).get("git")
    except (OSError, ValueError):
        return None


def replace_csv_rows(path, new_path, policies):
    """The rows of `policies` (first column) from new_path in place of those in path (a
    rehydrated cell has none: then only theirs)."""
    if not os.path.exists(path):
        shutil.copyfile(new_path, path)
        return
    with open(path) as f:
        old = f.read().splitlines(keepends=True)
    with open(new_path) as f:
        new = f.read().splitlines(keepends=True)
    keep = [line for line in old[1:] if line.split(",", 1)[0] not in policies]
    write_atomically(path, "".join(old[:1] + keep + new[1:]))


def write_atomically(path, text):
    with open(path + ".part", "w") as f:
        f.write(text)
    os.replace(path + ".part", path)


def refresh_cell(etuner, out, suite, cell, policies, mark_as="refreshed"):
    """`policies` rerun alone on a done cell's timeline; their results replace the cell's."""
    for group, overrides in policy_groups(cell, policies):
        error = run_into(etuner, suite, cell, cell_dir(out, cell), group, overrides, mark_as)
        if error:
            return cell, error
    return cell, None


def retune_cell(etuner, out, suite, cell, policies):
    """The policies whose own settings changed, rerun with them; the cell is then current."""
    cell, error = refresh_cell(etuner, out, suite, cell, policies, "ran_alone")
    if not error:
        path = os.path.join(cell_dir(out, cell), "cell.json")
        with open(path) as f:
            done = json.load(f)
        done["key"] = cell_key(suite, cell)
        write_atomically(path, json.dumps(done, indent=1))
    return cell, error


def retune_cells(etuner, out, suite, retune, jobs):
    return in_parallel(jobs, "retune",
                       [(retune_cell, etuner, out, suite, c, ps) for c, ps in retune])


def in_parallel(jobs, label, calls):
    """Runs `calls` (a function and its arguments; each returns the cell and its error or
    None) on `jobs` threads, printing each cell as it ends; the names of those that failed."""
    failures = []
    with futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for i, f in enumerate(futures.as_completed([pool.submit(*call) for call in calls])):
            cell, error = f.result()
            name = cell_name(cell)
            status = "FAILED " + error if error else "done"
            print(f"[{i + 1}/{len(calls)}] {label} {name}: {status}", flush=True)
            if error:
                failures.append(name)
    return failures


def run_into(etuner, suite, cell, final, policies, overrides, mark_as):
    """`policies` run in their own bench process on the cell's timeline; their entries and
    csv rows replace those in the cell folder `final`, marked `mark_as` with the run's commit
    and command. The error, or None."""
    tmp = final + ".alone"
    cmd, error = run_bench(etuner, suite, cell, tmp, policies, overrides)
    if error:
        return error
    seed_out = os.path.join(tmp, f"seed-{cell['seed']}")
    with open(os.path.join(seed_out, "results.json")) as f:
        new = json.load(f)
    with open(os.path.join(final, "results.json")) as f:
        results = json.load(f)
    with open(os.path.join(final, "cell.json")) as f:
        done = json.load(f)
    for p in policies:
        mark = {"git": new.get("git"), "created_utc": new.get("created_utc"), "command": cmd}
        results["policies"][p] = dict(new["policies"][p], **{mark_as: mark})
        for other in ("refreshed", "ran_alone"):  # the entry's earlier run is gone
            done.get(other, {}).pop(p, None)
        done.setdefault(mark_as, {})[p] = mark
    for name in ("rounds.csv", "requests.csv"):
        replace_csv_rows(os.path.join(final, name), os.path.join(seed_out, name), policies)
    write_atomically(os.path.join(final, "results.json"), json.dumps(results, indent=2))
    write_atomically(os.path.join(final, "cell.json"), json.dumps(done, indent=1))
    shutil.rmtree(tmp)
    return None


def refresh_cells(etuner, out, suite, cells, policies, jobs):
    commit = binary_commit(etuner)
    todo = [c for c in cells if cell_done(out, suite, c) and
            any(refreshed_by(out, c, p) != commit for p in policies)]
    print(f"refresh {','.join(policies)} ({commit}): {len(todo)} cells", flush=True)
    return in_parallel(jobs, "refresh",
                       [(refresh_cell, etuner, out, suite, c, policies) for c in todo])


def pretrain(etuner, suite, cell):
    """`etuner pretrain` for the cell's stream: trains and caches the deployed model every
    cell of the stream loads (seconds when cached). The cell, and the error or None."""
    cmd = [etuner, "pretrain", "--stream", cell["spec"], "--threads",
           str(suite.get("threads", 1)), "--quiet"]
    if cell["data"]:
        cmd += ["--data", cell["data"]]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return cell, None if proc.returncode == 0 else failure(proc.returncode, cmd, proc.stdout)


def run_cells(etuner, out, suite, todo, jobs):
    """Runs todo with `jobs` processes. Each stream's deployed model is pretrained (and
    cached) once before its cells start: two cells pretraining it at once would write one
    cache file together."""
    by_stream = {}
    for c in todo:
        by_stream.setdefault(c["stream"], []).append(c)
    failures, finished = [], 0
    with futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        pending = {pool.submit(pretrain, etuner, suite, cells[0]): "pretrain"
                   for cells in by_stream.values()}
        while pending:
            done, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
            for f in done:
                cell, error = f.result()
                if pending.pop(f) == "pretrain":
                    cells = by_stream[cell["stream"]]
                    if error:
                        print(f"pretrain {cell['stream']}: FAILED {error}", flush=True)
                        failures += [cell_name(c) for c in cells]
                        continue
                    print(f"pretrained {cell['stream']}", flush=True)
                    pending.update({pool.submit(run_cell, etuner, out, suite, c): "cell"
                                    for c in cells})
                    continue
                finished += 1
                name = cell_name(cell)
                print(f"[{finished}/{len(todo)}] {name}: {'FAILED ' + error if error else 'done'}",
                      flush=True)
                if error:
                    failures.append(name)
    return failures


# ---------------------------------------------------------------------------- statistics

def mean(xs):
    return sum(xs) / len(xs)


def paired(values, baseline):
    """Per-seed differences, their mean, sd and 95% t interval (none below two seeds)."""
    d = [v - b for v, b in zip(values, baseline)]
    out = {"per_seed": d, "mean": mean(d), "sd": None, "ci95_half_width": None, "ci95": None}
    if len(d) >= 2:
        sd = math.sqrt(sum((x - out["mean"]) ** 2 for x in d) / (len(d) - 1))
        t = T975[len(d) - 2] if len(d) - 1 <= len(T975) else 1.96
        hw = t * sd / math.sqrt(len(d))
        out.update(sd=sd, ci95_half_width=hw, ci95=[out["mean"] - hw, out["mean"] + hw])
    return out


def ratio(values, baseline):
    """Mean of the per-seed ratios (as seeds.json); none when a value is missing or a
    baseline is not positive on some seed."""
    if any(v is None or b is None or b <= 0 for v, b in zip(values, baseline)):
        return None
    return mean([v / b for v, b in zip(values, baseline)])


def field(results, policy, name, scale=1.0):
    v = results["policies"][policy].get(name)
    return None if v is None else scale * v


def policy_card(runs, policy, policies):
    acc = [field(r, policy, "avg_inference_accuracy", 100) for r in runs]
    card = {"accuracy_pct": {"per_seed": acc, "mean": mean(acc)}}
    for name, key in COSTS.items():
        vals = [field(r, policy, key) for r in runs]
        card[name] = None if None in vals else mean(vals)
        card[f"{name}_per_seed"] = vals  # what a cell gives the card (see rehydrate)
    for base in BASELINES:
        if base not in policies:
            continue
        base_acc = [field(r, base, "avg_inference_accuracy", 100) for r in runs]
        card[f"delta_pp_vs_{base}"] = paired(acc, base_acc)
        for name, key in COSTS.items():
            card[f"{name}_x_{base}"] = ratio([field(r, policy, key) for r in runs],
                                             [field(r, base, key) for r in runs])
    return card


def pareto(policies):
    """Names on the front of (max accuracy, min modeled energy): no other policy is at least
    as accurate and as cheap and better in one."""
    pts = {p: (c["accuracy_pct"]["mean"], c["modeled_energy_j"]) for p, c in policies.items()
           if c["modeled_energy_j"] is not None}
    front = []
    for p, (a, e) in pts.items():
        if not any(a2 >= a and e2 <= e and (a2 > a or e2 < e) for a2, e2 in pts.values()):
            front.append(p)
    return sorted(front, key=lambda p: pts[p][1])


# ---------------------------------------------------------------------------- targets

def check(name, target, value, ok, margin):
    return {"name": name, "target": target, "value": value,
            "pass": None if value is None else ok, "margin": margin}


def target_checks(runs, policies, cards, targets):
    """The suite's targets for its target policy; margin > 0 passes by, < 0 misses by."""
    p = targets.get("policy", "etuner")
    if p not in cards or not all(b in cards for b in BASELINES):
        return None
    c = cards[p]
    d_bn = c["delta_pp_vs_immediate-bn"]["mean"]
    d_imm = c["delta_pp_vs_immediate"]["mean"]
    within, gain = targets["within_pp_of_immediate_bn"], targets["min_gain_pp_over_immediate"]
    s_max, j_max = targets["max_modeled_seconds_x_immediate_bn"], targets[
        "max_modeled_energy_x_immediate_bn"]
    s, j = c["modeled_seconds_x_immediate-bn"], c["modeled_energy_j_x_immediate-bn"]
    out = [check("accuracy vs immediate-bn", f">= -{within} pp", d_bn, d_bn >= -within,
                 d_bn + within),
           check("gain over immediate", f">= +{gain} pp", d_imm, d_imm >= gain, d_imm - gain),
           check("modeled seconds x immediate-bn", f"<= {s_max}x", s,
                 s is not None and s <= s_max, None if s is None else s_max - s),
           check("modeled energy x immediate-bn", f"<= {j_max}x", j,
                 j is not None and j <= j_max, None if j is None else j_max - j)]
    out.append(dominance_check(runs, policies, cards, p))
    return {"policy": p, "checks": out, "pass": all(x["pass"] for x in out)}


def dominance_check(runs, policies, cards, p):
    """No other policy both more accurate than p by more than the paired interval's half-width
    (q - p over the same seeds) and cheaper in modeled energy."""
    acc = lambda q: [field(r, q, "avg_inference_accuracy", 100) for r in runs]  # noqa: E731
    mine = cards[p]["modeled_energy_j"]
    better = []
    for q in policies:
        if q == p or cards[q]["modeled_energy_j"] is None or mine is None:
            continue
        d = paired(acc(q), acc(p))
        if d["ci95_half_width"] is not None and d["mean"] > d["ci95_half_width"] and \
                cards[q]["modeled_energy_j"] < mine:
            better.append({"policy": q, "delta_pp": d["mean"], "ci95_half_width":
                           d["ci95_half_width"], "modeled_energy_j": cards[q]["modeled_energy_j"]})
    return {"name": "no policy surely more accurate and cheaper", "target": "none",
            "value": better, "pass": not better, "margin": None}


# ---------------------------------------------------------------------------- the card

def read_runs(out, suite, stream, load):
    runs, seeds, commits = [], [], set()
    for c in cells_of(suite, stream):
        if c["load"] != load or not cell_done(out, suite, c):
            continue
        with open(os.path.join(cell_dir(out, c), "results.json")) as f:
            r = json.load(f)
        runs.append(r)
        seeds.append(c["seed"])
        if "rehydrated_from" in r:
            commits |= set(r["rehydrated_from"]["etuner_commits"])
        else:
            commits.add(str(r.get("git")))
        commits |= {str(e["refreshed"]["git"]) for e in r["policies"].values() if "refreshed" in e}
    return runs, seeds, commits


def rehydration(runs):
    """Where cells were rebuilt from an earlier card: that card, and the policies rerun
    since in every such cell (the others stand as measured then)."""
    rebuilt = [r for r in runs if "rehydrated_from" in r]
    if not rebuilt:
        return {}
    origin = {k: v for k, v in rebuilt[0]["rehydrated_from"].items() if k != "etuner_commits"}
    rerun = [p for p in rebuilt[0]["policies"]
             if all("refreshed" in r["policies"][p] for r in rebuilt)]
    return {"rehydrated_from": dict(origin, seeds=len(rebuilt), rerun=rerun)}


def stream_card(out, suite, stream, skipped):
    card = {"spec": stream["spec"], "seeds_planned": suite["seed_sets"][stream["seeds"]],
            "loads": {}}
    if stream["name"] in skipped:
        card["skipped"] = skipped[stream["name"]]
    for load, overrides in stream["loads"].items():
        runs, seeds, commits = read_runs(out, suite, stream, load)
        entry = {"set": overrides, "seeds": seeds, "etuner_commits": sorted(commits)}
        entry.update(rehydration(runs))
        if tuned_at(stream, load):
            entry["tuned"] = tuned_at(stream, load)
        if runs:
            pols = suite["policies"]
            cards = {p: policy_card(runs, p, pols) for p in pols}
            entry["policies"] = cards
            entry["pareto_front"] = pareto(cards)
            entry["targets"] = target_checks(runs, pols, cards, suite.get("targets", {}))
        card["loads"][load] = entry
    return card


def machine():
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return {"uname": " ".join(platform.uname()), "nproc": os.cpu_count(), "cpu": model}


def git_commit():
    try:
        here = os.path.dirname(os.path.abspath(__file__))  # the scripts' checkout, not cwd
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=here,
                                       stderr=subprocess.DEVNULL, text=True).strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def earlier_entry(earlier_card, name, load, settings, tuned, policies):
    """The earlier card's entry for (name, load) if it was run with the settings, tuned
    settings and policies asked now; None (saying why) otherwise."""
    before = earlier_card["streams"].get(name, {}).get("loads", {}).get(load)
    if not before or "policies" not in before:
        return None
    if (before["set"], before.get("tuned"), list(before["policies"])) != (settings, tuned,
                                                                           policies):
        print(f"not carried: {name}, {load} ran with other settings or policies in the "
              f"earlier card", flush=True)
        return None
    return before


def origin_of(earlier_card, before):
    """Where an entry was measured: the card it was first carried from, or this one."""
    here = {k: earlier_card.get(k) for k in ("date", "git_commit", "command")}
    return before.get("carried_from", here)


def carried(entry, earlier_card, name, load, policies):
    """The earlier card's entry for (name, load), if it was run with the settings asked now."""
    if "policies" in entry:
        return entry
    before = earlier_entry(earlier_card, name, load, entry["set"], entry.get("tuned"), policies)
    if before is None:
        return entry
    return dict(before, carried_from=origin_of(earlier_card, before))


def rehydrated_results(before, seed, origin):
    """A cell's results.json as far as the card reads it (each policy's accuracy and modeled
    costs on that seed), from an earlier card's entry; None if the entry lacks per-seed costs
    (cards before 2026-12-07 kept only their means) or the seed."""
    if seed not in before["seeds"]:
        return None
    i, policies = before["seeds"].index(seed), {}
    for p, c in before["policies"].items():
        if any(f"{name}_per_seed" not in c for name in COSTS):
            return None
        policies[p] = {key: c[f"{name}_per_seed"][i] for name, key in COSTS.items()}
        policies[p]["avg_inference_accuracy"] = c["accuracy_pct"]["per_seed"][i] / 100
    return {"rehydrated_from": dict(origin, etuner_commits=before["etuner_commits"]),
            "policies": policies}


def rehydrate(out, suite, todo, earlier_card):
    """The cells of `todo` whose (stream, load) the earlier card has, with the settings
    asked now and per-seed costs, are rebuilt from it as done cells, so that --refresh reruns
    only its policies there and the others stand as measured then. The cells left to run."""
    streams = {s["name"]: s for s in suite["streams"]}
    entries = {}  # (stream, load): the earlier entry or None, looked up (and said) once
    left, rebuilt = [], 0
    for c in todo:
        s, at = streams[c["stream"]], (c["stream"], c["load"])
        if at not in entries:
            entries[at] = earlier_entry(earlier_card, *at, s["loads"][c["load"]],
                                        tuned_at(s, c["load"]) or None, suite["policies"])
        before = entries[at]
        results = before and rehydrated_results(before, c["seed"],
                                                origin_of(earlier_card, before))
        if not results:
            left.append(c)
            continue
        d = cell_dir(out, c)
        shutil.rmtree(d, ignore_errors=True)  # a stale cell of another command
        os.makedirs(d)
        write_atomically(os.path.join(d, "results.json"), json.dumps(results, indent=2))
        write_atomically(os.path.join(d, "cell.json"), json.dumps({"key": cell_key(suite, c)}))
        rebuilt += 1
    print(f"rehydrated {rebuilt} cells from the earlier card, {len(left)} to run", flush=True)
    return left


def extend_with(card, earlier_card, suite):
    for s in suite["streams"]:
        stream = card["streams"][s["name"]]
        for load, entry in stream["loads"].items():
            stream["loads"][load] = carried(entry, earlier_card, s["name"], load,
                                            suite["policies"])
        if any("carried_from" in e for e in stream["loads"].values()):
            stream.pop("skipped", None)  # the data is missing here, not the measurement
    return card


def scorecard(out, suite, suite_path, skipped, argv):
    return {"schema_version": SCHEMA_VERSION,
            "suite": suite_path, "suite_name": suite.get("name"),
            "command": " ".join(["scripts/scorecard.py"] + argv),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "machine": machine(), "git_commit": git_commit(),
            "policies": suite["policies"], "baselines": BASELINES,
            "targets": suite.get("targets"),
            "ratios": "mean over seeds of the per-seed ratio (policy / baseline), as seeds.json",
            "streams": {s["name"]: stream_card(out, suite, s, skipped) for s in suite["streams"]}}


# ---------------------------------------------------------------------------- main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", default="bench/suites/standard.json")
    ap.add_argument("--out", required=True, help="card folder (cells/, scorecard.json/.html)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="cells run at once")
    ap.add_argument("--etuner", default="build/etuner", help="the etuner binary")
    ap.add_argument("--streams", help="comma-separated stream names (default: all)")
    ap.add_argument("--loads", help="comma-separated loads to run or refresh (default: all)")
    ap.add_argument("--no-run", action="store_true", help="only aggregate the cells done")
    ap.add_argument("--refresh", help="comma-separated policies to rerun alone in the done cells")
    ap.add_argument("--extend", metavar="CARD",
                    help="an earlier scorecard.json: its streams and loads with no cell in OUT "
                         "are carried over")
    return ap.parse_args(argv)


def plan(args, suite):
    """Cells to run, and the streams skipped for missing data (with the reason)."""
    wanted = set(args.streams.split(",")) if args.streams else None
    loads = set(args.loads.split(",")) if args.loads else None
    todo, retune, skipped, total, selected = [], [], {}, 0, []
    for s in suite["streams"]:
        if wanted is not None and s["name"] not in wanted:
            continue
        root = data_root(s)
        if not os.path.exists(root):
            skipped[s["name"]] = f"data not found at {root}"
            print(f"skip {s['name']}: data not found at {root} (see docs/data.md)", flush=True)
            continue
        cells = [c for c in cells_of(suite, s) if loads is None or c["load"] in loads]
        selected += cells
        total += len(cells)
        for c in cells:
            before, now = stored_key(args.out, c), cell_key(suite, c)  # one read per cell
            if before == now:
                continue
            policies = retune_policies(before, now, suite["policies"])
            if policies:
                retune.append((c, policies))
            else:
                todo.append(c)
    rest = f", {len(retune)} to retune" if retune else ""
    print(f"{total} cells: {total - len(todo) - len(retune)} done, {len(todo)} to run{rest}",
          flush=True)
    return todo, retune, skipped, selected


def main(argv):
    args = parse_args(argv)
    suite = load_suite(args.suite)
    todo, retune, skipped, selected = plan(args, suite)
    refresh = args.refresh.split(",") if args.refresh else []
    unknown = [p for p in refresh if p not in suite["policies"]]
    if unknown:
        raise SystemExit(f"--refresh: {', '.join(unknown)} not among the suite's policies")
    earlier_card = None
    if args.extend:
        with open(args.extend) as f:
            earlier_card = json.load(f)
    if refresh and earlier_card and todo and not args.no_run:
        todo = rehydrate(args.out, suite, todo, earlier_card)
    failures = []
    if (todo or retune or refresh) and not args.no_run:
        etuner = os.path.abspath(args.etuner)
        if not os.access(etuner, os.X_OK):
            raise SystemExit(f"no etuner binary at {etuner} (--etuner)")
        try:
            if todo:
                failures = run_cells(etuner, args.out, suite, todo, max(1, args.jobs))
            if retune:
                failures += retune_cells(etuner, args.out, suite, retune, max(1, args.jobs))
            if refresh:
                earlier = [c for c in selected if c not in todo]  # those just run are current
                failures += refresh_cells(etuner, args.out, suite, earlier, refresh,
                                          max(1, args.jobs))
        except KeyboardInterrupt:  # the cells' processes got the signal too
            print("stopped: finished cells are kept; the same command resumes", file=sys.stderr)
            return 130
    card = scorecard(args.out, suite, args.suite, skipped, argv)
    if earlier_card:
        card = extend_with(card, earlier_card, suite)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "scorecard.json"), "w") as f:
        json.dump(card, f, indent=1)
    with open(os.path.join(args.out, "scorecard.html"), "w") as f:
        f.write(scorecard_html.page(card))
    print(f"scorecard: {os.path.join(args.out, 'scorecard.json')}, scorecard.html")
    if failures:
        print(f"{len(failures)} cells failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
