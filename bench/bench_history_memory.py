"""Benchmark: the memory a long run's history holds (issue 24, item 3).

A fresh process per budget loads the embedded model, reads a long prompt (the prefill), then
runs N greedy decode ticks with no end-of-text stop, and reports:

  attention    the bytes of attention rows the history holds at the end (sum over records)
  rss growth   resident memory after the run minus after the prefill (VmRSS): what the run
               added, KV cache included (45 KiB per position for SmolLM2)
  ticks kept   how many records still have their attention row

Budgets: "unbounded" (attention_budget = 2**62: the behaviour before the bound) and the default
HISTORY_ATTENTION_BYTES. Each tick's record holds n_layers x n_heads x context float16 numbers
(540 bytes per position for SmolLM2), so unbounded rows grow with the square of the run.

Run: .venv/bin/python bench/bench_history_memory.py [--prompt-tokens 3000] [--ticks 400]
(about 20 minutes per budget on 2 busy cores).

Sizes are in MiB (2**20 bytes; VmRSS counts KiB).

Measured (2 cores shared with other jobs), 400 ticks after a 3,000-token prompt:
  unbounded      attention 660.8 MiB, rss growth 955 MiB, 401 ticks with attention, 1051 s
  256 MiB bound  attention 255.2 MiB, rss growth 905 MiB, 149 ticks with attention, 372 s
                 (the warning before the run predicted 149; freed rows' memory stays with the
                 allocator for reuse, so resident memory falls less than the rows held)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB in /proc are KiB
    raise RuntimeError("no /proc/self/status")


def measure(budget: int | None, prompt_tokens: int, ticks: int) -> dict:
    import gc
    import warnings

    import helpers
    from helpers.clock import Clock

    lm = helpers.load_model()
    text = " ".join(f"w{i}" for i in range(prompt_tokens))
    ids = lm.encode(text)[:prompt_tokens]
    clock = Clock(lm, lm.decode(ids), helpers.clock.SamplingConfig(temperature=0))
    clock.end_ids = frozenset()
    if budget is not None:
        clock.attention_budget = budget
    clock.tick()
    gc.collect()
    before = rss_mib()
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        clock.run(ticks)
    seconds = time.perf_counter() - start
    gc.collect()
    attention = sum(r.attention.numel() * r.attention.element_size() for r in clock.history)
    return {
        "budget_mib": round(clock.attention_budget / 2**20) if budget != 2**62 else "unbounded",
        "prompt_tokens": len(clock.prompt_ids),
        "ticks": len(clock.history),
        "attention_mib": round(attention / 2**20, 1),
        "rss_growth_mib": round(rss_mib() - before),
        "ticks_with_attention": sum(r.has_attention for r in clock.history),
        "warned": [str(w.message) for w in warned][:1],
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompt-tokens", type=int, default=3000)
    parser.add_argument("--ticks", type=int, default=400)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child is not None:
        budget = None if args.child == "default" else int(args.child)
        print(json.dumps(measure(budget, args.prompt_tokens, args.ticks)))
        return
    for label, budget in (("unbounded (before)", str(2**62)), ("default bound", "default")):
        out = subprocess.run(
            [sys.executable, __file__, "--child", budget, "--prompt-tokens",
             str(args.prompt_tokens), "--ticks", str(args.ticks)],
            capture_output=True, text=True, cwd=REPO, check=True)
        print(f"{label:20s} {out.stdout.strip()}", flush=True)


if __name__ == "__main__":
    main()
