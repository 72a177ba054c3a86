"""Benchmark: peak memory of reading a long prompt (issue 15, item 3).

For each prompt length, a fresh Python process loads the embedded model, does ONE thing, and
reports its peak resident memory (VmHWM from /proc/self/status; ru_maxrss where there is no
/proc):

  load       load_model() only: the floor every other figure includes
  clock      the clock's prefill tick (one forward pass per chunk of PREFILL_CHUNK tokens;
             of the last pass's attention weights a hook keeps one row per head and layer)
  forward    transformers' own model(input_ids) on the same (eager) model
  generate   transformers' model.generate(input_ids, max_new_tokens=1)

A process per measurement, because a process's peak never goes down. Goal: the clock stays
under GOAL_MIB (2000 MiB) for the longest prompt the model accepts (SmolLM2: 8192 positions).
Peaks are in MiB (2**20 bytes).

Run: .venv/bin/python bench/bench_prefill_memory.py [--sizes 512 2048 8000] [--no-reference]
(a few minutes on 2 cores; transformers' forward at 8000 tokens needs several GiB).
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GOAL_MIB = 2000


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB in /proc are KiB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, else KiB
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def prompt_ids(lm, n: int) -> list[int]:
    sentence = "The clock ticks once for every token, and the model reads the whole story again. "
    text = sentence * 2000
    ids = lm.encode(text)[:n]
    assert len(ids) == n
    return ids


def measure(what: str, n: int) -> dict:
    """Runs in the child process."""
    import torch

    sys.path.insert(0, str(REPO))
    from helpers import load_model
    from helpers.clock import Clock
    from helpers.sampling import SamplingConfig

    lm = load_model()
    ids = prompt_ids(lm, n)
    start = time.perf_counter()
    with torch.inference_mode():
        if what == "clock":
            clock = Clock(lm, "x", SamplingConfig(temperature=0))
            clock.prompt_ids = ids  # exactly n tokens, whatever the text decodes to
            record = clock.tick()
            assert record.attention.shape == (lm.n_layers, lm.n_heads, n)
        elif what == "forward":
            lm.model(input_ids=torch.tensor([ids]))
        elif what == "generate":
            t = torch.tensor([ids])
            lm.model.generate(t, attention_mask=torch.ones_like(t), max_new_tokens=1,
                              do_sample=False, pad_token_id=lm.tokenizer.eos_token_id)
    return {"what": what, "tokens": n, "peak_mib": peak_rss_mib(),
            "seconds": time.perf_counter() - start}


def run_child(what: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", what, str(n)], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return {"what": what, "tokens": n, "peak_mib": float("nan"), "seconds": float("nan"),
                "error": (out.stderr.strip().splitlines() or ["killed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 2048, 8000])
    parser.add_argument("--no-reference", action="store_true",
                        help="only the clock (no transformers runs)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return 0

    floor = run_child("load", 1)["peak_mib"]
    print(f"peak RSS after load_model() alone: {floor:.0f} MiB (included in every figure below)")
    print(f"{'tokens':>6}  {'clock MiB':>9}  {'forward MiB':>11}  {'generate MiB':>12}  "
          f"{'clock/forward':>13}  "
          f"{'clock/generate':>14}  clock s")
    worst = 0.0
    for n in args.sizes:
        clock = run_child("clock", n)
        worst = max(worst, clock["peak_mib"])
        refs = {} if args.no_reference else {w: run_child(w, n) for w in ("forward", "generate")}
        fwd, gen = (refs.get(w, {}).get("peak_mib", float("nan")) for w in ("forward", "generate"))
        peak = clock["peak_mib"]
        print(f"{n:>6}  {peak:>9.0f}  {fwd:>11.0f}  {gen:>12.0f}  {peak / fwd:>13.2f}  "
              f"{peak / gen:>14.2f}  {clock['seconds']:.1f}")
        for r in [clock, *refs.values()]:
            if "error" in r:
                print(f"        {r['what']} failed: {r['error']}")
    met = worst < GOAL_MIB
    print(f"goal: the clock under {GOAL_MIB} MiB at every size: {'met' if met else 'NOT met'} "
          f"(worst {worst:.0f} MiB). Timings are from a shared machine: indicative only.")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
