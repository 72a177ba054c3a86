"""A tick is a transaction (a fault anywhere leaves the clock as before the tick), long prompts
are read in bounded memory, and odd input gets a clear message before anything changes."""

from __future__ import annotations


import pytest
import torch

import helpers.clock as clock_module
from helpers.anatomy import new_cache
from helpers.clock import Clock, ClockError, next_token_logits, read_tokens
from helpers.sampling import SamplingConfig

PROMPT = "The capital of France is Paris. The capital of Italy is"
TICKS = 6


def _blocks(lm):
    """The transformer blocks, in order, of either family."""
    inner = getattr(lm.model, "model", None) or lm.model.transformer
    return list(getattr(inner, "layers", None) or inner.h)


def _fault_points(lm):
    # every block, and the LM head (reached after every layer has written its keys/values)
    return [(f"block {i}", b) for i, b in enumerate(_blocks(lm))] + [("lm_head", lm.model.lm_head)]


def _snapshot(clock: Clock):
    cache = clock.kv_cache
    layers = [] if cache is None else [(l.keys.clone(), l.values.clone()) for l in cache.layers]
    return dict(ids=clock.ids, tokens=clock.tokens[:], history=list(clock.history),
                stop=clock.stop_reason,
                forced=clock.next_forced, rng=clock._generator.get_state().clone(),
                rng_states=[s.clone() for s in clock._rng_states], layers=layers)


def _assert_same(a, b):
    assert a["ids"] == b["ids"] and a["tokens"] == b["tokens"] and a["stop"] == b["stop"]
    assert a["forced"] == b["forced"] and a["history"] == b["history"]
    assert torch.equal(a["rng"], b["rng"])
    assert len(a["rng_states"]) == len(b["rng_states"])
    assert all(torch.equal(x, y) for x, y in zip(a["rng_states"], b["rng_states"]))
    assert len(a["layers"]) == len(b["layers"])
    for (ka, va), (kb, vb) in zip(a["layers"], b["layers"]):
        assert ka.shape == kb.shape and torch.equal(ka, kb) and torch.equal(va, vb)


def _assert_records_equal(got, want):
    assert [r.token_id for r in got] == [r.token_id for r in want]
    for g, w in zip(got, want):
        assert g.top_raw == w.top_raw and g.raw_prob == w.raw_prob and g.prob == w.prob
        assert torch.equal(g.attention, w.attention)
        assert (g.kv_cache_len, g.context_len) == (w.kv_cache_len, w.context_len)


def _raiser(exc_type):
    def hook(module, args):
        raise exc_type("injected fault")
    return hook


CONFIGS = [SamplingConfig(temperature=0), SamplingConfig(temperature=2.0, top_k=30)]


@pytest.mark.parametrize("config", CONFIGS, ids=["greedy", "sampled"])
@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("fail_at_tick", [0, 3], ids=["prefill", "decode"])
def test_a_fault_at_any_layer_leaves_the_clock_as_before_the_tick(tiny_lm, config, exc_type,
                                                                  fail_at_tick):
    reference = Clock(tiny_lm, PROMPT, config, seed=5)
    reference.run(TICKS)
    for where, module in _fault_points(tiny_lm):
        clock = Clock(tiny_lm, PROMPT, config, seed=5)
        clock.run(fail_at_tick)
        before = _snapshot(clock)
        handle = module.register_forward_pre_hook(_raiser(exc_type))
        try:
            with pytest.raises(exc_type, match="injected"):
                clock.tick()
        finally:
            handle.remove()
        _assert_same(_snapshot(clock), before)
        clock.run(TICKS - fail_at_tick)
        assert clock.generated_ids == reference.generated_ids, where
        _assert_records_equal(clock.history, reference.history)
        # rewind still works after a failed tick
        clock.rewind(2)
        clock.run(2)
        _assert_records_equal(clock.history, reference.history)


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_a_fault_after_the_forward_pass_leaves_no_trace(tiny_lm, monkeypatch, exc_type):
    # after the draw: the generator has moved on and every layer holds one more position
    config = SamplingConfig(temperature=2.0)
    reference = Clock(tiny_lm, PROMPT, config, seed=9)
    reference.run(TICKS)
    clock = Clock(tiny_lm, PROMPT, config, seed=9)
    clock.run(2)
    before = _snapshot(clock)
    real = clock_module.top_candidates

    def boom(*args, **kwargs):
        raise exc_type("injected fault")

    monkeypatch.setattr(clock_module, "top_candidates", boom)
    with pytest.raises(exc_type):
        clock.tick()
    monkeypatch.setattr(clock_module, "top_candidates", real)
    _assert_same(_snapshot(clock), before)
    clock.run(TICKS - 2)
    _assert_records_equal(clock.history, reference.history)


def test_tiny_temperature_ticks_greedy(tiny_lm):
    greedy = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=0))
    greedy.run(5)
    for temperature in (1e-46, 1e-300, 5e-324):
        clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=temperature))
        clock.run(5)
        assert clock.generated_ids == greedy.generated_ids
        assert all(r.prob == 1.0 for r in clock.history)


def test_rewind_cuts_every_layer_to_the_target_length(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=0))
    clock.run(5)
    clock.rewind(3)
    lengths = [layer.get_seq_length() for layer in clock.kv_cache.layers]
    assert lengths == [len(clock.prompt_ids) + 1] * tiny_lm.n_layers


# ----- long prompts ----------------------------------------------------------------------------

