"""Notebook 11's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import math

import pytest

from helpers.exercises import ch11
from exercise_language import assert_every_mistake_speaks
from helpers.quantization import bytes_per_weight
from helpers.speculative import VerifyStep


def accepted_tokens(drafted, choices):   # the worked solution
    n = 0
    while n < len(drafted) and drafted[n] == choices[n]:
        n += 1
    return drafted[:n] + [choices[n]]


def test_accepted_tokens_solution_passes_and_matches_the_helper():
    assert ch11.check_accepted_tokens(accepted_tokens)
    as_tuple = ch11.check_accepted_tokens(lambda d, c: tuple(accepted_tokens(d, c)))
    assert as_tuple, as_tuple.message   # (5, 6, 9) is as right as [5, 6, 9]
    for drafted, choices in ch11.ACCEPT_CASES:
        added = accepted_tokens(drafted, choices)
        step = VerifyStep(1, 1 + len(drafted), tuple(drafted), len(added) - 1, added[-1])
        assert list(step.new_ids) == accepted_tokens(drafted, choices)


@pytest.mark.parametrize("wrong, slip", [
    (lambda d, c: accepted_tokens(d, c)[:-1], "own token is missing"),
    (lambda d, c: [x for x, y in zip(d, c) if x == y] + [c[len(d)]], "after a wrong one"),
    (lambda d, c: list(c), "keeps every choice"),
    (lambda d, c: list(d) + [c[len(d)]], "without checking"),
    (lambda d, c: [c[0]], "Wrong for"),
    (lambda d: d, "TypeError"),
    (lambda d, c: None, "return ..."),   # wording of helpers.checks
    ([5, 6, 9], "should be a function"),
    (..., "still empty"),
])
def test_accepted_tokens_slips(wrong, slip):
    result = ch11.check_accepted_tokens(wrong)
    assert not result and slip in result.message, result.message


def passes(n_new, k):   # the worked solution
    return 1 + math.ceil((n_new - 1) / (k + 1))


def test_passes_solution_passes():
    assert ch11.check_passes_if_always_right(passes)
    assert ch11.check_passes_if_always_right(lambda n, k: 1 + -(-(n - 1) // (k + 1)))


@pytest.mark.parametrize("wrong, slip", [
    (lambda n, k: math.ceil(n / (k + 1)), "prefill is missing"),
    (lambda n, k: 1 + math.ceil((n - 1) / k) if k else n, "adds k + 1 tokens"),
    (lambda n, k: 1 + (n - 1) // (k + 1), "round up"),
    (lambda n, k: n, "plain greedy"),
    (lambda n, k: 9, "Wrong for"),             # a number read off the notebook's run
    (lambda n: n, "TypeError"),
])
def test_passes_slips(wrong, slip):
    result = ch11.check_passes_if_always_right(wrong)
    assert not result and slip in result.message, result.message


def block_bytes(bits, block_size, extra_bytes):   # the worked solution
    return (block_size * bits / 8 + extra_bytes) / block_size


def test_block_bytes_solution_passes_and_agrees_with_the_helper():
    assert ch11.check_block_bytes(block_bytes)
    assert block_bytes(4, 32, 4) == bytes_per_weight("q4_1")
    assert block_bytes(8, 32, 2) == bytes_per_weight("q8_0")


@pytest.mark.parametrize("wrong, slip", [
    (lambda b, n, e: b / 8, "scales are missing"),
    (lambda b, n, e: b / 8 + e, "shared by the whole block"),
    (lambda b, n, e: (n * b + e) / n, "bits and bytes mixed"),
    (lambda b, n, e: (n * b / 8 + e) / 32, "32 is typed in"),
    (lambda b, n, e: 8 * block_bytes(b, n, e), "bits per weight"),
    (lambda b, n, e: 0.625, "Wrong for"),
])
def test_block_bytes_slips(wrong, slip):
    result = ch11.check_block_bytes(wrong)
    assert not result and slip in result.message, result.message


@pytest.mark.parametrize("name", ["accepted_tokens", "passes_if_always_right", "block_bytes"])
def test_every_mistake_in_chinese(name):
    check = getattr(ch11, f"check_{name}")
    assert assert_every_mistake_speaks("zh", check, lambda check, answer: check(answer))
