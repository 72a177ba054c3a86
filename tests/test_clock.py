"""The clock generates exactly what transformers' generate does, its KV cache gives the same
logits as a full forward pass, and rewind / force / bad input behave as promised."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.clock import Clock, ClockError, ClockStopped, TickRecord, end_of_text_ids
from helpers.sampling import SamplingConfig

PROMPT = "The clock ticks once for every token. The capital of"
SAMPLING_CONFIGS = [
    # (the tiny random models are peaked: temperatures above 1 keep the draws uncertain)
    SamplingConfig(temperature=2.5),
    SamplingConfig(temperature=1.5, top_k=20),
    SamplingConfig(temperature=2.0, top_p=0.8),
    SamplingConfig(temperature=1.6, top_k=50, top_p=0.95, min_p=0.05, repetition_penalty=1.3),
]


def _generate(lm, prompt_ids, n, config: SamplingConfig, seed=0) -> list[int]:
    """transformers' generate with exactly the processors the config asks for (explicit
    values override whatever defaults the model's generation_config carries)."""
    ids = torch.tensor([prompt_ids])
    kwargs = dict(do_sample=False) if config.is_greedy else dict(
        do_sample=True, temperature=config.temperature, top_k=config.top_k or 0, top_p=config.top_p,
        min_p=config.min_p or None)
    torch.manual_seed(seed)
    out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                            repetition_penalty=config.repetition_penalty,
                            pad_token_id=lm.tokenizer.eos_token_id, **kwargs)
    return out[0, len(prompt_ids):].tolist()


def _state(clock: Clock):
    return (clock.ids, clock.tokens[:], len(clock.history), clock.kv_cache_len, clock.stop_reason,
            clock.next_forced, clock.config, clock._generator.get_state().clone())


def _assert_state_equal(a, b):
    assert a[:-1] == b[:-1] and torch.equal(a[-1], b[-1])


# ----- equality with transformers ------------------------------------------------------------

def test_greedy_equals_generate(any_family_lm):
    clock = Clock(any_family_lm, PROMPT, SamplingConfig(temperature=0))
    clock.run(15)
    assert clock.generated_ids == _generate(any_family_lm, clock.prompt_ids, 15, clock.config)
    assert [r.prob for r in clock.history] == [1.0] * len(clock.history)


@pytest.mark.parametrize("config", SAMPLING_CONFIGS, ids=str)
def test_sampling_equals_generate_with_the_same_seed(any_family_lm, config):
    # The clock's own torch.Generator(seed) and generate's torch.manual_seed(seed) give the
    # same random stream, so the tokens match exactly, not only in distribution.
    clock = Clock(any_family_lm, PROMPT, config, seed=11)
    clock.run(15)
    assert clock.generated_ids == _generate(any_family_lm, clock.prompt_ids, 15, config, seed=11)
    # the draws were not foregone conclusions
    assert any(r.top_filtered[0].prob < 0.9 for r in clock.history)


def test_kv_cache_logits_and_attention_equal_a_full_forward_pass(any_family_lm):
    clock = Clock(any_family_lm, PROMPT, SamplingConfig(temperature=1.0), seed=3)
    clock.run(8)
    for record in clock.history:
        prefix = clock.ids[: record.context_len]
        with torch.no_grad():  # no cache: the whole prefix, every position recomputed
            out = any_family_lm.model(torch.tensor([prefix]), use_cache=False,
                                      output_attentions=True)
        probs = out.logits[0, -1].softmax(-1)
        expected_top = torch.topk(probs, 10)
        assert [c.token_id for c in record.top_raw] == expected_top.indices.tolist()
        torch.testing.assert_close(torch.tensor([c.prob for c in record.top_raw]),
                                   expected_top.values, atol=1e-5, rtol=1e-4)
        assert record.raw_prob == pytest.approx(float(probs[record.token_id]), abs=1e-5, rel=1e-4)
        full_rows = torch.stack([a[0, :, -1, :] for a in out.attentions])
        torch.testing.assert_close(record.attention.float(), full_rows, atol=2e-3, rtol=0)


