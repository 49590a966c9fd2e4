#!/usr/bin/env python3
"""serve_load_md.py: the serve load benchmark's summary json and its table for docs/results.md.

  scripts/serve_load_md.py collect OUT.json "COMMAND" FLAGS=RUN.json ...   # RUN.json: the
      output of scripts/bench-serve.sh (the server's first line is skipped); FLAGS names the
      serve flags of that run ("default", "--trainer-idle")
  scripts/serve_load_md.py table OUT.json                                   # markdown

Python 3 standard library only.
"""
import datetime
import json
import os
import platform
import subprocess
import sys


def load_run(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text[text.index("{"):])  # after the server's "listening" line


def machine():
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                   platform.processor())
    return {"cpu": cpu, "nproc": os.cpu_count(), "uname": " ".join(platform.uname()[:3])}


def collect(out, command, runs):
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip()
    summary = {"command": command, "machine": machine(), "git_commit": commit,
               "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ"),
               "runs": []}
    for arg in runs:
        flags, path = arg.split("=", 1)
        r = load_run(path)
        phases = {p: {"predict": r[p]["predict"], "samples": r[p]["samples"],
                      "errors": r[p]["errors"], "rounds": r[p]["rounds"],
                      "finetune_share": r[p]["finetune_share"]} for p in ("idle", "tuning")}
        summary["runs"].append({"flags": flags, "config": r["config"], **phases,
                                "p99_ratio": r["p99_ratio"]})
    with open(out, "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")


def table(path):
    with open(path) as f:
        s = json.load(f)
    m = s["machine"]
    print(f"Command: `{s['command']}`\n")
    print(f"Machine: {m['cpu']}, {m['nproc']} CPUs (`{m['uname']}`). Date: {s['date']}. "
          f"Commit: `{s['git_commit']}`.\n")
    print("| run | flags | phase | predict req/s | p50 ms | p99 ms | max ms | samples req/s "
          "| samples p99 ms | errors | rounds | time in rounds | p99 × idle |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for i, r in enumerate(s["runs"], 1):
        for phase in ("idle", "tuning"):
            p, q, tuning = r[phase]["predict"], r[phase]["samples"], phase == "tuning"
            cells = [str(i) if not tuning else "", r["flags"] if not tuning else "",
                     "fine-tuning" if tuning else "idle", f"{p['throughput_rps']:.0f}",
                     f"{p['p50_ms']:.2f}", f"{p['p99_ms']:.2f}", f"{p['max_ms']:.1f}",
                     f"{q['throughput_rps']:.0f}" if tuning else "",
                     f"{q['p99_ms']:.1f}" if tuning else "", str(r[phase]["errors"]),
                     str(r[phase]["rounds"]), f"{r[phase]['finetune_share'] * 100:.0f}%",
                     f"{r['p99_ratio']:.2f}x" if tuning else ""]
            print("| " + " | ".join(cells) + " |")

def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "collect":
        collect(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) == 3 and sys.argv[1] == "table":
        table(sys.argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
