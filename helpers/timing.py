"""Timing that other programs on the machine cannot easily fool.

    median_ms(lambda: next_token_logits(lm, ids))                  # warm up once, median of 5
    interleaved_median_ms({"with cache": a, "without": b}, repeats=5)

One measurement of a forward pass is a poor witness: the first call in a fresh process pays
one-time costs (memory allocation, thread pool start-up, kernel selection), and on a shared
machine any call can be slowed by another program. So every function here runs `warmup`
calls it does not count, then takes the **median** of `repeats` timed calls (a few slow calls
move a median much less than a mean or a single value). `interleaved_median_ms` runs the
candidates in turn, A B A B ..., so that a burst of load elsewhere hits them all alike
instead of spoiling only the one that was running at the time.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable, Mapping

__all__ = ["time_ms", "median_ms", "interleaved_median_ms"]


def time_ms(fn: Callable[[], object]) -> float:
    """Wall-clock milliseconds of one call of `fn()`."""
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _check_counts(repeats: int, warmup: int) -> None:
    if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 1:
        raise ValueError(f"repeats must be a whole number >= 1, got {repeats!r}.")
    if not isinstance(warmup, int) or isinstance(warmup, bool) or warmup < 0:
        raise ValueError(f"warmup must be a whole number >= 0, got {warmup!r}.")


def median_ms(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median milliseconds of `repeats` calls of `fn()`, after `warmup` uncounted calls."""
    return interleaved_median_ms({"fn": fn}, repeats, warmup)["fn"]


def interleaved_median_ms(fns: Mapping[str, Callable[[], object]], repeats: int = 5,
                          warmup: int = 1) -> dict[str, float]:
    """Median milliseconds per named function, the functions run in turn in every round."""
    _check_counts(repeats, warmup)
    if not fns:
        raise ValueError("Give at least one function to time, e.g. {'forward': lambda: ...}.")
    for name, fn in fns.items():
        if not callable(fn):
            raise TypeError(f"{name!r} is not callable: pass a function, e.g. lambda: model(ids).")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(time_ms(fn))
    return {name: statistics.median(values) for name, values in times.items()}