def test_records_describe_the_tick(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=0.8), seed=1)
    records = clock.run(5)
    n_prompt = len(clock.prompt_ids)
    assert [r.index for r in records] == list(range(5))
    assert [r.phase for r in records] == ["prefill"] + ["decode"] * 4
    assert [r.context_len for r in records] == [n_prompt + i for i in range(5)]
    assert [r.kv_cache_len for r in records] == [n_prompt + i for i in range(5)]
    assert clock.kv_cache_len == n_prompt + 4  # the newest token is read at the next tick
    for r in records:
        assert r.token_text == tiny_lm.decode([r.token_id])
        assert r.surprisal_bits == pytest.approx(-math.log2(r.raw_prob))
        assert 0 < r.prob <= 1 and 0 < r.entropy_bits and r.forward_ms > 0 and r.sampling_ms > 0
        assert r.top_raw[0].prob >= r.top_raw[-1].prob and len(r.top_raw) == 10
        assert 1 <= len(r.top_filtered) <= 10 and r.config == clock.config and not r.forced
        # Cache memory from the tensors equals the formula
        # layers x kv_heads x head_dim x (K and V) x 4 bytes x tokens.
        assert r.kv_cache_bytes == (tiny_lm.n_layers * tiny_lm.n_kv_heads * tiny_lm.head_dim * 2 * 4
                                    * r.kv_cache_len)
    assert clock.tokens == tiny_lm.tokenizer.batch_decode([[i] for i in clock.ids])
    assert clock.text == clock.prompt_text + clock.generated_text
    assert clock.generated_text == tiny_lm.decode(clock.generated_ids)


def test_attention_rows_sum_to_one_over_the_context_and_are_compact(any_family_lm):
    clock = Clock(any_family_lm, PROMPT, seed=2)
    clock.run(6)
    for r in clock.history:
        assert r.attention.dtype == torch.float16
        assert tuple(r.attention.shape) == (any_family_lm.n_layers, any_family_lm.n_heads,
                                            r.context_len)
        torch.testing.assert_close(r.attention.float().sum(-1),
                                   torch.ones(any_family_lm.n_layers, any_family_lm.n_heads),
                                   atol=2e-3, rtol=0)
        # a compact copy, not a view that keeps a full attention matrix alive
        assert r.attention.untyped_storage().nbytes() == r.attention.numel() * 2
        tensors = [v for v in vars(r).values() if isinstance(v, torch.Tensor)]
        assert len(tensors) == 1


# ----- time travel ---------------------------------------------------------------------------

@pytest.mark.parametrize("config", [SamplingConfig(temperature=0), SAMPLING_CONFIGS[3]],
                         ids=["greedy", "sampling"])
def test_rewind_then_run_replays_the_same_tokens(any_family_lm, config):
    clock = Clock(any_family_lm, PROMPT, config, seed=4)
    clock.run(10)
    first = clock.generated_ids[:]
    first_probs = [r.top_raw for r in clock.history]
    clock.rewind(4)
    assert clock.generated_ids == first[:6] and len(clock.history) == 6
    assert clock.kv_cache_len == len(clock.prompt_ids) + 5 and len(clock.tokens) == len(clock.ids)
    clock.run(4)
    assert clock.generated_ids == first
    clock.rewind(10)  # back to the prompt, before the prefill
    assert clock.generated_ids == [] and clock.kv_cache_len == 0 and clock.history == []
    clock.run(10)
    assert clock.generated_ids == first
    for replayed, original in zip((r.top_raw for r in clock.history), first_probs):
        assert [c.token_id for c in replayed] == [c.token_id for c in original]


def test_force_changes_exactly_that_tick(tiny_lm):
    config = SamplingConfig(temperature=1.2)
    plain = Clock(tiny_lm, PROMPT, config, seed=9)
    plain.run(6)
    clock = Clock(tiny_lm, PROMPT, config, seed=9)
    clock.run(3)
    # a token whose text encodes back to it
    forced_id = next(c.token_id for c in plain.history[3].top_raw
                     if c.token_id != plain.generated_ids[3]
                     and tiny_lm.encode(c.text) == [c.token_id])
    clock.force(tiny_lm.decode([forced_id]))
    assert clock.next_forced == forced_id
    record = clock.tick()
    assert record.forced and record.token_id == forced_id and clock.next_forced is None
    assert clock.generated_ids[:3] == plain.generated_ids[:3]
    assert [r.forced for r in clock.history] == [False, False, False, True]
    assert record.top_raw == plain.history[3].top_raw  # same distribution, different choice
    # The forced token is read at the next tick, which is a normal sampled tick again.
    after = clock.tick()
    assert not after.forced and clock.ids[after.context_len - 1] == forced_id
    # force by id works too
    clock.force(5)
    assert clock.tick().token_id == 5


def test_config_change_takes_effect_at_the_next_tick(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=1.0), seed=0)
    clock.tick()
    clock.config = SamplingConfig(temperature=0)
    record = clock.tick()
    assert clock.history[0].config.temperature == 1.0 and record.config.is_greedy
    assert record.token_id == record.top_raw[0].token_id and record.prob == 1.0


