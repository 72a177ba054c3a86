"""Notebook 10's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import pytest
import torch

from helpers.decoding import apply_frequency_penalty, apply_presence_penalty
from helpers.exercises import ch10
from exercise_language import assert_answers_speak, assert_every_mistake_speaks


@pytest.mark.parametrize("right", [lambda s, n, lp: s / n ** lp,
                                   lambda s, n, lp: s * n ** -lp,
                                   lambda s, n, lp: float(torch.tensor(s) / torch.tensor(n) ** lp)])
def test_beam_score_solutions_pass(right):
    assert ch10.check_beam_score(right)


@pytest.mark.parametrize("wrong, slip", [
    (lambda s, n, lp: s / n, "whatever the length penalty"),
    (lambda s, n, lp: s * n ** lp, "Multiplied"),
    (lambda s, n, lp: s / (n + 1) ** lp, "One token too many"),
    (lambda s, n, lp: s / n * lp, "exponent on the length"),
    (lambda s, n, lp: -s / n ** lp, "sign is flipped"),
    (lambda s, n, lp: None, "returned None"), (..., "still empty"), (-1.0, "should be a function"),
])
def test_beam_score_slips(wrong, slip):
    result = ch10.check_beam_score(wrong)
    assert not result and slip in result.message, result.message


def _bincount(ids, n):
    return torch.bincount(torch.tensor(ids, dtype=torch.long), minlength=n)


@pytest.mark.parametrize("right", [
    lambda z, p, f, r: apply_presence_penalty(apply_frequency_penalty(z, p, f), p, r),
    lambda z, p, f, r: z - f * _bincount(p, len(z)) - r * (_bincount(p, len(z)) > 0).float(),
    lambda z, p, f, r: torch.stack([z[j] - f * p.count(j) - (r if j in p else 0.0)
                                    for j in range(len(z))]),
])
def test_penalties_solutions_pass(right):
    assert ch10.check_penalties(right)


@pytest.mark.parametrize("wrong, slip", [
    (lambda z, p, f, r: z - (f + r) * _bincount(p, len(z)), "once per occurrence"),
    (lambda z, p, f, r: z - (f + r) * (_bincount(p, len(z)) > 0).float(), "only once"),
    (lambda z, p, f, r: z + f * _bincount(p, len(z)) + r * (_bincount(p, len(z)) > 0).float(),
     "added"),
    (lambda z, p, f, r: z - r * _bincount(p, len(z)) - f * (_bincount(p, len(z)) > 0).float(),
     "swapped"),
    (lambda z, p, f, r: z / (1 + f * _bincount(p, len(z)) + r * (_bincount(p, len(z)) > 0).float()),
     "Divided"),
    (lambda z, p, f, r: z - f * _bincount(p, len(z)), "Wrong for"),   # presence forgotten
])
def test_penalties_slips(wrong, slip):
    result = ch10.check_penalties(wrong)
    assert not result and slip in result.message, result.message


@pytest.fixture
def scores():
    # 30 layers x 9 heads like SmolLM2, best cell at layer 18, head 6 (flat index 168).
    table = torch.rand(30, 9, generator=torch.Generator().manual_seed(0)) * 0.5
    table[18, 6] = 0.9
    table[17, 4] = 0.8
    return table


def test_top_head_solutions_pass(scores):
    assert ch10.check_top_head(divmod(int(scores.flatten().argmax()), scores.shape[1]), scores)
    assert ch10.check_top_head((18, 6), scores)
    assert ch10.check_top_head(lambda s: divmod(int(s.flatten().argmax()), s.shape[1]), scores)
    assert ch10.check_top_head(lambda s: tuple(int(i) for i in (s == s.max()).nonzero()[0]), scores)


@pytest.mark.parametrize("wrong, slip", [
    ((6, 18), "(head, layer)"),
    (divmod(168, 30), "number of layers"),
    ((17, 4), "a higher score exists"),
    ((40, 2), "no layer 40"),
    (168, "Give a pair"),
    (..., "still empty"),
    (lambda s: divmod(int(s.flatten().argmax()), s.shape[0]), "number of layers"),
    (lambda s: divmod(int(s.flatten().argmin()), s.shape[1]), "Wrong for"),
])
def test_top_head_slips(wrong, slip, scores):
    result = ch10.check_top_head(wrong, scores)
    assert not result and slip in result.message, result.message


def in_place(logits, previous_ids, frequency, presence):   # right numbers, spoils the caller's
    for token in previous_ids:
        logits[token] -= frequency
    for token in set(previous_ids):
        logits[token] -= presence
    return logits


def test_penalties_in_place_is_named():
    result = ch10.check_penalties(in_place)
    assert not result and "changed the logits passed in" in result.message
    assert ch10.check_penalties(lambda z, p, f, r: in_place(z.clone(), p, f, r))


def test_penalties_indexing_with_repeated_ids_is_named():
    def indexed(logits, previous_ids, frequency, presence):   # z[ids] -= f applies once per id
        z = logits.clone()
        z[previous_ids] -= frequency
        z[list(set(previous_ids))] -= presence
        return z
    result = ch10.check_penalties(indexed)
    assert not result and "only once" in result.message


@pytest.mark.parametrize("name", ["beam_score", "penalties", "top_head"])
def test_every_mistake_in_chinese(name, scores):
    calls = {"beam_score": lambda check, answer: check(answer),
             "penalties": lambda check, answer: check(answer),
             "top_head": lambda check, answer: check(answer, scores)}
    if name != "top_head":
        assert assert_every_mistake_speaks("zh", getattr(ch10, f"check_{name}"), calls[name])
    else:   # a pair is judged step by step; a function against its catalogued mistakes
        assert_answers_speak("zh", ch10.check_top_head, calls[name],
                             [(6, 18), divmod(168, 30), (40, 2), (17, 4), "18, 6", ...,
                              lambda s: divmod(int(s.flatten().argmax()), s.shape[0]),
                              lambda s: divmod(int(s.flatten().argmax()), s.shape[1])[::-1],
                              lambda s: (0, 0)])


def test_penalties_in_place_in_chinese():
    def in_place(logits, previous, frequency, presence):
        for i in previous:
            logits[i] -= frequency
        return logits
    assert_answers_speak("zh", ch10.check_penalties, lambda check, answer: check(answer),
                         [in_place])
