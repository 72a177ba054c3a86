"""Notebook 05's exercise checks: worked solutions pass, real slips fail with their message,
and no message gives the answer away."""

from __future__ import annotations

import re

import pytest
import torch

from helpers.clock import next_token_logits
from helpers.exercises import ch05
from helpers.sampling import apply_top_p
from exercise_language import assert_every_mistake_speaks


@pytest.fixture(scope="module")
def logits():
    torch.manual_seed(0)
    return torch.randn(500) * 6   # like a model's: the largest z / T at T = 0.7 stays below 88


def softmax_t(z, T):   # the worked solution
    scaled = z / T
    e = torch.exp(scaled - scaled.max())
    return e / e.sum()


@pytest.mark.parametrize("right", [
    softmax_t,
    lambda z, T: torch.exp((z - z.max()) / T) / torch.exp((z - z.max()) / T).sum(),
    lambda z, T: torch.softmax(z / T, dim=-1),
])
def test_softmax_solutions_pass(logits, right):
    assert ch05.check_softmax_t(right, logits)


def naive(z, T):
    return torch.exp(z / T) / torch.exp(z / T).sum()


def in_place(z, T):
    z /= T
    z -= z.max()
    return z.exp() / z.exp().sum()


@pytest.mark.parametrize("wrong, slip", [
    (naive, "subtract the maximum"),
    (lambda z, T: torch.exp(z - z.max()) / torch.exp(z - z.max()).sum(), "temperature is missing"),
    (lambda z, T: softmax_t(z * T, 1.0), "multiplied by T"),
    (lambda z, T: torch.exp(z / T - (z / T).max()), "divide by their sum"),
    (lambda z, T: torch.exp(z / T - (z / T).max()) / torch.exp(z / T - (z / T).max()).max(),
     "not by the largest"),
    (lambda z, T: torch.log_softmax(z / T, dim=-1), "log-probabilities"),
    (in_place, "changed the logits passed in"),
    (lambda z, T: None, "returned None"),
    (lambda z: softmax_t(z, 0.7), "TypeError"),
    (softmax_t(torch.zeros(3), 1.0), "should be a function"),
    (..., "still empty"),
])
def test_softmax_slips(logits, wrong, slip):
    if wrong is naive:   # right at T = 0.7 on these logits: only the overflow case tells
        torch.testing.assert_close(naive(logits, 0.7), softmax_t(logits, 0.7))
    result = ch05.check_softmax_t(wrong, logits)
    assert not result and slip in result.message, result.message


# ----- exercise 2 and 3 need the real counts: a tiny model stands in for SmolLM2 ------------

def test_top_p_count(tiny_lm):
    z = next_token_logits(tiny_lm, tiny_lm.encode_prompt(ch05.TOP_P_PROMPT))
    right = int(torch.isfinite(apply_top_p(z, ch05.TOP_P)).sum())
    assert ch05.check_top_p_count(right, tiny_lm)
    assert ch05.check_top_p_count(torch.tensor(right), tiny_lm)
    vocab = z.numel()
    slips = [(vocab, "whole vocabulary"), (vocab - right, "removed tokens"),
             (right - 1, "One too few"), (right + 1, "one too many"), ("7", "whole number"),
             (..., "still empty")]
    for p in (0.5, 0.9):
        other = int(torch.isfinite(apply_top_p(z, p)).sum())
        if other not in (right, right - 1, right + 1):
            slips.append((other, f"top-p = {p:g} keeps"))
    for wrong, slip in slips:
        result = ch05.check_top_p_count(wrong, tiny_lm)
        assert not result and slip in result.message, (wrong, result.message)
        text = result.message.replace(f"{ch05.TOP_P:g}", "").replace(f"{wrong!r}", "")
        assert not re.search(rf"\b{right}\b", text), f"the answer leaked: {result.message}"


def test_top_p_count_on_a_prompt_that_differs(tiny_lm):
    """A count taken after another prompt is named as such."""
    for other in (ch05.TOP_P_PROMPT + " ", ch05.TOP_P_PROMPT.lower()):
        z = next_token_logits(tiny_lm, tiny_lm.encode_prompt(other))
        wrong = int(torch.isfinite(apply_top_p(z, ch05.TOP_P)).sum())
        result = ch05.check_top_p_count(wrong, tiny_lm)
        right = int(torch.isfinite(apply_top_p(next_token_logits(
            tiny_lm, tiny_lm.encode_prompt(ch05.TOP_P_PROMPT)), ch05.TOP_P)).sum())
        if wrong != right:
            assert not result


def test_penalised_logit():
    assert ch05.check_penalised_logit(-2.0 * 1.5)
    for wrong, slip in [(-2.0 / 1.5, "You divided"), (3.0, "sign is flipped"),
                        (2.0 / 1.5, "sign is flipped"), (-3.5, "not an amount to subtract"),
                        (-0.5, "not an amount to add"), (-2.0, "Largest difference"),
                        (None, "still empty")]:
        result = ch05.check_penalised_logit(wrong)
        assert not result and slip in result.message, result.message
        assert "-3.0" not in result.message and "−3" not in result.message


def test_the_notebook_asks_what_the_check_checks():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks" / "05_sampling.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    exercise = next("".join(c["source"]) for c in cells
                    if "**Exercise 2.**" in "".join(c["source"]))
    assert f'"{ch05.TOP_P_PROMPT}"' in exercise and f"top-p = {ch05.TOP_P:g}" in exercise


@pytest.mark.parametrize("name", ["softmax_t", "top_p_count", "penalised_logit"])
def test_every_mistake_in_chinese(name, logits, tiny_lm):
    calls = {"softmax_t": lambda check, answer: check(answer, logits),
             "top_p_count": lambda check, answer: check(answer, tiny_lm, "The clock"),
             "penalised_logit": lambda check, answer: check(answer)}
    assert assert_every_mistake_speaks("zh", getattr(ch05, f"check_{name}"), calls[name])