def test_reset_starts_over_with_the_same_seed(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=1.0), seed=8)
    clock.run(5)
    first = clock.generated_ids[:]
    clock.reset()
    assert clock.history == [] and clock.generated_ids == [] and clock.kv_cache_len == 0
    clock.run(5)
    assert clock.generated_ids == first
    clock.reset("1 2 3")
    assert clock.prompt_ids == tiny_lm.encode_prompt("1 2 3") and clock.history == []


# ----- stopping --------------------------------------------------------------------------------

def test_end_of_text_stops_the_clock_and_rewind_resumes(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, seed=0)
    clock.run(2)
    eos = tiny_lm.tokenizer.eos_token_id
    assert eos in end_of_text_ids(tiny_lm)
    clock.force(eos)
    record = clock.tick()
    assert record.stop_reason == "end of text" and clock.done and clock.stop_reason == "end of text"
    before = _state(clock)
    with pytest.raises(ClockStopped, match="rewind"):
        clock.tick()
    with pytest.raises(ClockStopped):
        clock.run(3)
    with pytest.raises(ClockStopped):
        clock.force(1)
    _assert_state_equal(_state(clock), before)
    clock.rewind()
    assert (not clock.done and len(clock.history) == 2
            and clock.kv_cache_len == len(clock.prompt_ids) + 1)
    assert clock.tick().index == 2


def test_run_stops_when_the_context_is_full(tiny_lm):
    limit = tiny_lm.context_length  # 64 for the tiny models
    prompt = " ".join(["1 2 3 4 5 6 7 8 9 10."] * 20)
    ids = tiny_lm.encode(prompt)[: limit - 4]
    clock = Clock(tiny_lm, tiny_lm.decode(ids), SamplingConfig(temperature=1.0), seed=0)
    clock.end_ids = frozenset()  # so that only the context can stop it
    n_prompt = len(clock.prompt_ids)
    records = clock.run(50)
    assert clock.stop_reason == "context full" and records[-1].stop_reason == "context full"
    assert len(clock.ids) == limit and len(records) == limit - n_prompt
    assert all(r.stop_reason is None for r in records[:-1])
    with pytest.raises(ClockStopped, match="context full"):
        clock.tick()


def test_run_can_be_paused_by_on_tick(tiny_lm):
    clock = Clock(tiny_lm, PROMPT, seed=0)
    seen = []
    records = clock.run(10, on_tick=lambda r: seen.append(r.index) or len(seen) < 3)
    assert len(records) == 3 and seen == [0, 1, 2]


# ----- bad input: a clear message, state unchanged ---------------------------------------------

def test_bad_prompts_are_refused(tiny_lm):
    with pytest.raises(ClockError, match="empty"):
        Clock(tiny_lm, "")
    with pytest.raises(ClockError, match="text"):
        Clock(tiny_lm, None)
    with pytest.raises(ClockError, match="shorten the prompt"):
        Clock(tiny_lm, "1 2 3 4 5 6 7 8 9 10. " * 40)
    with pytest.raises(ClockError, match="chat template"):
        Clock(tiny_lm, "Hello", chat=True)
    with pytest.raises(ClockError, match="seed"):
        Clock(tiny_lm, "Hello", seed=-1)
    with pytest.raises(ClockError, match="SamplingConfig"):
        Clock(tiny_lm, "Hello", config={"temperature": 0.5})


@pytest.mark.parametrize("action, message", [
    (lambda c: c.rewind(5), "only 3"),
    (lambda c: c.rewind(-1), ">= 0"),
    (lambda c: c.run(-2), ">= 0"),
    (lambda c: c.run(2.5), "whole number"),
    (lambda c: c.force("The capital of"), "not one"),
    (lambda c: c.force(""), "empty"),
    (lambda c: c.force(10**9), "out of range"),
    (lambda c: c.force(-1), "out of range"),
    (lambda c: c.force(True), "str"),
    (lambda c: c.force(None), "str"),
    (lambda c: c.reset(""), "empty"),
    (lambda c: c.reset("1 2 3 4 5 6 7 8 9 10. " * 40), "shorten"),
    (lambda c: setattr(c, "config", 0.7), "SamplingConfig"),
])
def test_bad_actions_raise_clear_errors_and_leave_state_intact(tiny_lm, action, message):
    clock = Clock(tiny_lm, PROMPT, SamplingConfig(temperature=1.0), seed=0)
    clock.run(3)
    clock.force(7)
    before = _state(clock)
    with pytest.raises(ClockError, match=message):
        action(clock)
    _assert_state_equal(_state(clock), before)
    # and the clock still works afterwards
    assert clock.tick().token_id == 7


