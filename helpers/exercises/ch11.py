"""Checks for notebook 11 · Faster ticks.

Each exercise asks for a function, checked on several cases, so a rule that only fits the
example in the notebook (or a number read off a printout) does not pass.
"""

from __future__ import annotations

import math

from ..checks import check_function, solution_of

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
        (lambda d, c: _accepted_tokens(d, c)[:-1], "The model's own token is missing: the pass "
         "also gives its choice after the accepted drafts (a correction, or a bonus when all "
         "drafts were right)."),
        (_matches_anywhere, "A draft after a wrong one cannot be kept: it was read after a token "
         "that will not be in the text. Accept from the left and stop at the first mismatch."),
        (_first_wrong_draft, "After the accepted drafts, the next token is the model's choice, "
         "not the rejected draft."),
        (lambda d, c: list(c), "That keeps every choice; only the choices after *accepted* "
         "drafts are valid, the rest were computed after a wrong token."),
        (lambda d, c: list(d) + [c[len(d)]], "That accepts every draft without checking it "
         "against the model's choices."),
    ]
    return check_function(fn, _accepted_tokens, ACCEPT_CASES, "accepted_tokens",
                          mistakes=mistakes, reveal=True,
                          describe=lambda case: f"drafted={case[0]}, choices={case[1]}",
                          hint="Count how many drafts from the left equal the choice at the "
                               "same index (a while loop), keep those, then append "
                               "choices[count].")


def _passes(n_new, k):
    return 1 + math.ceil((n_new - 1) / (k + 1))


PASS_CASES = [(40, 4), (41, 4), (10, 1), (1, 8), (100, 0), (17, 5), (64, 7)]


def check_passes_if_always_right(fn):
    """Exercise 2: fn(n_new, k) -> forward passes for n_new tokens when every draft is right."""
    mistakes = [
        (lambda n, k: math.ceil(n / (k + 1)), "The prefill is missing: it is a pass of its own, "
         "and it yields exactly one token (there is nothing to verify yet)."),
        (lambda n, k: 1 + math.ceil((n - 1) / k) if k else n, "A pass with k right drafts adds "
         "k + 1 tokens: the drafts and the model's own token after them."),
        (lambda n, k: 1 + (n - 1) // (k + 1), "The last pass may add fewer than k + 1 tokens, "
         "but it is still a pass: round up (math.ceil), not down."),
        (lambda n, k: math.ceil(n / k) if k else n, "Count the prefill, and k + 1 tokens per "
         "later pass."),
        (lambda n, k: n, "That is plain greedy: one pass per token. With k right drafts per "
         "pass there are far fewer."),
    ]
    return check_function(fn, _passes, PASS_CASES, "passes_if_always_right", mistakes=mistakes,
                          reveal=True, describe=lambda c: f"n_new = {c[0]}, k = {c[1]}",
                          hint="One prefill pass gives the first token; every later pass gives "
                               "k + 1 tokens (round up the last one).")


def _block_bytes(bits, block_size, extra_bytes):
    return (block_size * bits / 8 + extra_bytes) / block_size


BLOCK_CASES = [(4, 32, 4), (8, 32, 2), (4, 32, 2), (5, 32, 4), (4, 64, 4), (2, 16, 2)]


def check_block_bytes(fn):
    """Exercise 3: fn(bits, block_size, extra_bytes) -> bytes per weight of a block format."""
    mistakes = [
        (lambda b, n, e: b / 8, "The scales are missing: each block also stores extra_bytes "
         "(Q4_1: a float16 scale and a float16 minimum), shared by its weights."),
        (lambda b, n, e: b / 8 + e, "The extra bytes are shared by the whole block: divide "
         "them by block_size."),
        (lambda b, n, e: (n * b + e) / n, "Those are bits and bytes mixed: the weights take "
         "bits / 8 bytes each."),
        (lambda b, n, e: (n * b / 8 + e) / 32, "32 is typed in: use block_size."),
        (lambda b, n, e: b / 8 + e / 32, "32 is typed in: use block_size."),
        (lambda b, n, e: 8 * _block_bytes(b, n, e), "That is bits per weight: the question "
         "asks for bytes."),
    ]
    return check_function(fn, _block_bytes, BLOCK_CASES, "block_bytes", mistakes=mistakes,
                          reveal=True,
                          describe=lambda c: f"bits={c[0]}, block_size={c[1]}, "
                                             f"extra_bytes={c[2]}",
                          hint="A block holds block_size weights of bits / 8 bytes each, plus "
                               "extra_bytes; divide the block's bytes by block_size.")
