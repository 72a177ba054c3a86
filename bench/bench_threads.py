"""Tick time quiet vs under CPU load, per thread policy: the measurement behind helpers/threads.py.

    .venv/bin/python bench/bench_threads.py [--ticks 15] [--quick]

For each policy (ticks on the main thread or on a worker thread, with 1 or 2 torch threads)
it times greedy decode ticks on the embedded model, first quiet, then with as many busy
processes as cores (`nproc` of `while True: pass`), the way other kernels load a classroom
server. Prints the median tick (forward + sampling) of each, the loaded/quiet ratio (goal:
within 2x), then the widget under the chosen policy: Step (main thread waits for the tick
worker) vs Run (the loop on the worker), and Step's call-to-panels-updated time (the kernel's
side of a click; the browser tests time the real click-to-screen).

Timings on a shared machine are noisy: run it twice, compare ratios, not absolute numbers.
--quick measures only the chosen policy and main-2 (the old default) to save time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from helpers import load_model  # noqa: E402
from helpers.clock import Clock  # noqa: E402
from helpers.sampling import SamplingConfig  # noqa: E402
from helpers.threads import tick_threads  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea,"


def _spin() -> None:
    while True:
        pass


def start_load(n: int) -> list[multiprocessing.Process]:
    procs = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(n)]
    for p in procs:
        p.start()
    time.sleep(0.5)  # let them reach full speed
    return procs


def stop_load(procs: list[multiprocessing.Process]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.join()


def tick_times(lm, ticks: int) -> list[float]:
    """ms per decode tick (forward + sampling, as the status line shows), greedy."""
    clock = Clock(lm, PROMPT, SamplingConfig(temperature=0.0))
    clock.end_ids = frozenset()
    clock.tick()  # the prefill is not what we compare
    times = []
    for _ in range(ticks):
        start = time.perf_counter()
        clock.tick()
        times.append((time.perf_counter() - start) * 1000)
    return times


def on_thread(where: str, n_threads: int, fn):
    """Run fn with n torch threads on the main thread or on a fresh worker thread."""
    out = {}

    def job():
        before = torch.get_num_threads()
        torch.set_num_threads(n_threads)  # per thread: see helpers/threads.py
        try:
            out["value"] = fn()
        finally:
            torch.set_num_threads(before)

    if where == "main":
        job()
    else:
        t = threading.Thread(target=job)
        t.start()
        t.join()
    return out["value"]


def widget_times(lm, ticks: int) -> tuple[float, float, float]:
    """Median ms per tick for widget Step and Run (forward + sampling), and Step's call time."""
    from helpers.widgets import ClockWidget

    cw = ClockWidget(lm, PROMPT, temperature=0.0)
    cw.clock.end_ids = frozenset()
    cw.frames.timeout_s = 0.0  # no browser here: do not wait for screen acknowledgements
    cw.step()
    step, call = [], []
    for _ in range(ticks):
        start = time.perf_counter()
        assert cw.step(), cw.message.value
        call.append((time.perf_counter() - start) * 1000)
        r = cw.clock.history[-1]
        step.append(r.forward_ms + r.sampling_ms)
    before = len(cw.clock.history)
    cw.run(ticks)
    cw.wait(120)
    run = [r.forward_ms + r.sampling_ms for r in cw.clock.history[before:]]
    cw.close()
    return statistics.median(step), statistics.median(run), statistics.median(call)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    lm = load_model()
    cores = os.cpu_count() or 1
    chosen = tick_threads()
    policies = (
        [("main", 2), ("worker", chosen)]
        if args.quick
        else [("main", 1), ("main", 2), ("worker", 1), ("worker", 2)]
    )
    tick_times(lm, 3)  # warm-up
    results = {}
    for load in (False, True):
        procs = start_load(cores) if load else []
        try:
            for where, n in policies:
                times = on_thread(where, n, lambda: tick_times(lm, args.ticks))
                results[(where, n, load)] = statistics.median(times)
            if load:
                widget_loaded = widget_times(lm, args.ticks)
            else:
                widget_quiet = widget_times(lm, args.ticks)
        finally:
            stop_load(procs)
    print(
        f"{lm.name}: median decode tick (forward + sampling), {args.ticks} ticks each, "
        f"{cores} cores, loaded = {cores} busy processes"
    )
    print(f"  {'policy':22s} {'quiet':>9s} {'loaded':>9s} {'ratio':>6s}")
    for where, n in policies:
        q, ld = results[(where, n, False)], results[(where, n, True)]
        mark = "  <- policy" if where == "worker" and n == chosen else ""
        print(
            f"  {f'{where} thread, {n} torch':22s} {q:7.1f}ms {ld:7.1f}ms "
            f"{ld / q:6.2f}{mark}"
        )
    print(f"widget under the policy ({chosen} torch thread(s) on the tick worker):")
    for label, (step, run, call) in (("quiet", widget_quiet), ("loaded", widget_loaded)):
        print(
            f"  {label:6s} Step tick {step:6.1f} ms   Run tick {run:6.1f} ms   "
            f"Step/Run {step / run:4.2f}   Step call-to-panels-updated {call:6.1f} ms"
        )
    print("(a shared machine: other programs add noise; compare ratios, run twice)")


if __name__ == "__main__":
    main()
