#!/usr/bin/env python3
"""Prints a markdown table of one or more bench results directories (for docs/results.md).

  scripts/results_table.py out/fmnist-ni out/fmnist-nc
"""
import json
import os
import sys


def fmt_ratio(v, base):
    return f"{v / base:.2f}x" if base else "-"


def flops(p):
    """Fine-tuning FLOPs: rounds, plus the decisions' forward passes (results since 2026-11-29)."""
    return p["train_flops"] + p.get("decision_flops", 0)


def lag(p):
    """Labeled samples the answering version had not consumed, per request (since 2026-11-29)."""
    return f"{p['mean_lag_samples']:.1f}" if "mean_lag_samples" in p else "-"


def ordered(r):
    """Policies in the order the command listed them (results.json keeps them sorted)."""
    words = r.get("command", "").split()
    listed = words[words.index("--policies") + 1].split(",") if "--policies" in words else []
    names = list(r["policies"])
    return [n for n in listed if n in names] + [n for n in names if n not in listed]


def table(d):
    with open(os.path.join(d, "results.json")) as f:
        r = json.load(f)
    ps = r["policies"]
    imm = ps.get("immediate")
    spec = r["spec"]
    t = spec.get("train", {})
    print(f"### `{r['stream']}` ({r['model']}, {r['protocol']}, profile {r['device_profile']})\n")
    print(f"Training settings: lr {t.get('lr')}, epochs_per_round {t.get('epochs_per_round')}, "
          f"replay_samples {t.get('replay_samples')}, batch {t.get('batch_size')}. "
          f"Machine: {r['machine']['hostname']}, {r['machine']['cpus']} cpus, "
          f"{r['machine']['threads']} threads, LibTorch {r['machine']['torch']}; "
          f"etuner {r['git']}; {r['created_utc']}.\n")
    print(f"Command: `{r['command']}`\n")
    names = [s["name"] for s in r["scenarios"]]
    print("| policy | avg acc | Δ vs imm (pt) | per-scenario acc (%) | rounds | tune s | × imm | tune J | × imm | energy source | modeled device s × imm | FLOPs × imm | deciding (share of tune s) | samples trained | mean lag (labeled samples) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    base = lambda key: imm[key] if imm else 0
    for name in ordered(r):
        p = ps[name]
        acc = p["avg_inference_accuracy"]
        delta = f"{100 * (acc - imm['avg_inference_accuracy']):+.2f}" if imm else "-"
        per = " / ".join(f"{100 * a:.1f}" for a in p["per_scenario_accuracy"])
        tune_s = p["finetune_seconds"]
        # Decisions (test-then-train, detector, labels) plus CKA probes inside rounds.
        deciding = p.get("decision_seconds", 0) + p.get("similarity_seconds", 0)
        share = f"{100 * deciding / tune_s:.0f}%" if tune_s else "-"
        print(f"| {name} | {100 * acc:.2f}% | {delta} | {per} | {p['rounds']} | "
              f"{tune_s:.1f} | {fmt_ratio(tune_s, base('finetune_seconds'))} | "
              f"{p['finetune_energy_joules']:.0f} | {fmt_ratio(p['finetune_energy_joules'], base('finetune_energy_joules'))} | "
              f"{p['energy_source']} | {fmt_ratio(p['modeled_finetune_seconds'], base('modeled_finetune_seconds'))} | "
              f"{fmt_ratio(flops(p), flops(imm) if imm else 0)} | {share} | {p['samples_trained']} | {lag(p)} |")
    print(f"\nScenarios: {', '.join(names)}\n")


if __name__ == "__main__":
    for d in sys.argv[1:]:
        table(d)
