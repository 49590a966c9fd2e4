#!/usr/bin/env python3
"""Cross-check of etuner's NVML meter against the GPU's power x time (issue 4).

Two steps, run by scripts/gpu-bench.sh on a lent GPU machine:

  load     keeps the GPU busy in bursts (bf16 matmuls, on/off duty cycle, so the power
           changes inside the window) while sampling the board power every 50 ms
           (nvmlDeviceGetPowerUsage through nvidia-ml-py, else `nvidia-smi`), wall-clock
           stamped; writes the samples as CSV.
  compare  integrates those samples over the wall-clock window that `etuner meters
           --window-s S` printed, and compares it with the joules etuner's meter reported
           for that window (NVML's total-energy counter). Passes within 20%.

The two numbers come from different NVML readings (energy counter vs sampled power), not
from the same one twice.
"""
import argparse
import re
import subprocess
import sys
import threading
import time


def power_reader():
    try:
        import pynvml  # nvidia-ml-py
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        return "nvml-power-usage", lambda: pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0
    except Exception:  # noqa: BLE001 - fall back to the CLI
        def smi():
            out = subprocess.run(["nvidia-smi", "--query-gpu=power.draw", "--format=csv,noheader,nounits"],
                                 capture_output=True, text=True, check=True).stdout
            return float(out.split()[0])
        return "nvidia-smi", smi


def load(args):
    import torch
    name, read = power_reader()
    samples = []
    stop = threading.Event()

    def sampler():
        while not stop.is_set():
            samples.append((time.time(), read()))
            time.sleep(0.05)

    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    torch.cuda.synchronize()
    t = threading.Thread(target=sampler)
    t.start()
    open(args.ready, "w").write("ready\n")
    end = time.time() + args.seconds
    while time.time() < end:
        burst = time.time() + args.on_s
        while time.time() < burst:
            (a @ b).sum().item()
        time.sleep(args.off_s)
    stop.set()
    t.join()
    with open(args.samples, "w") as f:
        f.write(f"# source={name}\nunix_s,power_w\n")
        for ts, w in samples:
            f.write(f"{ts:.3f},{w:.3f}\n")


def integrate(samples, t0, t1):
    """Trapezoid integral of power over [t0, t1], samples linearly interpolated."""
    def at(t):
        for (ta, wa), (tb, wb) in zip(samples, samples[1:]):
            if ta <= t <= tb:
                return wa + (wb - wa) * (t - ta) / (tb - ta) if tb > ta else wa
        raise ValueError(f"power log does not cover t={t:.3f}")
    pts = [(t0, at(t0))] + [(t, w) for t, w in samples if t0 < t < t1] + [(t1, at(t1))]
    return sum((tb - ta) * (wa + wb) / 2 for (ta, wa), (tb, wb) in zip(pts, pts[1:]))


def compare(args):
    text = open(args.meters).read()
    m = re.search(r"window: ([\d.eE+-]+) s, ([\d.eE+-]+) J \(([\w+]+)\)", text)
    w = re.search(r"wall clock: unix ([\d.]+) \.\. ([\d.]+)", text)
    if not m or not w:
        sys.exit("compare: no window in " + args.meters)
    seconds, joules, source = float(m.group(1)), float(m.group(2)), m.group(3)
    gpu = re.search(r"^  gpu0: ([\d.eE+-]+) J$", text, re.M)  # the GPU's share when RAPL adds the CPU
    if gpu:
        joules = float(gpu.group(1))
    t0, t1 = float(w.group(1)), float(w.group(2))
    rows = [ln.split(",") for ln in open(args.samples) if ln[0].isdigit()]
    samples = [(float(a), float(b)) for a, b in rows]
    ref = integrate(samples, t0, t1)
    inside = [p for t, p in samples if t0 <= t <= t1]
    ratio = joules / ref if ref > 0 else float("nan")
    print(f"etuner meter ({source}): {joules:.1f} J over {seconds:.2f} s "
          f"(mean {joules / seconds:.1f} W)")
    print(f"sampled power x time:  {ref:.1f} J over {t1 - t0:.2f} s (mean {ref / (t1 - t0):.1f} W, "
          f"{len(inside)} samples, min {min(inside):.0f} W, max {max(inside):.0f} W)")
    ok = "nvml" in source.split("+") and abs(ratio - 1) <= 0.20
    print(f"ratio {ratio:.3f}: {'PASS' if ok else 'FAIL'} (criterion: source nvml, within 20%)")
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    lp = sub.add_parser("load")
    lp.add_argument("--seconds", type=float, default=30)
    lp.add_argument("--on-s", type=float, default=1.5)
    lp.add_argument("--off-s", type=float, default=1.0)
    lp.add_argument("--samples", required=True)
    lp.add_argument("--ready", required=True)
    cp = sub.add_parser("compare")
    cp.add_argument("--samples", required=True)
    cp.add_argument("--meters", required=True)
    args = p.parse_args()
    return load(args) if args.cmd == "load" else compare(args)


if __name__ == "__main__":
    sys.exit(main() or 0)
