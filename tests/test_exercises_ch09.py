"""Notebook 09's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.exercises import ch09
from helpers.scoring import token_logprobs
from exercise_language import assert_every_mistake_speaks


@pytest.mark.parametrize("right", [lambda lp: -lp / math.log(2), lambda lp: -torch.log2(lp.exp()),
                                   lambda lp: lp / -math.log(2)])
def test_to_bits_solutions_pass(right):
    assert ch09.check_to_bits(right)


@pytest.mark.parametrize("wrong, slip", [
    (lambda lp: -lp, "nats"), (lambda lp: lp / math.log(2), "sign is flipped"),
    (lambda lp: -lp * math.log(2), "divide"), (lambda lp: -lp / math.log(10), "base 10"),
    (lambda lp: -torch.log2(lp), "Wrong for"),   # log2 of a log-probability: NaN
    (lambda lp: None, "returned None"), (..., "still empty"), (lambda lp: ..., "still empty"),
    (3.0, "should be a function"),
])
def test_to_bits_slips(wrong, slip):
    result = ch09.check_to_bits(wrong)
    assert not result and slip in result.message, result.message


@pytest.mark.parametrize("right", [lambda lp: math.exp(-lp.mean()),
                                   lambda lp: float(torch.exp(-lp.sum() / len(lp))),
                                   lambda lp: 2 ** float(-lp.mean() / math.log(2))])
def test_perplexity_solutions_pass(right):
    assert ch09.check_perplexity(right)


@pytest.mark.parametrize("wrong, slip", [
    (lambda lp: math.exp(-lp.sum()), "*total*"),       # right for the one-token case
    (lambda lp: math.exp(lp.mean()), "1 / perplexity"),
    (lambda lp: 2 ** (-lp.mean()), "natural logs"),
    (lambda lp: lp.neg().exp().mean(), "geometric mean"),
    (lambda lp: math.exp(-lp.sum() / (len(lp) + 1)), "one token too many"),
    (lambda lp: -lp.mean(), "the loss"),
])
def test_perplexity_slips(wrong, slip):
    result = ch09.check_perplexity(wrong)
    assert not result and slip in result.message, result.message


@pytest.fixture
def one_pass(tiny_lm):
    ids = torch.tensor(tiny_lm.encode("The capital of France is Paris."))
    with torch.no_grad():
        logits = tiny_lm.model(ids[None]).logits[0]
    return logits, ids


def test_token_logprobs_solution_passes(one_pass):
    def mine(logits, ids):
        return torch.log_softmax(logits[:-1], dim=-1)[torch.arange(len(ids) - 1), ids[1:]]
    assert ch09.check_token_logprobs(mine, *one_pass)


@pytest.mark.parametrize("wrong, slip", [
    (lambda lg, i: torch.log_softmax(lg, -1).gather(-1, i[:, None])[:, 0], "No shift"),
    (lambda lg, i: torch.log_softmax(lg[1:], -1).gather(-1, i[1:, None])[:, 0], "wrong way"),
    (lambda lg, i: torch.log_softmax(lg[:-1], -1).gather(-1, i[:-1, None])[:, 0], "it *read*"),
    (lambda lg, i: torch.softmax(lg[:-1], -1).gather(-1, i[1:, None])[:, 0], "probabilities"),
    (lambda lg, i: lg[:-1].gather(-1, i[1:, None])[:, 0], "raw logits"),
    (lambda lg, i: torch.log_softmax(lg[:-1], 0).gather(-1, i[1:, None])[:, 0], "wrong dimension"),
    (lambda lg, i: torch.log_softmax(lg[:-1], -1)[:, i[1:]], "Wrong for"),   # [T-1, T-1] table
    (lambda lg, i: ..., "still empty"),
])
def test_token_logprobs_slips(one_pass, wrong, slip):
    result = ch09.check_token_logprobs(wrong, *one_pass)
    assert not result and slip in result.message, result.message


def test_biggest_jump(tiny_lm):
    fluent = token_logprobs(tiny_lm, "The capital of France is Paris.")
    error = token_logprobs(tiny_lm, "The capital of France is Rome.")
    assert len(fluent.logprobs) == len(error.logprobs)
    jump = error.surprisal_bits - fluent.surprisal_bits
    right = error.scored_tokens[int(jump.argmax())]
    assert ch09.check_biggest_jump(right, error, fluent)
    off_by_one = error.tokens[int(jump.argmax())]
    assert off_by_one != right
    result = ch09.check_biggest_jump(off_by_one, error, fluent)
    assert not result and "Off by one" in result.message
    result = ch09.check_biggest_jump("·nowhere", error, fluent)
    assert not result and "·nowhere" in result.message and repr(right) not in result.message


def test_biggest_jump_in_any_form_of_the_token(tiny_lm):
    fluent = token_logprobs(tiny_lm, "The capital of France is Paris.")
    error = token_logprobs(tiny_lm, "The capital of France is Rome.")
    at = int((error.surprisal_bits - fluent.surprisal_bits).argmax())
    token_id = error.ids[at + 1]
    text = tiny_lm.decode([token_id])
    for form in (error.scored_tokens[at], text, token_id, torch.tensor(token_id), text.strip()):
        result = ch09.check_biggest_jump(form, error, fluent)
        assert result, (form, result.message)
    position = ch09.check_biggest_jump(at, error, fluent)
    assert not position and "position" in position.message
    other = next(i for i in error.ids[1:] if i != token_id)
    assert not ch09.check_biggest_jump(other, error, fluent)


@pytest.mark.parametrize("name", ["to_bits", "perplexity", "token_logprobs", "biggest_jump"])
def test_every_mistake_in_chinese(name, one_pass, tiny_lm):
    fluent = token_logprobs(tiny_lm, "The capital of France is Paris.")
    error = token_logprobs(tiny_lm, "The capital of France is Rome.")
    calls = {"to_bits": lambda check, answer: check(answer),
             "perplexity": lambda check, answer: check(answer),
             "token_logprobs": lambda check, answer: check(answer, *one_pass),
             "biggest_jump": lambda check, answer: check(answer, error, fluent)}
    assert assert_every_mistake_speaks("zh", getattr(ch09, f"check_{name}"), calls[name])
