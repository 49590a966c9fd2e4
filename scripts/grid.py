#!/usr/bin/env python3
"""Grid search of a stream's training settings for the best *immediate* fine-tuning.

Runs on a tuning copy of the stream (another seed), never on the published one, and only
ever scores `immediate`: our policies then run with whatever wins. Prints a markdown table.

  scripts/grid.py bench/streams/fmnist-ni.json --seed 101 --lr 0.003,0.01,0.03 \
      --epochs 1,2,3 --replay 32,128 [--data ROOT] [--etuner build/etuner]
"""
import argparse
import itertools
import json
import os
import subprocess
import sys
import time


def run(etuner, stream, out, overrides, policies, data):
    cmd = [etuner, "bench", "--stream", stream, "--policies", policies, "--out", out,
           "--quiet", "--set", json.dumps(overrides)]
    if data:
        cmd += ["--data", data]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "results.json")) as f:
        return json.load(f)["policies"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("stream")
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--pretrain-seed", type=int, default=1,
                    help="the published stream's pretraining seed: the tuning copy shares its "
                         "deployed model, and only the stream's samples differ")
    ap.add_argument("--lr", default="0.003,0.01,0.03")
    ap.add_argument("--epochs", default="1,2,3")
    ap.add_argument("--replay", default="32,128")
    ap.add_argument("--data", default="")
    ap.add_argument("--etuner", default="build/etuner")
    ap.add_argument("--out", default="out/grid")
    a = ap.parse_args()
    name = os.path.splitext(os.path.basename(a.stream))[0]
    never = run(a.etuner, a.stream, f"{a.out}/{name}-never", {"seed": a.seed, "pretrain": {"seed": a.pretrain_seed}}, "never", a.data)
    base = never["never"]["avg_inference_accuracy"]
    rows = []
    grid = itertools.product([float(x) for x in a.lr.split(",")],
                             [int(x) for x in a.epochs.split(",")],
                             [int(x) for x in a.replay.split(",")])
    for lr, ep, rep in grid:
        o = {"seed": a.seed, "pretrain": {"seed": a.pretrain_seed}, "train": {"lr": lr, "epochs_per_round": ep, "replay_samples": rep}}
        t0 = time.time()
        p = run(a.etuner, a.stream, f"{a.out}/{name}-{lr}-{ep}-{rep}", o, "immediate", a.data)
        imm = p["immediate"]
        rows.append((imm["avg_inference_accuracy"], lr, ep, rep, imm["finetune_seconds"],
                     time.time() - t0))
        print(f"lr={lr} epochs={ep} replay={rep}: {100*rows[-1][0]:.2f}%", file=sys.stderr)
    rows.sort(reverse=True)
    print(f"Grid for `{name}` on the tuning copy (seed {a.seed}); never = {100*base:.2f}%\n")
    print("| lr | epochs/round | replay | immediate acc | vs never | tune s |")
    print("|---|---|---|---|---|---|")
    for acc, lr, ep, rep, ts, _ in rows:
        print(f"| {lr} | {ep} | {rep} | {100*acc:.2f}% | {100*(acc-base):+.2f} | {ts:.1f} |")
    best = rows[0]
    print(f"\nBest: lr {best[1]}, epochs_per_round {best[2]}, replay_samples {best[3]}")


if __name__ == "__main__":
    main()
