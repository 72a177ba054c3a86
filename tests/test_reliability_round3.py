"""Issue 24 (round 3): a clock shared by threads, the history's memory bound."""

from __future__ import annotations

import math
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


# ----------------------------------------------------------------------- item 4: two threads

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


# ------------------------------------------------------------ item 3: the history's memory

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
        cw.scrubber.value = 0
        assert "The attention of tick 0 was not kept" in cw.attention.value
        cw.scrubber.value = len(cw.clock.history) - 1
        assert "<svg" in cw.attention.value
    finally:
        cw.close()


# --------------------------------------- item 5: scoring and beam search in bounded memory

def _fed_lengths(lm):
    """Record the number of positions of every forward pass of lm.model."""
    seen = []
    hook = lm.model.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append(kwargs.get("input_ids", args[0] if args else None)
                                            .shape[-1]), with_kwargs=True)
    return seen, hook


def test_long_texts_are_scored_in_chunks_equal_to_one_pass(tiny_lm, monkeypatch):
    import helpers.scoring as scoring

    text = "The clock ticks once for every token. A tick is one forward pass."
    ids = tiny_lm.encode(text)
    assert len(ids) > 12
    whole = scoring.token_logprobs(tiny_lm, ids)  # one pass: fewer tokens than a chunk
    with torch.no_grad():
        logits = tiny_lm.model(torch.tensor([ids])).logits[0, :-1]
    expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
    torch.testing.assert_close(whole.logprobs, expected)
    monkeypatch.setattr(scoring, "SCORE_CHUNK", 5)
    seen, hook = _fed_lengths(tiny_lm)
    try:
        chunked = scoring.token_logprobs(tiny_lm, ids)
    finally:
        hook.remove()
    assert max(seen) == 5 and sum(seen) == len(ids) - 1  # the last token is never fed
    torch.testing.assert_close(chunked.logprobs, whole.logprobs, atol=1e-5, rtol=1e-5)


def test_a_tiny_scoring_temperature_gives_the_limit_not_nan(tiny_lm):
    from helpers.scoring import perplexity, token_logprobs

    text = "The capital of France is Paris."
    ids = tiny_lm.encode_prompt(text)   # as scoring reads a text (Gemma: <bos> first)
    scores = token_logprobs(tiny_lm, text, temperature=1e-300)
    assert not torch.isnan(scores.logprobs).any()
    with torch.no_grad():
        best = tiny_lm.model(torch.tensor([ids])).logits[0, :-1].argmax(-1)
    hit = best == torch.tensor(ids[1:])
    assert torch.equal(scores.logprobs == 0, hit) and torch.isinf(scores.logprobs[~hit]).all()
    assert perplexity(tiny_lm, text, temperature=1e-300) == (1.0 if hit.all() else math.inf)


def test_beam_search_reads_a_long_prompt_once_in_chunks(tiny_lm, monkeypatch):
    import helpers.clock as clock_module
    from helpers.decoding import beam_search

    ids = tiny_lm.encode("The clock ticks once for every token. A tick is")
    expected = beam_search(tiny_lm, ids, 3, 5)
    monkeypatch.setattr(clock_module, "PREFILL_CHUNK", 4)
    seen, hook = _fed_lengths(tiny_lm)
    try:
        assert beam_search(tiny_lm, ids, 3, 5) == expected
    finally:
        hook.remove()
    assert max(seen) == 4  # never B copies of the whole prompt at once


def test_beam_search_bounds_beams_and_cache(tiny_lm, monkeypatch):
    import helpers.decoding as decoding

    with pytest.raises(ValueError, match="num_beams must be a whole number >= 1 up to 64"):
        decoding.beam_search(tiny_lm, "The clock", 65, 2)
    monkeypatch.setattr(decoding, "BEAM_CACHE_BYTES", 10**5)
    per = decoding.kv_bytes_per_position(tiny_lm)
    assert per == 2 * tiny_lm.n_layers * tiny_lm.n_kv_heads * tiny_lm.head_dim * 4
    with pytest.raises(ValueError, match="GB of KV cache.*fewer beams"):
        decoding.beam_search(tiny_lm, "The clock", 20, 20)


# ------------------------------------------------ item 10: raw errors and silent acceptance

SURROGATE = "Hello \ud800 there"


def test_lone_surrogates_get_a_clear_message_everywhere(tiny_lm, chat_lm):
    from helpers import speculative
    from helpers.decoding import beam_search, sequence_logprob
    from helpers.scoring import perplexity

    clock = Clock(tiny_lm, "The clock")
    calls = [
        lambda: clock.force("\ud800"),
        lambda: Clock(chat_lm, "Hi", chat=True, system_prompt=SURROGATE),
        lambda: perplexity(tiny_lm, SURROGATE),
        lambda: beam_search(tiny_lm, SURROGATE, 2, 2),
        lambda: sequence_logprob(tiny_lm, SURROGATE, [1]),
        lambda: speculative.generate(tiny_lm, SURROGATE, 3),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="half of a surrogate pair"):
            call()
    assert clock.next_forced is None


