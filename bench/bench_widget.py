"""How much does the clock widget add to a tick? Widget Step vs a bare Clock.tick().

    .venv/bin/python bench/bench_widget.py [--ticks 30] [--rounds 3]

Both run the same greedy ticks on the embedded model from the same prompt, alternating tick
by tick so that machine noise (other processes) hits both alike. Prints the median per-tick
time of each, their ratio and the widget's own work per tick (its time minus the clock's, i.e.
drawing the panels).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import load_model  # noqa: E402
from helpers.clock import Clock  # noqa: E402
from helpers.sampling import SamplingConfig  # noqa: E402
from helpers.widgets import ClockWidget  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea,"


def time_round(lm, ticks: int) -> tuple[list[float], list[float], list[float]]:
    """One round: a bare Clock and a widget from the same prompt, ticking alternately."""
    clock = Clock(lm, PROMPT, SamplingConfig(temperature=0.0))
    cw = ClockWidget(lm, PROMPT, temperature=0.0)
    clock.tick()  # the prefills are not what we compare
    cw.step()
    bare, widget, drawing = [], [], []
    for _ in range(ticks):
        start = time.perf_counter()
        clock.tick()
        bare.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        assert cw.step(), cw.message.value
        elapsed = (time.perf_counter() - start) * 1000
        record = cw.clock.history[-1]
        widget.append(elapsed)
        drawing.append(elapsed - record.forward_ms - record.sampling_ms)
    assert cw.clock.generated_ids == clock.generated_ids  # the same work on both sides
    cw.close()
    return bare, widget, drawing


def time_drawing(lm, draws: int = 60) -> float:
    """CPU ms to redraw every panel for a past tick (what the scrubber does), alone: process
    time, so other programs on the machine do not count."""
    cw = ClockWidget(lm, PROMPT, temperature=0.0)
    cw.run(8, background=False)
    times = []
    for i in range(draws):
        start = time.process_time()
        cw._present(i % len(cw.clock.history))
        times.append((time.process_time() - start) * 1000)
    cw.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    lm = load_model()
    time_round(lm, 3)  # warm-up: first FigureWidget updates and torch kernels
    bare, widget, drawing = [], [], []
    for _ in range(args.rounds):
        b_times, w_times, d_times = time_round(lm, args.ticks)
        bare += b_times
        widget += w_times
        drawing += d_times
    b, wd, d = statistics.median(bare), statistics.median(widget), statistics.median(drawing)
    print(f"{lm.name}, {args.rounds} rounds x {args.ticks} decode ticks (median per tick)")
    print(f"  bare Clock.tick()      {b:7.1f} ms")
    print(f"  ClockWidget Step       {wd:7.1f} ms")
    print(f"  widget's own work      {d:7.1f} ms (widget time minus the tick's forward + sampling)")
    print(f"  ratio widget / bare    {wd / b:7.2f}")
    print(f"  redrawing all panels   {time_drawing(lm):7.1f} ms CPU (scrubbing to a past tick)")


if __name__ == "__main__":
    main()
