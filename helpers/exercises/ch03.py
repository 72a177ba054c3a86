"""Checks for notebook 03 · Attention."""

from __future__ import annotations

import torch

from ..attention import kv_head_index
from ..checks import check_close, check_function, solution_of

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
                 "Divided by the largest exp; divide by the sum of the exps.")]
    if scores_row is not None:
        mistakes.append((torch.softmax(scores_row, dim=-1), "That softmax also weighs later "
                         "tokens: start from the masked row, where they are −∞."))
    return check_close(weights, right, "attention weights of one token", mistakes=mistakes,
                       hint="exp of each score divided by the sum of the exps; exp(-inf) is 0.")


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
        (lambda h, n, k: h // k, "You divided by the number of kv heads; divide by the group size "
                                 "n_heads // n_kv_heads (on SmolLM2 both are 3, elsewhere not)."),
        (lambda h, n, k: h // 3, "That is SmolLM2's group size typed in: compute it from n_heads "
                                 "and n_kv_heads."),
        (lambda h, n, k: h % k, "The remainder deals heads out in turn (0, 1, 2, 0, ...); heads "
                                "are grouped in consecutive blocks: integer division."),
        (lambda h, n, k: h % group_size(n, k), "That is the head's place inside its group, not "
                                               "the group: integer division, not %."),
        (lambda h, n, k: (h + 1) // group_size(n, k), "Off by one: heads count from 0, so head "
                                                      "0 is in group 0."),
        (lambda h, n, k: h // group_size(n, k) + 1, "Off by one: kv heads count from 0."),
        (lambda h, n, k: h // (k // n) if k >= n else None, "The group size is n_heads // "
                                                            "n_kv_heads, not the other way round."),
    ]
    return check_function(kv_head, kv_head_index, KV_HEAD_CASES, "kv_head", mistakes=mistakes,
                          describe=lambda c: f"head {c[0]} with {c[1]} query heads and {c[2]} "
                                             f"kv heads",
                          hint="Heads form groups of n_heads // n_kv_heads consecutive heads. "
                               "Which group is the head in? Integer division (//), not %.")


def check_previous_token_score(score, W: torch.Tensor, layer: int, head: int):
    """Exercise 3: mean attention of tokens 1..T-1 on the token just before, one head."""
    pattern = W[layer, head]
    below = torch.diagonal(pattern, offset=-1)
    T = pattern.shape[-1]
    mistakes = [
        (torch.diagonal(pattern).mean(), "That is the main diagonal (each token on itself): use "
                                         "offset=-1."),
        (torch.diagonal(pattern, offset=1).mean(), "offset=+1 is above the diagonal, the "
                                                   "future, always 0: use offset=-1."),
        (below.sum(), "That is the sum; the score is the mean over the T − 1 tokens."),
        (below.sum() / T, "Divided by T; there are only T − 1 tokens with a token before them."),
        (torch.diagonal(W[head, layer], offset=-1).mean(), "Layer and head are swapped: "
                                                           "W[layer, head]."),
    ]
    return check_close(score, below.mean(), f"previous-token score of layer {layer}, head {head}",
                       mistakes=mistakes,
                       hint="offset=-1 (not the main diagonal) gives the T - 1 weights on the "
                            "token just before; then average them.")
