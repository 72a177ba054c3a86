"""Notebook 00's exercise checks: the worked solutions pass, the slips a learner really types
fail with a message that names them."""

from __future__ import annotations

import pytest
import torch

from helpers.clock import Clock
from helpers.exercises import ch00
from helpers.sampling import SamplingConfig
from helpers.tokens import visible
from exercise_language import assert_every_mistake_speaks


@pytest.fixture(scope="module")
def clock(tiny_llama_dir):
    from helpers import load_model

    lm = load_model(str(tiny_llama_dir))
    clock = Clock(lm, "The clock ticks", SamplingConfig(temperature=0.0))
    clock.run(8)
    return clock


def test_kv_cache_length_solution_passes(clock):
    assert ch00.check_kv_cache_length(lambda n_prompt, t: n_prompt + t, clock)


@pytest.mark.parametrize("wrong, slip", [
    (lambda n_prompt, t: n_prompt + t + 1, "One too many: the token chosen at tick t"),
    (lambda n_prompt, t: n_prompt + t - 1, "One too few"),
    (lambda n_prompt, t: t, "The prompt is missing"),
    (lambda n_prompt, t: n_prompt, "each decode tick adds one"),
    (lambda n_prompt, t: n_prompt + 7, "That is tick 7 only"),
    (lambda n_prompt, t: 12, "Wrong for n_prompt = "),          # a number typed for one clock
    (12, "should be a function"),
    (..., "still empty"),
])
def test_kv_cache_length_slips(clock, wrong, slip):
    result = ch00.check_kv_cache_length(wrong, clock)
    assert not result and slip in result.message


def test_a_formula_for_five_token_prompts_only_fails(clock):
    result = ch00.check_kv_cache_length(lambda n_prompt, t: t + 5, clock)
    assert not result and ("5-token prompt" in result.message or "Wrong for" in result.message)


@pytest.fixture(scope="module")
def probs():
    torch.manual_seed(0)
    return torch.softmax(torch.randn(1000) * 3, dim=-1)   # no exact zeros, like tick 3


def test_entropy_solution_passes(probs):
    assert ch00.check_entropy(lambda p: float(-(p * p.log2()).nansum()), probs)
    assert ch00.check_entropy(lambda p: -(p[p > 0] * p[p > 0].log2()).sum(), probs)


@pytest.mark.parametrize("wrong, slip", [
    (lambda p: float(-(p * p.log2()).sum()), "use nansum"),      # right on tick 3 itself
    (lambda p: float(-(p * p.log()).nansum()), "in nats"),
    (lambda p: float((p * p.log2()).nansum()), "sign is flipped"),
    (lambda p: float(-p.log2().nansum()), "weighted by its p"),
    (lambda p: float(-(p * p.log2()).nanmean()), "mean over tokens"),
    (lambda p: 3.0, "Wrong for a distribution of"),
])
def test_entropy_slips(probs, wrong, slip):
    assert not (probs == 0).any() and wrong is not None
    result = ch00.check_entropy(wrong, probs)
    assert not result and slip in result.message


def test_three_ticks(clock):
    zh = clock  # any clock: the check compares with its first three generated ids
    lm = zh.lm
    assert ch00.check_three_ticks(list(zh.generated_ids[:3]), zh, lm)
    with_prompt = ch00.check_three_ticks(list(zh.prompt_ids) + zh.generated_ids[:3], zh, lm)
    assert not with_prompt and "includes the prompt" in with_prompt.message
    two = ch00.check_three_ticks(zh.generated_ids[:2], zh, lm)
    assert not two and "2 items; the answer has 3" in two.message and "As text" in two.message
    assert str(zh.generated_ids[:3]) not in two.message, "the answer is never printed"


def test_three_ticks_in_any_form(clock):
    zh, lm = clock, clock.lm
    ids = list(zh.generated_ids[:3])
    texts = [lm.decode([i]) for i in ids]
    forms = [tuple(ids), torch.tensor(ids), lm.decode(ids)]
    if not any("\ufffd" in t for t in texts):   # whole tokens: their text names them too
        forms += [texts, [visible(t) for t in texts]]
    for form in forms:
        result = ch00.check_three_ticks(form, zh, lm)
        assert result, (form, result.message)
    shuffled = ch00.check_three_ticks(ids[::-1], zh, lm)
    assert not shuffled or ids[::-1] == ids


@pytest.mark.parametrize("name", ["kv_cache_length", "entropy", "three_ticks"])
def test_every_mistake_in_chinese(name, clock, probs):
    calls = {"kv_cache_length": lambda check, answer: check(answer, clock),
             "entropy": lambda check, answer: check(answer, probs),
             "three_ticks": lambda check, answer: check(answer, clock, clock.lm)}
    assert assert_every_mistake_speaks("zh", getattr(ch00, f"check_{name}"), calls[name])