@pytest.mark.parametrize("chunk", [1, 3, 7, 100])
def test_chunked_reading_equals_one_full_forward_pass(tiny_lm, monkeypatch, chunk):
    monkeypatch.setattr(clock_module, "PREFILL_CHUNK", chunk)
    ids = tiny_lm.encode_prompt(PROMPT * 2)[:40]
    with torch.no_grad():
        full = tiny_lm.model(torch.tensor([ids]), use_cache=False, output_attentions=True)
    # the clock's cache: Gemma's sliding layers keep every position, so rows span the context
    reading = read_tokens(tiny_lm, ids, new_cache(tiny_lm))
    assert reading.passes == -(-len(ids) // chunk)
    torch.testing.assert_close(reading.logits, full.logits[0, -1], atol=1e-4, rtol=1e-4)
    full_rows = torch.stack([a[0, :, -1, :] for a in full.attentions])
    torch.testing.assert_close(reading.attention, full_rows, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(next_token_logits(tiny_lm, ids), full.logits[0, -1],
                               atol=1e-4, rtol=1e-4)
    # and the clock built on it still matches: the prefill record equals the full pass
    clock = Clock(tiny_lm, tiny_lm.decode(ids[len(tiny_lm.prompt_prefix):]),
                  SamplingConfig(temperature=0))
    if clock.prompt_ids == ids:
        record = clock.tick()
        assert record.token_id == int(full.logits[0, -1].argmax())
        assert record.passes == reading.passes
        torch.testing.assert_close(record.attention.float(), full_rows, atol=2e-3, rtol=0)


def _count_passes(lm):
    """A list that gets the number of tokens fed by every forward pass of lm.model, and the
    hook's handle (remove it when done)."""
    calls = []

    def pre_hook(module, args, kwargs):
        calls.append(kwargs["input_ids"].shape[1])

    return calls, lm.model.register_forward_pre_hook(pre_hook, with_kwargs=True)


@pytest.mark.parametrize("chunk", [256, 4])
def test_a_prefill_is_one_pass_per_chunk(tiny_lm, monkeypatch, chunk):
    # A forward pre-hook on the model counts real passes: tick 0 of a prompt that fits one
    # chunk is ONE pass; a longer prompt is one pass per chunk, and the record says how many.
    monkeypatch.setattr(clock_module, "PREFILL_CHUNK", chunk)
    calls, handle = _count_passes(tiny_lm)
    try:
        clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=0))
        n = len(clock.prompt_ids)
        assert n > 4  # the long case really is longer than one chunk
        record = clock.tick()
        expected = -(-n // chunk)
        assert calls == [min(chunk, n - start) for start in range(0, n, chunk)]
        assert len(calls) == expected == record.passes == clock_module.prefill_passes(n)
        assert (expected == 1) == (chunk == 256)
        del calls[:]
        assert clock.tick().passes == 1 and calls == [1]  # a decode tick: one pass, one token
    finally:
        handle.remove()


def test_prefill_attention_memory_is_one_layer_of_one_chunk(tiny_lm, monkeypatch):
    # The clock keeps only the last row: the model's output carries no attention weights, and
    # the rows it keeps are compact copies, not views of a [heads, chunk, context] tensor.
    monkeypatch.setattr(clock_module, "PREFILL_CHUNK", 4)
    outputs = []
    handle = tiny_lm.model.register_forward_hook(lambda m, a, out: outputs.append(out))
    try:
        clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=0))
        record = clock.tick()
    finally:
        handle.remove()
    assert all(out.attentions is None for out in outputs)
    assert record.attention.untyped_storage().nbytes() == record.attention.numel() * 2


# ----- clear messages --------------------------------------------------------------------------

def test_lone_surrogate_in_the_prompt_is_a_clock_error(tiny_lm):
    with pytest.raises(ClockError, match="retype or delete"):
        Clock(tiny_lm, "Hello \ud800 world")


def test_seed_is_validated_wherever_it_is_set(tiny_lm):
    clock = Clock(tiny_lm, PROMPT)
    for bad in (2**64, -1, 1.5, True, "3"):
        with pytest.raises(ClockError, match="seed"):
            clock.seed = bad
        with pytest.raises(ClockError, match="seed"):
            Clock(tiny_lm, PROMPT, seed=bad)
    assert clock.seed == 0
    clock.seed = 2**64 - 1
    clock.reset()


def test_a_failed_reset_leaves_the_clock_as_it_was(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=1.5), seed=3)
    clock.run(3)
    before = _snapshot(clock)
    for bad_prompt in ("", "\ud800", 42, "x " * 500):
        with pytest.raises(ClockError):
            clock.reset(bad_prompt)
        _assert_same(_snapshot(clock), before)
    assert clock.prompt == PROMPT
    clock.run(2)


# ----- the embedded model ----------------------------------------------------------------------

@pytest.mark.slow
def test_a_keyboard_interrupt_at_any_layer_of_the_embedded_model_changes_nothing(embedded_lm):
    prompt = "The capital of France is Paris. The capital of Germany is"
    reference = Clock(embedded_lm, prompt, SamplingConfig(temperature=0))
    reference.run(5)
    for layer in (0, 15, 29):
        for fail_at_tick in (0, 3):
            c = Clock(embedded_lm, prompt, SamplingConfig(temperature=0))
            c.run(fail_at_tick)
            block = embedded_lm.model.model.layers[layer]
            h = block.register_forward_pre_hook(_raiser(KeyboardInterrupt))
            try:
                with pytest.raises(KeyboardInterrupt):
                    c.tick()
            finally:
                h.remove()
            c.run(5 - fail_at_tick)
            _assert_records_equal(c.history, reference.history)
