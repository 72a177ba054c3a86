"""Benchmark: peak memory of scoring a long text and of beam search on a long prompt
(issue 24, item 5).

Each measurement runs in a fresh process (a process's peak never goes down) that loads the
embedded model and does ONE thing, then reports its peak resident memory (VmHWM) and time:

  load        load_model() only: the floor every other figure includes
  perplexity  perplexity() of an N-token text (read in chunks of SCORE_CHUNK through a cache)
  beam        beam_search(4 beams, 3 new tokens) after an M-token prompt (the prompt read once,
              in chunks, then the cache copied per beam)

Before the bound (issue 24's figures, reported there in decimal GB): perplexity of 8,192 ids
took 313 s and 5.8 GiB; 4 beams on a 4,000-token prompt were killed at 6.1 GiB.

Run: .venv/bin/python bench/bench_scoring_memory.py [--tokens 8000] [--prompt 4000]

Peaks are in MiB (2**20 bytes; VmHWM counts KiB).

Measured after the bound (SmolLM2, 2 cores shared with other jobs, so the times are slow):
  load                          peak  921 MiB
  perplexity, 8,000 tokens      peak 1782 MiB, 565 s   (before: 5.8 GiB)
  beam, 4 beams, 4,000 tokens   peak 2245 MiB, 379 s   (before: killed at 6.1 GiB)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def peak_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB in /proc are KiB
    raise RuntimeError("no /proc/self/status")


def child(what: str, n: int) -> dict:
    import helpers

    lm = helpers.load_model()
    ids = [int(i) for i in (lm.encode(" ".join(f"w{i}" for i in range(n))) * 2)[:n]]
    start = time.perf_counter()
    if what == "perplexity":
        from helpers.scoring import perplexity

        result = round(perplexity(lm, ids), 2)
    elif what == "beam":
        from helpers.decoding import beam_search

        result = beam_search(lm, ids, 4, 3)
    else:
        result = None
    return {"what": what, "tokens": n, "seconds": round(time.perf_counter() - start, 1),
            "peak_mib": round(peak_mib()), "result": result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=8000)
    parser.add_argument("--prompt", type=int, default=4000)
    parser.add_argument("--child", nargs=2, default=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    for what, n in (("load", 0), ("perplexity", args.tokens), ("beam", args.prompt)):
        out = subprocess.run([sys.executable, __file__, "--child", what, str(n)],
                             capture_output=True, text=True, cwd=REPO, check=True)
        print(out.stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
