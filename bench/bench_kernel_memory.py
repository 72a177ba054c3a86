"""Benchmark: the memory each extra kernel costs with an embedded model (weights memory-mapped).

Starts 1, then --kernels processes that each do what a lesson's kernel does (import helpers,
load_model(NAME), one clock tick), keeps them alive together, and reads /proc/PID/smaps:
each process's USS (pages no other process shares) and PSS, and the model.safetensors mapping
(its RSS in each process, its PSS summed over all: about one file when the weights are shared
through the page cache rather than copied into each process).

Run: .venv/bin/python bench/bench_kernel_memory.py [--model gemma-3-270m] [--kernels 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers.embedded import DEFAULT_MODEL, EMBEDDED_MODELS  # noqa: E402

KERNEL = """
import sys, time
from helpers import load_model
from helpers.clock import Clock
from helpers.sampling import SamplingConfig
lm = load_model(sys.argv[1])
Clock(lm, sys.argv[2], SamplingConfig(temperature=0)).tick()
print("ready", flush=True)
time.sleep(3600)
"""
PROMPTS = {"SmolLM2-135M-Instruct": "The capital of France is", "gemma-3-270m": "我喜欢吃"}


def smaps(pid: int) -> dict[str, float]:
    """USS, PSS and RSS (MiB) of a process, and RSS/PSS of its model.safetensors mapping."""
    totals = dict(uss=0, pss=0, rss=0, weights_rss=0, weights_pss=0)
    in_weights = False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if not parts[0].endswith(":"):  # a mapping's header line: address range, path
                in_weights = parts[-1].endswith("model.safetensors")
                continue
            key, kib = parts[0][:-1], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            if key in ("Private_Clean", "Private_Dirty"):
                totals["uss"] += kib
            elif key == "Pss":
                totals["pss"] += kib
                if in_weights:
                    totals["weights_pss"] += kib
            elif key == "Rss":
                totals["rss"] += kib
                if in_weights:
                    totals["weights_rss"] += kib
    return {k: v / 1024 for k, v in totals.items()}


def start_kernels(n: int, name: str) -> list[subprocess.Popen]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    procs = [subprocess.Popen([sys.executable, "-c", KERNEL, name, PROMPTS[name]], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(n)]
    for proc in procs:
        if proc.stdout.readline().strip() != "ready":
            sys.exit("a kernel failed to start")
    return procs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=list(EMBEDDED_MODELS))
    parser.add_argument("--kernels", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.model}: 1 kernel, then {args.kernels} at once (load_model + one tick each)")
    results = {}
    for n in (1, args.kernels):
        start = time.perf_counter()
        procs = start_kernels(n, args.model)
        seconds = time.perf_counter() - start
        try:
            stats = [smaps(p.pid) for p in procs]
        finally:
            for p in procs:
                p.kill()
                p.wait()
        results[n] = stats
        total_pss = sum(s["pss"] for s in stats)
        print(f"{n} kernel(s), started in {seconds:.0f} s: total PSS {total_pss:.0f} MiB; "
              f"per kernel USS {max(s['uss'] for s in stats):.0f} MiB, "
              f"RSS {max(s['rss'] for s in stats):.0f} MiB"
              f" (of which the weights' mapping {max(s['weights_rss'] for s in stats):.0f} MiB); "
              f"the weights' PSS summed over the kernels {sum(s['weights_pss'] for s in stats):.0f}"
              f" MiB")
    n = args.kernels
    extra = (sum(s["pss"] for s in results[n]) - sum(s["pss"] for s in results[1])) / (n - 1)
    print(f"memory per extra kernel (PSS added per kernel beyond the first): {extra:.0f} MiB")


if __name__ == "__main__":
    main()
