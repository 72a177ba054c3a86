"""Checks for notebook 02 · Embeddings."""

from __future__ import annotations

import math

import torch

from ..checks import check_close, msg, solution_of
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
    mistakes = [(E[paris + 1], msg("ch02.paris_vector.next_row")),
                (E[paris - 1], msg("ch02.paris_vector.row_before"))]
    word = lm.decode([paris])   # ' Paris': the same word without its space is another token
    bare = word.lstrip(" ")
    if bare != word and bare and len(lm.encode(bare)) == 1:
        mistakes.append((E[single_token_id(lm, bare)],
                         msg("ch02.paris_vector.no_space", bare=repr(bare))))
    expected = embedding_matrix(lm)[paris]   # the table's row (Gemma's layer also scales it)
    return check_close(vector, expected, msg("ch02.paris_vector.name", word=repr(word)),
                       mistakes=mistakes, hint=msg("ch02.paris_vector.hint"))


def check_cosine(cosine, a: torch.Tensor, b: torch.Tensor):
    """Exercise 2: cosine similarity of a and b by hand."""
    dot = torch.dot(a, b)
    right = cosine_similarity(a, b)
    mistakes = [
        (dot, msg("ch02.cosine.dot_product")),
        (dot / a.norm() * b.norm(), msg("ch02.cosine.precedence")),
        (dot / a.norm(), msg("ch02.cosine.one_length")),
        (dot / b.norm(), msg("ch02.cosine.one_length")),
        (dot / (a.norm() ** 2 * b.norm() ** 2), msg("ch02.cosine.squared_lengths")),
        (dot / (a @ a * b.norm()), msg("ch02.cosine.a_dot_a")),
        (1 - right, msg("ch02.cosine.distance")),
    ]
    return check_close(cosine, right, msg("ch02.cosine.name"), mistakes=mistakes,
                       hint=msg("ch02.cosine.hint"), atol=1e-4)


def check_rope_angle(angle, theta: float, head_dim: int, position: int = 10, pair: int = 1):
    """Exercise 3: the angle RoPE turns pair `pair` of a query at `position` (radians)."""
    right = float(rope_angles([position], head_dim, theta)[0, pair])

    def angle_of(pos, i, dim=head_dim, sign=-1, two=2):
        return pos * theta ** (sign * two * i / dim)

    mistakes = [
        (angle_of(position, pair, sign=1), msg("ch02.rope_angle.exponent_sign")),
        (angle_of(position, pair, two=1), msg("ch02.rope_angle.factor_2")),
        (angle_of(position, pair, dim=head_dim // 2),
         msg("ch02.rope_angle.number_of_pairs", head_dim=head_dim, pairs=head_dim // 2)),
        (angle_of(position - 1, pair),
         msg("ch02.rope_angle.other_position", yours=position - 1, position=position)),
        (angle_of(position + 1, pair),
         msg("ch02.rope_angle.other_position", yours=position + 1, position=position)),
        (math.degrees(right), msg("ch02.rope_angle.degrees")),
        (position * theta ** (-2) * pair / head_dim, msg("ch02.rope_angle.precedence")),
    ]
    if pair != 0:
        mistakes.insert(0, (angle_of(position, 0), msg("ch02.rope_angle.pair_0", pair=pair)))
    return check_close(angle, right, msg("ch02.rope_angle.name", pair=pair, position=position),
                       mistakes=mistakes, period=2 * math.pi, atol=1e-4,
                       hint=msg("ch02.rope_angle.hint", position=position, pair=pair))