@pytest.mark.parametrize("ids, words", [
    ([10**9], "out of range"), ([-1], "out of range"), ([3, True], "a bool"),
    ([1.0, 2.0], "a float"), (b"hi", "bytes|got bytes"), (torch.tensor([1.5]), "whole numbers"),
])
def test_bad_token_ids_are_refused_everywhere(tiny_lm, ids, words):
    from helpers import speculative
    from helpers.clock import next_token_logits
    from helpers.decoding import beam_search, sequence_logprob
    from helpers.scoring import token_logprobs

    calls = [
        lambda: beam_search(tiny_lm, ids, 2, 2),
        lambda: speculative.generate(tiny_lm, ids, 3),
        lambda: token_logprobs(tiny_lm, ids),
        lambda: next_token_logits(tiny_lm, ids),
        lambda: sequence_logprob(tiny_lm, [1, 2], ids),
        lambda: beam_search(tiny_lm, [1, 2], 2, 2, eos_ids=ids),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=words):
            call()


def test_a_draft_of_bad_ids_is_refused(tiny_lm):
    from helpers import speculative

    for drafted in ([10**9], [True], [1.5]):
        with pytest.raises(ValueError, match="The draft proposed"):
            speculative.generate(tiny_lm, "The clock ticks", 5, draft=lambda c, k, d=drafted: d)
    with pytest.raises(ValueError, match="draft must be a function"):
        speculative.generate(tiny_lm, "The clock", 5, draft=[1, 2])


def test_beam_search_settings_that_used_to_pass_silently(tiny_lm):
    from helpers.decoding import beam_search

    with pytest.raises(ValueError, match="eos_ids lists all"):
        beam_search(tiny_lm, "The clock", 2, 2, eos_ids=range(tiny_lm.vocab_size))
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="length_penalty must be a number"):
            beam_search(tiny_lm, "The clock", 2, 2, length_penalty=bad)


@pytest.mark.parametrize("penalty", [1e-39, 1e-300, 5e-324, 1e39])
def test_an_extreme_repetition_penalty_is_refused_before_sampling(tiny_lm, penalty):
    with pytest.raises(ValueError, match=r"repetition_penalty must be in \[0.001, 1000\]"):
        SamplingConfig(temperature=1.0, repetition_penalty=penalty)
    # At the limits the distribution stays finite.
    for limit in (1e-3, 1e3):
        clock = Clock(tiny_lm, "The clock ticks the clock ticks",
                      SamplingConfig(temperature=1.0, repetition_penalty=limit))
        record = clock.tick()
        assert math.isfinite(record.entropy_bits) and 0 < record.prob <= 1


def test_the_cli_answers_an_extreme_repetition_penalty_in_one_line(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    result = subprocess.run(
        [sys.executable, "-m", "helpers", "trace", "--prompt", "Hi", "--ticks", "2",
         "--repetition-penalty", "1e-39", "--out", str(tmp_path / "t.html")],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "repetition_penalty must be in [0.001, 1000]" in result.stderr


# --------------------------------------------- item 10: names and configs, before loading

def _edited_copy(src, dst, **changes):
    import json
    import shutil

    shutil.copytree(src, dst)
    config = json.loads((dst / "config.json").read_text())
    config.update(changes)
    (dst / "config.json").write_text(json.dumps(config))
    return dst


@pytest.mark.parametrize("name, words", [
    ("x" * 300, "300 characters long"), ("a/" + "x" * 300, "302 characters long"),
    (3, "got int"), ("bad\ud800", "surrogate"), ("   ", "not a model name"),
])
def test_odd_model_names_get_a_clear_message(name, words):
    from helpers import ModelLoadError, load_model

    with pytest.raises(ModelLoadError, match=words):
        load_model(name)


@pytest.mark.parametrize("family, changes, words", [
    ("llama", {"hidden_size": -64}, "hidden_size must be a whole number >= 1"),
    ("llama", {"num_hidden_layers": 10**6}, "says 1000000 layers"),
    ("llama", {"intermediate_size": 256}, r"mlp.gate_proj.weight is \[128, 64\] in the"),
    ("llama", {"num_hidden_layers": 3}, "they lack 9 of the 30 tensors"),
    ("gpt2", {"n_layer": 1}, "tensors the config does not describe"),
    ("llama", {"num_key_value_heads": 3}, "cannot share 3 key/value heads"),
    ("gpt2", {"vocab_size": 10**9, "n_embd": 4096}, "GB in float32"),
])
def test_a_config_that_does_not_match_its_weights_is_refused_at_once(
        tiny_llama_dir, tiny_gpt2_dir, tmp_path, family, changes, words):
    from helpers import ModelLoadError, load_model

    src = tiny_llama_dir if family == "llama" else tiny_gpt2_dir
    folder = _edited_copy(src, tmp_path / "edited", **changes)
    start = time.perf_counter()
    with pytest.raises(ModelLoadError, match=words):
        load_model(str(folder))
    assert time.perf_counter() - start < 120  # not "still loading after 90 s" (generous)


def test_a_missing_tokenizer_is_named_in_a_whole_sentence(tiny_llama_dir, tmp_path):
    import shutil

    from helpers import ModelLoadError, load_model

    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_llama_dir, folder)
    for path in folder.iterdir():
        if "token" in path.name or "special" in path.name:
            path.unlink()
    with pytest.raises(ModelLoadError) as err:
        load_model(str(folder))
    message = str(err.value)
    assert "has no tokenizer" in message and message.endswith("save_pretrained(folder).")
