"""Notebook 02's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.embeddings import embedding_matrix, single_token_id
from helpers.exercises import ch02
from exercise_language import assert_every_mistake_speaks

THETA, HEAD_DIM = 100_000.0, 64


@pytest.mark.slow
def test_paris_vector(embedded_lm):
    E = embedding_matrix(embedded_lm)
    paris = single_token_id(embedded_lm, " Paris")
    assert ch02.check_paris_vector(E[paris], embedded_lm, E, paris)
    no_space = single_token_id(embedded_lm, "Paris")
    for wrong, slip in [(E[paris + 1], "next row"), (E[paris - 1], "row before"),
                        (E[no_space], "without the leading space"), (E[:2], "Shape")]:
        result = ch02.check_paris_vector(wrong, embedded_lm, E, paris)
        assert not result and slip in result.message, result.message


def test_cosine():
    torch.manual_seed(0)
    a, b = torch.randn(576), torch.randn(576) + 0.5
    assert ch02.check_cosine(torch.dot(a, b) / (a.norm() * b.norm()), a, b)
    for wrong, slip in [(torch.dot(a, b), "plain dot product"),
                        (torch.dot(a, b) / a.norm(), "one length"),
                        (torch.dot(a, b) / a.norm() * b.norm(), "precedence"),
                        (torch.dot(a, b) / (a.norm() ** 2 * b.norm() ** 2), "squared lengths"),
                        (1 - torch.dot(a, b) / (a.norm() * b.norm()), "cosine distance")]:
        result = ch02.check_cosine(wrong, a, b)
        assert not result and slip in result.message, result.message


def test_rope_angle():
    right = 10 * THETA ** (-2 * 1 / HEAD_DIM)
    assert ch02.check_rope_angle(right, THETA, HEAD_DIM)
    for wrong, slip in [
        (right % (2 * math.pi), "whole turns"),            # reduced mod 2π: no bogus ratio
        (10.0, "pair 0"),
        (10 * THETA ** (2 * 1 / HEAD_DIM), "exponent's sign"),
        (10 * THETA ** (-1 / HEAD_DIM), "factor 2"),
        (10 * THETA ** (-2 / 32), "not by the number of pairs"),
        (9 * THETA ** (-2 / HEAD_DIM), "Position 9"),
        (math.degrees(right), "degrees"),
        (10 * THETA ** -2 * 1 / HEAD_DIM, "precedence"),
        (1.234, "Largest difference"),
    ]:
        result = ch02.check_rope_angle(wrong, THETA, HEAD_DIM)
        assert not result and slip in result.message, result.message
        assert "times the expected" not in result.message


def _spaced_token(lm) -> int:
    """A token ' word' whose 'word' is a token too (as ' Paris' and 'Paris' in SmolLM2)."""
    for i in range(lm.vocab_size - 1, 0, -1):
        text = lm.decode([i])
        if text.startswith(" ") and text.strip() and len(lm.encode(text.strip())) == 1:
            return i
    return 10


@pytest.mark.parametrize("name", ["paris_vector", "cosine", "rope_angle"])
def test_every_mistake_in_chinese(name, tiny_llama):
    torch.manual_seed(0)
    a, b = torch.randn(576), torch.randn(576) + 0.5
    E, token = embedding_matrix(tiny_llama), _spaced_token(tiny_llama)
    calls = {"paris_vector": lambda check, answer: check(answer, tiny_llama, E, token),
             "cosine": lambda check, answer: check(answer, a, b),
             "rope_angle": lambda check, answer: check(answer, THETA, HEAD_DIM)}
    assert assert_every_mistake_speaks("zh", getattr(ch02, f"check_{name}"), calls[name])
