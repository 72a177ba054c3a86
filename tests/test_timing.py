"""helpers.timing: warm-up calls are not counted, the median resists outliers, candidates run
in turn; and the timing figures of notebook 07."""

from __future__ import annotations

import time

import pytest

from helpers.plots.timing import kv_memory_figure, prefill_decode_figure, tick_cost_figure
from helpers.timing import interleaved_median_ms, median_ms, time_ms


def test_warm_up_calls_are_not_counted_and_the_median_ignores_an_outlier():
    calls = []

    def slow_first_then_fast():
        calls.append(None)
        time.sleep(0.2 if len(calls) == 1 else 0.001)

    assert median_ms(slow_first_then_fast, repeats=3, warmup=1) < 100   # the slow call was warm-up
    assert len(calls) == 4
    calls.clear()
    # without warm-up the slow first call is one of three: the median still ignores it
    assert median_ms(slow_first_then_fast, repeats=3, warmup=0) < 100
    assert time_ms(lambda: time.sleep(0.02)) >= 15


def test_candidates_run_in_turn():
    order = []
    result = interleaved_median_ms({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                                   repeats=2, warmup=1)
    assert order == ["a", "b"] * 3 and set(result) == {"a", "b"}


@pytest.mark.parametrize("kwargs, words", [
    (dict(fns={}), "at least one function"),
    (dict(fns={"x": 3}), "not callable"),
    (dict(fns={"x": print}, repeats=0), "repeats must be"),
    (dict(fns={"x": print}, warmup=-1), "warmup must be"),
])
def test_bad_arguments_say_what_to_pass(kwargs, words):
    with pytest.raises((ValueError, TypeError), match=words):
        interleaved_median_ms(**kwargs)


def test_prefill_figure_marks_the_crossover_on_log_axes():
    fig = prefill_decode_figure([1, 4, 16], [10.0, 12.0, 16.0], 9.0, crossover=8)
    assert list(fig.data[0].y) == [10.0, 3.0, 1.0] and list(fig.data[1].y) == [9.0] * 3
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    assert fig.layout.shapes[0].x0 == 8 and "8 tokens" in fig.layout.annotations[0].text


def test_tick_cost_figure_can_show_cached_medians_and_memory_is_in_mib():
    fig = tick_cost_figure([10, 11], [1.0, 1.1], [10, 50], [5.0, 20.0], cached_median_ms=[1.0, 1.2])
    assert len(fig.data) == 3 and list(fig.data[2].y) == [1.0, 1.2]
    fig = kv_memory_figure([1, 2], [2**20, 2**21], [2**20, 2**21])
    assert list(fig.data[1].y) == [1.0, 2.0] and "MiB" in fig.layout.yaxis.title.text
