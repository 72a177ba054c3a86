"""A clock shared by threads (one tick, rewind or reset at a time, each whole) and the bound on
the memory of its history (attention rows within a budget)."""

from __future__ import annotations

import threading
import time
import warnings

import pytest
import torch

from helpers.clock import Clock, ClockError, HistoryBoundWarning
from helpers.sampling import SamplingConfig

GREEDY = SamplingConfig(temperature=0)


def _slow_blocks(lm, seconds=0.001):
    """A short sleep in every block: the GIL is released mid-forward, as with a real model."""
    blocks = getattr(getattr(lm.model, "model", None), "layers", None) or lm.model.transformer.h
    return [b.register_forward_pre_hook(lambda m, a: time.sleep(seconds)) for b in blocks]


def _layer_lengths(clock):
    return [layer.get_seq_length() for layer in clock.kv_cache.layers]


def _consistent(clock):
    """Cache and history agree: every layer holds the prompt and all chosen tokens but the last."""
    assert _layer_lengths(clock) == [len(clock.prompt_ids) + len(clock.history) - 1] * len(
        clock.kv_cache.layers)
    assert len(clock.generated_ids) == len(clock.history) == len(clock._rng_states)
    assert len(clock.tokens) == len(clock.ids)


# ----------------------------------------------------------------------------- two threads