# ----- the embedded model ----------------------------------------------------------------------

@pytest.mark.slow
def test_embedded_greedy_and_sampling_equal_generate(embedded_lm):
    prompt = "The capital of France is"
    clock = Clock(embedded_lm, prompt, SamplingConfig(temperature=0))
    clock.run(12)
    assert clock.generated_ids == _generate(embedded_lm, clock.prompt_ids, 12, clock.config)
    assert (clock.history[0].token_text == " Paris"
            and clock.history[0].raw_prob == pytest.approx(0.77, abs=0.02))
    for config in (SamplingConfig(),
                   SamplingConfig(temperature=0.8, top_k=40, top_p=0.9, min_p=0.02,
                                  repetition_penalty=1.2)):
        clock = Clock(embedded_lm, "Once upon a time", config, seed=5)
        clock.run(20)
        assert clock.generated_ids == _generate(embedded_lm, clock.prompt_ids, 20, config, seed=5)


@pytest.mark.slow
def test_embedded_kv_cache_equals_full_forward_and_chat_ends_at_im_end(embedded_lm):
    assert {0, 2} <= end_of_text_ids(embedded_lm)  # <|endoftext|> and <|im_end|>
    clock = Clock(embedded_lm, "What is 2 + 2?", SamplingConfig(temperature=0), chat=True)
    assert (clock.prompt_text.startswith("<|im_start|>")
            and clock.prompt_text.endswith("<|im_start|>assistant\n"))
    clock.run(6)
    for record in clock.history[-2:]:
        with torch.no_grad():
            out = embedded_lm.model(torch.tensor([clock.ids[: record.context_len]]),
                                    use_cache=False)
        probs = out.logits[0, -1].softmax(-1)
        assert record.top_raw[0].token_id == int(probs.argmax())
        assert record.raw_prob == pytest.approx(float(probs[record.token_id]), abs=1e-4)
    assert tuple(clock.history[-1].attention.shape) == (30, 9, clock.history[-1].context_len)
    clock.run(60)
    assert clock.stop_reason == "end of text" and clock.generated_ids[-1] == 2


def test_next_token_logits_is_one_forward_pass_without_a_cache(tiny_lm):
    from helpers.clock import next_token_logits

    ids = tiny_lm.encode(PROMPT)
    with torch.no_grad():
        expected = tiny_lm.model(torch.tensor([ids])).logits[0, -1]
    torch.testing.assert_close(next_token_logits(tiny_lm, ids), expected)
    with pytest.raises(ClockError, match="no tokens"):
        next_token_logits(tiny_lm, [])
    with pytest.raises(ClockError, match="shorter"):
        next_token_logits(tiny_lm, [1] * (tiny_lm.context_length + 1))


# ----- timing figures of a clock run -------------------------------------------------------------

def test_timing_figures_show_the_clock_run(tiny_lm):
    from helpers.plots import (clock_rate_figure, kv_memory_figure, prefill_decode_figure,
                               tick_cost_figure, tick_times_figure)

    clock = Clock(tiny_lm, PROMPT, seed=0)
    clock.run(6)
    fig = tick_times_figure(clock.history)
    assert (list(fig.data[0].x) == list(range(6))
            and list(fig.data[0].y) == [r.forward_ms for r in clock.history])
    assert (list(fig.data[1].y) == [r.sampling_ms for r in clock.history]
            and fig.layout.barmode == "stack")
    assert fig.data[0].marker.color[0] != fig.data[0].marker.color[1]  # the prefill stands out
    fig = tick_cost_figure([10, 11], [1.0, 1.1], [10, 50], [5.0, 20.0])
    assert (list(fig.data[1].y) == [5.0, 20.0]
            and fig.layout.xaxis.title.text == "tokens in the context")
    fig = prefill_decode_figure([8, 32], [16.0, 32.0], 4.0)
    assert list(fig.data[0].y) == [2.0, 1.0] and list(fig.data[1].y) == [4.0, 4.0]
    fig = kv_memory_figure([1, 2], [2**20, 2**21], [2**20, 2**21])
    assert list(fig.data[1].y) == [1.0, 2.0]
    fig = clock_rate_figure({"measured": 20.0, "bound": 60.0})
    assert list(fig.data[0].x) == [20.0, 60.0] and fig.layout.title.text
