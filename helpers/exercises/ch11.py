"""Checks for notebook 11 · Faster ticks.

Each exercise asks for a function, checked on several cases, so a rule that only fits the
example in the notebook (or a number read off a printout) does not pass.
"""

from __future__ import annotations

import math

from ..checks import check_function, msg, solution_of

__all__ = ["check_accepted_tokens", "check_passes_if_always_right", "check_block_bytes",
           "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "accepted_tokens": r'''
def accepted_tokens(drafted, choices):
    n = 0
    while n < len(drafted) and drafted[n] == choices[n]:   # accept from the left
        n += 1
    return drafted[:n] + [choices[n]]   # then the model's own token: correction or bonus
''',
    "passes_if_always_right": r'''
import math

def passes_if_always_right(n_new, k):
    # the prefill gives 1 token; every later pass gives k accepted drafts + 1 bonus token
    return 1 + math.ceil((n_new - 1) / (k + 1))
''',
    "block_bytes": r'''
def block_bytes(bits, block_size, extra_bytes):
    return (block_size * bits / 8 + extra_bytes) / block_size   # Q4_1: 20 / 32 = 0.625
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


def _accepted_tokens(drafted, choices):
    accepted = 0
    while accepted < len(drafted) and drafted[accepted] == choices[accepted]:
        accepted += 1
    return list(drafted[:accepted]) + [choices[accepted]]


ACCEPT_CASES = [
    ([5, 6, 7], [5, 6, 9, 4]),     # two right, then the model's correction
    ([5, 6, 7], [5, 6, 7, 8]),     # all right: the bonus token after the last draft
    ([5, 6, 7], [1, 6, 7, 8]),     # first wrong: only the correction, even if later ones match
    ([], [3]),                     # no draft: plain greedy
    ([2, 2], [2, 3, 2]),
    ([9], [9, 9]),
]


def _matches_anywhere(drafted, choices):
    return [d for d, c in zip(drafted, choices) if d == c] + [choices[len(drafted)]]


def _first_wrong_draft(drafted, choices):
    kept = _accepted_tokens(drafted, choices)[:-1]
    return kept + [drafted[len(kept)]] if len(kept) < len(drafted) else kept + [choices[len(kept)]]


def check_accepted_tokens(fn):
    """Exercise 1: fn(drafted, choices) -> the tokens one verification pass adds.

    choices[i] is the model's greedy token after reading the last token and drafted[:i], so
    there is one more choice than drafts."""
    mistakes = [
        (lambda d, c: _accepted_tokens(d, c)[:-1], msg("ch11.accepted_tokens.no_own_token")),
        (_matches_anywhere, msg("ch11.accepted_tokens.after_a_wrong_one")),
        (_first_wrong_draft, msg("ch11.accepted_tokens.rejected_draft")),
        (lambda d, c: list(c), msg("ch11.accepted_tokens.every_choice")),
        (lambda d, c: list(d) + [c[len(d)]], msg("ch11.accepted_tokens.every_draft")),
    ]
    return check_function(fn, _accepted_tokens, ACCEPT_CASES, "accepted_tokens",
                          mistakes=mistakes, reveal=True,
                          describe=lambda case: f"drafted={case[0]}, choices={case[1]}",
                          hint=msg("ch11.accepted_tokens.hint"))


def _passes(n_new, k):
    return 1 + math.ceil((n_new - 1) / (k + 1))


PASS_CASES = [(40, 4), (41, 4), (10, 1), (1, 8), (100, 0), (17, 5), (64, 7)]


def check_passes_if_always_right(fn):
    """Exercise 2: fn(n_new, k) -> forward passes for n_new tokens when every draft is right."""
    mistakes = [
        (lambda n, k: math.ceil(n / (k + 1)), msg("ch11.passes.no_prefill")),
        (lambda n, k: 1 + math.ceil((n - 1) / k) if k else n, msg("ch11.passes.k_plus_1")),
        (lambda n, k: 1 + (n - 1) // (k + 1), msg("ch11.passes.round_down")),
        (lambda n, k: math.ceil(n / k) if k else n, msg("ch11.passes.neither")),
        (lambda n, k: n, msg("ch11.passes.plain_greedy")),
    ]
    return check_function(fn, _passes, PASS_CASES, "passes_if_always_right", mistakes=mistakes,
                          reveal=True, describe=lambda c: f"n_new = {c[0]}, k = {c[1]}",
                          hint=msg("ch11.passes.hint"))


def _block_bytes(bits, block_size, extra_bytes):
    return (block_size * bits / 8 + extra_bytes) / block_size


BLOCK_CASES = [(4, 32, 4), (8, 32, 2), (4, 32, 2), (5, 32, 4), (4, 64, 4), (2, 16, 2)]


def check_block_bytes(fn):
    """Exercise 3: fn(bits, block_size, extra_bytes) -> bytes per weight of a block format."""
    mistakes = [
        (lambda b, n, e: b / 8, msg("ch11.block_bytes.no_scales")),
        (lambda b, n, e: b / 8 + e, msg("ch11.block_bytes.not_shared")),
        (lambda b, n, e: (n * b + e) / n, msg("ch11.block_bytes.bits_and_bytes")),
        (lambda b, n, e: (n * b / 8 + e) / 32, msg("ch11.block_bytes.typed_in")),
        (lambda b, n, e: b / 8 + e / 32, msg("ch11.block_bytes.typed_in")),
        (lambda b, n, e: 8 * _block_bytes(b, n, e), msg("ch11.block_bytes.bits")),
    ]
    return check_function(fn, _block_bytes, BLOCK_CASES, "block_bytes", mistakes=mistakes,
                          reveal=True,
                          describe=lambda c: f"bits={c[0]}, block_size={c[1]}, "
                                             f"extra_bytes={c[2]}",
                          hint=msg("ch11.block_bytes.hint"))