def test_two_threads_ticking_one_clock_give_the_single_thread_result(tiny_lm):
    reference = Clock(tiny_lm, "The clock", GREEDY)
    reference.end_ids = frozenset()
    reference.run(40)
    clock = Clock(tiny_lm, "The clock", GREEDY)
    clock.end_ids = frozenset()
    hooks = _slow_blocks(tiny_lm)
    barrier, errors = threading.Barrier(2), []

    def ticker():
        barrier.wait()
        try:
            for _ in range(20):
                clock.tick()
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    try:
        threads = [threading.Thread(target=ticker) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for h in hooks:
            h.remove()
    assert not errors, errors
    assert clock.generated_ids == reference.generated_ids
    assert [r.index for r in clock.history] == list(range(40))
    _consistent(clock)
    assert clock.tick().token_id == reference.tick().token_id


def test_rewinds_and_resets_from_another_thread_never_break_the_cache(tiny_lm):
    reference = Clock(tiny_lm, "The clock", GREEDY)
    reference.end_ids = frozenset()
    reference.run(40)
    clock = Clock(tiny_lm, "The clock", GREEDY)
    clock.end_ids = frozenset()
    hooks = _slow_blocks(tiny_lm)
    stop, errors = threading.Event(), []

    def ticker():
        try:
            while not stop.is_set():
                if len(clock.history) < 30:
                    clock.tick()
        except BaseException as err:  # pragma: no cover
            errors.append(err)

    def meddler():
        try:
            for i in range(60):
                if i % 20 == 19:
                    clock.reset()
                elif clock.history:
                    clock.rewind(min(2, len(clock.history)))
                time.sleep(0.002)
        except BaseException as err:  # pragma: no cover
            errors.append(err)

    try:
        threads = [threading.Thread(target=ticker), threading.Thread(target=meddler)]
        for t in threads:
            t.start()
        threads[1].join(120)
        stop.set()
        threads[0].join(120)
    finally:
        for h in hooks:
            h.remove()
    assert not errors, errors
    if clock.history:
        _consistent(clock)
    # Greedy: whatever was undone, the tokens are the reference's, and ticking goes on.
    n = len(clock.generated_ids)
    assert clock.generated_ids == reference.generated_ids[:n]
    assert clock.tick().token_id == reference.generated_ids[n]


# ------------------------------------------------------------------ the history's memory

def _attention_bytes(clock):
    return sum(r.attention.numel() * r.attention.element_size() for r in clock.history)


def test_the_history_keeps_attention_rows_within_its_budget(tiny_lm):
    per_position = tiny_lm.n_layers * tiny_lm.n_heads * 2
    reference = Clock(tiny_lm, "The clock", GREEDY)
    reference.end_ids = frozenset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default budget is far away: no warning
        reference.run(45)
    assert all(r.has_attention for r in reference.history)

    clock = Clock(tiny_lm, "The clock", GREEDY)
    clock.end_ids = frozenset()
    clock.attention_budget = 100 * per_position  # about ten ticks' rows at this context
    assert clock.history_note(5) is None
    note = clock.history_note(45)
    with pytest.warns(HistoryBoundWarning) as warned:
        clock.run(45)
    assert str(warned[0].message) == note
    kept = [r.has_attention for r in clock.history]
    n_kept = sum(kept)
    # The newest ticks keep their rows, the older ones have dropped theirs, in one cut.
    assert kept == [False] * (45 - n_kept) + [True] * n_kept and 1 < n_kept < 45
    assert f"only the newest {n_kept} ticks will keep their attention" in note
    assert _attention_bytes(clock) <= clock.attention_budget
    assert _attention_bytes(clock) + clock.history[-n_kept - 1].context_len * per_position > (
        clock.attention_budget)  # nothing dropped that fitted
    for got, want in zip(clock.history, reference.history):
        assert got.token_id == want.token_id and got.top_raw == want.top_raw
        if got.has_attention:
            assert torch.equal(got.attention, want.attention)
        else:
            assert got.attention.shape == (tiny_lm.n_layers, tiny_lm.n_heads, 0)
            assert clock.attention_note(got).startswith(f"The attention of tick {got.index} ")
    # Rewind below the cut and step again: the replayed ticks have their rows back.
    clock.rewind(40)
    clock.run(5)
    assert [r.has_attention for r in clock.history[-5:]] == [True] * 5
    assert torch.equal(clock.history[-1].attention, reference.history[9].attention)
    assert clock._attention_bytes == _attention_bytes(clock)


def test_the_newest_row_is_kept_even_beyond_the_budget(tiny_lm):
    clock = Clock(tiny_lm, "The clock", GREEDY)
    clock.attention_budget = 0
    with pytest.warns(HistoryBoundWarning, match="only the newest 1 ticks"):
        clock.run(3)
    assert [r.has_attention for r in clock.history] == [False, False, True]
    with pytest.raises(ClockError, match="attention_budget"):
        clock.attention_budget = -1
    with pytest.raises(ClockError, match="history_note"):
        clock.history_note(1.5)


def test_the_recorded_clock_says_where_attention_was_dropped(tiny_lm):
    from helpers.trace import trace_data

    clock = Clock(tiny_lm, "The clock", GREEDY)
    clock.end_ids = frozenset()
    clock.attention_budget = 0
    with pytest.warns(HistoryBoundWarning):
        clock.run(4)
    data = trace_data(clock)
    assert [t["attention_offset"] is None for t in data["ticks"]] == [True] * 3 + [False]
    assert data["ticks"][0]["attention_note"].startswith("The attention of tick 0 was not kept")
    assert data["ticks"][3]["attention_note"] is None


def test_the_widget_warns_before_a_run_and_says_where_attention_was_dropped(tiny_lm):
    from helpers.widgets.clock_widget import ClockWidget

    cw = ClockWidget(tiny_lm, "The clock ticks", temperature=0.0)
    try:
        cw.clock.end_ids = frozenset()
        cw.clock.attention_budget = 0
        said = []
        original = cw._say
        cw._say = lambda text, error=False: (said.append(text), original(text, error))
        assert cw.run(4, background=False)
        assert said and "only the newest 1 ticks will keep their attention" in said[0]
        cw.view.scrubber.value = 0
        assert "The attention of tick 0 was not kept" in cw.view.attention.value
        cw.view.scrubber.value = len(cw.clock.history) - 1
        assert "<svg" in cw.view.attention.value
    finally:
        cw.close()
