"""Checks for notebook 03 · Attention."""

from __future__ import annotations

import torch

from ..attention import kv_head_index
from ..checks import check_close, check_function, msg, solution_of

__all__ = ["check_softmax_row", "check_kv_head", "check_previous_token_score", "KV_HEAD_CASES",
           "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "softmax_row": r'''
my_weights = torch.exp(row) / torch.exp(row).sum()
# A softmax that cannot overflow subtracts the largest score first (the result is the same):
# my_weights = torch.exp(row - row.max()) / torch.exp(row - row.max()).sum()
''',
    "kv_head": r'''
def kv_head(head, n_heads, n_kv_heads):
    group_size = n_heads // n_kv_heads   # query heads per kv head: 3 in SmolLM2
    return head // group_size            # heads 6, 7, 8 share kv head 2
''',
    "previous_token_score": r'''
my_prev_score = torch.diagonal(W[2, 1], offset=-1).mean()
# or with a loop: sum(W[2, 1, i, i - 1] for i in range(1, T)) / (T - 1)
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


def check_softmax_row(weights, masked_row: torch.Tensor, scores_row: torch.Tensor | None = None,
                      expected: torch.Tensor | None = None):
    """Exercise 1: softmax of one masked row of scores, by hand."""
    right = torch.softmax(masked_row, dim=-1) if expected is None else expected
    mistakes = [(masked_row.exp() / masked_row.exp().max(),
                 msg("ch03.softmax_row.by_the_largest"))]
    if scores_row is not None:
        mistakes.append((torch.softmax(scores_row, dim=-1), msg("ch03.softmax_row.unmasked")))
    return check_close(weights, right, msg("ch03.softmax_row.name"), mistakes=mistakes,
                       hint=msg("ch03.softmax_row.hint"))


# Every head of several layouts: SmolLM2 (9 query / 3 kv), Llama-3-8B-like (32 / 8),
# multi-head (8 / 8), multi-query (8 / 1), and others where no group size equals n_kv_heads.
KV_HEAD_CASES = [(h, n, k) for n, k in [(9, 3), (32, 8), (12, 4), (8, 8), (8, 1), (16, 2), (6, 3)]
                 for h in range(n)]


def check_kv_head(kv_head):
    """Exercise 2: kv_head(head, n_heads, n_kv_heads) on every head of several layouts.

    On SmolLM2 alone, head // n_kv_heads and head // 3 give the right kv head for head 7
    (9 / 3 = 3 = n_kv_heads), and (head + 1) // 3 does too: only other layouts tell.
    """
    def group_size(n, k):
        return n // k

    mistakes = [
        (lambda h, n, k: h // k, msg("ch03.kv_head.by_kv_heads")),
        (lambda h, n, k: h // 3, msg("ch03.kv_head.typed_in")),
        (lambda h, n, k: h % k, msg("ch03.kv_head.remainder")),
        (lambda h, n, k: h % group_size(n, k), msg("ch03.kv_head.place_in_group")),
        (lambda h, n, k: (h + 1) // group_size(n, k), msg("ch03.kv_head.heads_from_0")),
        (lambda h, n, k: h // group_size(n, k) + 1, msg("ch03.kv_head.kv_heads_from_0")),
        (lambda h, n, k: h // (k // n) if k >= n else None, msg("ch03.kv_head.upside_down")),
    ]
    return check_function(kv_head, kv_head_index, KV_HEAD_CASES, "kv_head", mistakes=mistakes,
                          describe=lambda c: msg("ch03.kv_head.case", head=c[0], n_heads=c[1],
                                                 n_kv_heads=c[2]),
                          hint=msg("ch03.kv_head.hint"))


def check_previous_token_score(score, W: torch.Tensor, layer: int, head: int):
    """Exercise 3: mean attention of tokens 1..T-1 on the token just before, one head."""
    pattern = W[layer, head]
    below = torch.diagonal(pattern, offset=-1)
    T = pattern.shape[-1]
    mistakes = [
        (torch.diagonal(pattern).mean(), msg("ch03.previous_token_score.main_diagonal")),
        (torch.diagonal(pattern, offset=1).mean(), msg("ch03.previous_token_score.future")),
        (below.sum(), msg("ch03.previous_token_score.sum")),
        (below.sum() / T, msg("ch03.previous_token_score.by_t")),
        (torch.diagonal(W[head, layer], offset=-1).mean(),
         msg("ch03.previous_token_score.swapped")),
    ]
    return check_close(score, below.mean(),
                       msg("ch03.previous_token_score.name", layer=layer, head=head),
                       mistakes=mistakes, hint=msg("ch03.previous_token_score.hint"))
