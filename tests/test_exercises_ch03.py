"""Notebook 03's exercise checks: worked solutions pass, real slips fail with their message,
including formulas whose numbers coincide on SmolLM2 (9 query heads / 3 kv heads = 3)."""

from __future__ import annotations

import pytest
import torch

from helpers.exercises import ch03
from exercise_language import assert_every_mistake_speaks


def test_softmax_row():
    torch.manual_seed(0)
    scores = torch.randn(8)
    masked = scores.masked_fill(torch.arange(8) > 3, float("-inf"))
    assert ch03.check_softmax_row(torch.exp(masked) / torch.exp(masked).sum(), masked, scores)
    shifted = masked - masked.max()
    assert ch03.check_softmax_row(torch.exp(shifted) / torch.exp(shifted).sum(), masked, scores)
    for wrong, slip in [(torch.exp(masked), "sum to"), (torch.softmax(scores, -1), "later tokens"),
                        (torch.exp(masked) / torch.exp(masked).max(), "largest exp"),
                        (torch.softmax(masked, -1)[:4], "Shape")]:
        result = ch03.check_softmax_row(wrong, masked, scores)
        assert not result and slip in result.message, result.message


def kv_head(head, n_heads, n_kv_heads):    # the worked solution
    return head // (n_heads // n_kv_heads)


@pytest.mark.parametrize("right", [kv_head, lambda h, n, k: h * k // n,
                                   lambda h, n, k: int(h / (n / k))])
def test_kv_head_solutions_pass(right):
    assert ch03.check_kv_head(right)


@pytest.mark.parametrize("wrong, slip", [
    (lambda h, n, k: h // k, "divided by the number of kv heads"),   # = 2 for head 7 on SmolLM2
    (lambda h, n, k: h // 3, "SmolLM2's group size typed in"),       # = 2 as well
    (lambda h, n, k: h % k, "remainder"),
    (lambda h, n, k: h % (n // k), "place inside its group"),
    (lambda h, n, k: (h + 1) // (n // k), "head 0 is in group 0"),     # = 2 for head 7 too
    (lambda h, n, k: h // (n // k) + 1, "kv heads count from 0"),
    (lambda h, n, k: h // (k // n), "ZeroDivisionError"),
    (lambda h, n, k: 2, "Wrong for head 0 with 9 query heads"),     # the number for head 7 typed in
])
def test_kv_head_slips(wrong, slip):
    if slip in ("divided by the number of kv heads", "SmolLM2's group size typed in",
                "head 0 is in group 0", "Wrong for head 0 with 9 query heads"):
        assert wrong(7, 9, 3) == kv_head(7, 9, 3), "right for head 7 of SmolLM2 by coincidence"
    result = ch03.check_kv_head(wrong)
    assert not result and slip in result.message, result.message


def test_previous_token_score():
    torch.manual_seed(0)
    future = torch.ones(6, 6).triu(1).bool()
    W = torch.softmax(torch.randn(4, 3, 6, 6).masked_fill(future, float("-inf")), -1)
    right = torch.diagonal(W[2, 1], offset=-1).mean()
    assert ch03.check_previous_token_score(right, W, 2, 1)
    T = 6
    loop = sum(W[2, 1, i, i - 1] for i in range(1, T)) / (T - 1)
    assert ch03.check_previous_token_score(loop, W, 2, 1)
    for wrong, slip in [(torch.diagonal(W[2, 1]).mean(), "main diagonal"),
                        (torch.diagonal(W[2, 1], offset=1).mean(), "the future"),
                        (torch.diagonal(W[2, 1], offset=-1).sum(), "the sum"),
                        (torch.diagonal(W[2, 1], offset=-1).sum() / T, "Divided by T"),
                        (torch.diagonal(W[1, 2], offset=-1).mean(), "swapped")]:
        result = ch03.check_previous_token_score(wrong, W, 2, 1)
        assert not result and slip in result.message, result.message


@pytest.mark.parametrize("name", ["softmax_row", "kv_head", "previous_token_score"])
def test_every_mistake_in_chinese(name):
    torch.manual_seed(0)
    scores = torch.randn(8)
    masked = scores.masked_fill(torch.arange(8) > 3, float("-inf"))
    future = torch.ones(6, 6).triu(1).bool()
    W = torch.softmax(torch.randn(4, 3, 6, 6).masked_fill(future, float("-inf")), -1)
    calls = {"softmax_row": lambda check, answer: check(answer, masked, scores),
             "kv_head": lambda check, answer: check(answer),
             "previous_token_score": lambda check, answer: check(answer, W, 2, 1)}
    assert assert_every_mistake_speaks("zh", getattr(ch03, f"check_{name}"), calls[name])
