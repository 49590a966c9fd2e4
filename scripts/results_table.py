#!/usr/bin/env python3
"""Prints a markdown table of one or more bench results directories (for docs/results.md).

  scripts/results_table.py out/fmnist-ni out/fmnist-nc
"""
import json
import os
import sys


def fmt_ratio(v, base):
    return f"{v / base:.2f}x" if base else "-"


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
    print("| policy | avg acc | Δ vs imm (pt) | per-scenario acc (%) | rounds | tune s | × imm | tune J | × imm | energy source | samples trained | decision s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, p in ps.items():
        acc = p["avg_inference_accuracy"]
        delta = f"{100 * (acc - imm['avg_inference_accuracy']):+.2f}" if imm else "-"
        per = " / ".join(f"{100 * a:.1f}" for a in p["per_scenario_accuracy"])
        print(f"| {name} | {100 * acc:.2f}% | {delta} | {per} | {p['rounds']} | "
              f"{p['finetune_seconds']:.1f} | {fmt_ratio(p['finetune_seconds'], imm['finetune_seconds'] if imm else 0)} | "
              f"{p['finetune_energy_joules']:.0f} | {fmt_ratio(p['finetune_energy_joules'], imm['finetune_energy_joules'] if imm else 0)} | "
              f"{p['energy_source']} | {p['samples_trained']} | {p.get('decision_seconds', 0):.2f} |")
    print(f"\nScenarios: {', '.join(names)}\n")


for d in sys.argv[1:]:
    table(d)
