"""Checks for notebook 02 · Embeddings."""

from __future__ import annotations

import math

import torch

from ..checks import check_close, solution_of
from ..embeddings import cosine_similarity, embedding_matrix, rope_angles, single_token_id

__all__ = ["check_paris_vector", "check_cosine", "check_rope_angle", "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "paris_vector": r'''
paris_vector = E[paris]   # same as one_hot([paris], lm.vocab_size) @ E, without the zeros
''',
    "cosine": r'''
cosine = torch.dot(king, queen) / (king.norm() * queen.norm())
''',
    "rope_angle": r'''
angle = 10 * theta ** (-2 * 1 / lm.head_dim)
# about 6.98 radians: just over one full turn (2π ≈ 6.28); pair 0 is at 10
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


def check_paris_vector(vector, lm, E: torch.Tensor, paris: int):
    """Exercise 1: row `paris` of the embedding table."""
    mistakes = [(E[paris + 1], "That is the next row: row i of E is token i (ids count from 0)."),
                (E[paris - 1], "That is the row before: row i of E is token i.")]
    no_space = single_token_id(lm, "Paris") if len(lm.encode("Paris")) == 1 else None
    if no_space is not None:
        mistakes.append((E[no_space], "That is 'Paris' without the leading space, another token: "
                                      "use the id in `paris`."))
    expected = embedding_matrix(lm)[paris]   # the table's row (Gemma's layer also scales it)
    return check_close(vector, expected, "the vector of ' Paris'", mistakes=mistakes,
                       hint="The vector of token i is row i of E: E[i].")


def check_cosine(cosine, a: torch.Tensor, b: torch.Tensor):
    """Exercise 2: cosine similarity of a and b by hand."""
    dot = torch.dot(a, b)
    right = cosine_similarity(a, b)
    mistakes = [
        (dot, "That is the plain dot product: divide by both lengths."),
        (dot / a.norm() * b.norm(), "Operator precedence: dot / a.norm() * b.norm() divides by "
                                    "|a| and then multiplies by |b|. Put the product of the "
                                    "lengths in parentheses."),
        (dot / a.norm(), "Divided by one length only: divide by |a| × |b|."),
        (dot / b.norm(), "Divided by one length only: divide by |a| × |b|."),
        (dot / (a.norm() ** 2 * b.norm() ** 2), "Divided by the squared lengths: use |a| × |b|."),
        (dot / (a @ a * b.norm()), "Divided by a · a, the squared length: use |a| = a.norm()."),
        (1 - right, "That is 1 − cos, the cosine distance."),
    ]
    return check_close(cosine, right, "cosine of ' king' and ' queen'", mistakes=mistakes,
                       hint="cos = (a · b) / (|a| × |b|)", atol=1e-4)


def check_rope_angle(angle, theta: float, head_dim: int, position: int = 10, pair: int = 1):
    """Exercise 3: the angle RoPE turns pair `pair` of a query at `position` (radians)."""
    right = float(rope_angles([position], head_dim, theta)[0, pair])

    def angle_of(pos, i, dim=head_dim, sign=-1, two=2):
        return pos * theta ** (sign * two * i / dim)

    mistakes = [
        (angle_of(position, 0), "That is pair 0, which turns by 1 radian per position: use i = 1."),
        (angle_of(position, pair, sign=1), "The exponent's sign: theta ** (-2 * i / head_dim) "
                                           "makes later pairs turn slower."),
        (angle_of(position, pair, two=1), "The factor 2 in the exponent is missing: "
                                          "-2 * i / head_dim."),
        (angle_of(position, pair, dim=head_dim // 2), "Divide by head_dim (64), not by the number "
                                                      "of pairs (32)."),
        (angle_of(position - 1, pair), "Position 9: the query is at position 10."),
        (angle_of(position + 1, pair), "Position 11: the query is at position 10."),
        (math.degrees(right), "That is in degrees; the formula gives radians."),
        (position * theta ** (-2) * pair / head_dim, "Operator precedence: ** binds tighter than "
                                                     "* and /, so theta ** -2 * i / head_dim "
                                                     "is (theta ** -2) * i / head_dim. Put the "
                                                     "whole exponent in parentheses."),
    ]
    return check_close(angle, right, f"RoPE angle of pair {pair} at position {position}",
                       mistakes=mistakes, period=2 * math.pi, atol=1e-4,
                       hint="Put position = 10 and i = 1 into the formula of section 4; Python "
                            "writes a power as **.")
