"""Checks for notebook 10 · Decoding strategies.

Exercise 1 asks for the finished-beam score as a function, checked on several lengths and
length penalties: at length_penalty = 1 and one token, many wrong formulas coincide.
Exercise 2 asks for the OpenAI frequency + presence penalty as a function, checked on a
small case where a token appears several times (so "once" and "per occurrence" differ).
Exercise 3 asks for the strongest induction head as (layer, head) from a score table whose
shape is not SmolLM2's, so an unravel with the wrong width is caught.
"""

from __future__ import annotations

import torch

from ..checks import check, check_function, solution_of

__all__ = ["check_beam_score", "check_penalties", "check_top_head", "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "beam_score": r'''
def beam_score(sum_logprob, n_new_tokens, length_penalty):
    return sum_logprob / n_new_tokens ** length_penalty
''',
    "penalties": r'''
def penalise(logits, previous_ids, frequency, presence):
    counts = torch.bincount(torch.tensor(previous_ids, dtype=torch.long), minlength=len(logits))
    return logits - frequency * counts - presence * (counts > 0).float()
''',
    "top_head": r'''
# one flat index, unravelled by the row length (heads per layer)
best_head = divmod(int(scores.flatten().argmax()), scores.shape[1])
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


_SCORE_CASES = [(-4.0, 4, 1.0), (-4.0, 4, 2.0), (-3.0, 1, 1.0), (-6.5, 5, 0.0), (-2.0, 3, -1.0),
                (-9.0, 6, 0.5)]


def check_beam_score(fn):
    """Exercise 1: fn(sum_logprob, n_new_tokens, length_penalty) -> the finished-beam score."""
    mistakes = [
        (lambda s, n, lp: s / n, "That divides by the length whatever the length penalty: "
                                 "raise the length to the power length_penalty."),
        (lambda s, n, lp: s * n ** lp, "Multiplied by length ** length_penalty; beam search "
                                       "divides by it (an average log-prob per token at 1.0)."),
        (lambda s, n, lp: s / (n + 1) ** lp, "One token too many: the length counts the new "
                                             "tokens only (the end token included)."),
        (lambda s, n, lp: s / n * lp, "The penalty is an exponent on the length, not a factor."),
        (lambda s, n, lp: s ** lp / n, "The exponent belongs on the length, not on the score."),
        (lambda s, n, lp: -s / n ** lp, "The sign is flipped: log-probabilities are negative and "
                                        "so is the score."),
    ]
    return check_function(fn, lambda s, n, lp: s / n ** lp, _SCORE_CASES, "finished-beam score",
                          mistakes=mistakes,
                          describe=lambda c: f"sum {c[0]}, {c[1]} new tokens, "
                                             f"length_penalty {c[2]}",
                          hint="Divide the sum by a power of the length; the length counts new "
                               "tokens only, and the length penalty is the exponent.")


def _penalty_cases():
    logits = torch.tensor([1.5, -0.5, 2.0, 0.0, 3.0, -2.0])
    return [(logits, [4, 4, 4, 1, 2], 0.5, 0.25), (logits, [0, 5, 5], 1.0, 0.0),
            (logits, [3], 0.0, 2.0), (logits, [], 0.7, 0.7), (logits, [2, 2, 4], 0.0, 0.5)]


def _right_penalties(logits, previous, frequency, presence):
    counts = torch.bincount(torch.tensor(previous, dtype=torch.long), minlength=len(logits))
    return logits - frequency * counts - presence * (counts > 0).float()


def _counts(logits, previous):
    return torch.bincount(torch.tensor(previous, dtype=torch.long), minlength=len(logits)).float()


def check_penalties(fn):
    """Exercise 2: fn(logits, previous_ids, frequency, presence) -> the penalised logits.

    Each case gets its own copy of the logits; a function that changes the logits passed in is
    told so (a sampler must leave the model's logits as they were)."""
    name = "frequency and presence penalties"
    hint = ("Count each id (torch.bincount); the frequency penalty scales with the count, the "
            "presence penalty only with count > 0.")
    if callable(fn):
        logits, previous, frequency, presence = _penalty_cases()[0]
        try:
            fn(logits, list(previous), frequency, presence)
        except Exception:  # reported with its case by check_function below
            pass
        if not torch.equal(logits, _penalty_cases()[0][0]):
            return check(False, name, "It changed the logits passed in (logits[i] -= ... works in "
                         "place): start from a copy, logits.clone(), or build a new tensor.",
                         hint)

    def fresh(f):
        return lambda z, p, fr, pr: f(z.clone(), list(p), fr, pr)

    mistakes = [
        (lambda z, p, f, r: z - (f + r) * _counts(z, p),
         "The presence penalty is subtracted once per occurrence; it counts only whether the "
         "token appeared (count > 0), once."),
        (lambda z, p, f, r: z - (f + r) * (_counts(z, p) > 0).float(),
         "The frequency penalty is subtracted only once; it grows with the count of the token."),
        (lambda z, p, f, r: z + f * _counts(z, p) + r * (_counts(z, p) > 0).float(),
         "The penalties are added; subtract them, so that repeated tokens become less likely."),
        (lambda z, p, f, r: z / (1 + f * _counts(z, p) + r * (_counts(z, p) > 0).float()),
         "Divided the logits; these penalties subtract a fixed amount (dividing is what the "
         "repetition penalty does, and it goes the wrong way for negative logits)."),
        (lambda z, p, f, r: z - r * _counts(z, p) - f * (_counts(z, p) > 0).float(),
         "frequency and presence are swapped: frequency x count, presence x (count > 0)."),
    ]
    return check_function(fresh(fn) if callable(fn) else fn, _right_penalties, _penalty_cases(),
                          name, mistakes=mistakes, hint=hint,
                          describe=lambda c: f"previous ids {c[1]}, frequency {c[2]}, "
                                             f"presence {c[3]}")


def check_top_head(answer, scores: torch.Tensor):
    """Exercise 3: the (layer, head) with the highest induction score in `scores` [layers, heads].

    Also evaluated on a table of another shape (4 layers x 6 heads), as a function of scores,
    when the answer is a function; a plain pair is compared with the notebook's table.
    """
    name = "the strongest induction head"
    hint = ("flatten().argmax() gives one index into the flattened table; unravel it with "
            "divmod by the length of a row.")
    if answer is None or answer is Ellipsis:
        return check(False, name, "It is still empty: replace the ... with your code.", hint)
    if callable(answer):
        other = torch.zeros(4, 6)
        other[2, 5], other[3, 1] = 0.9, 0.4
        cases = [(scores,), (other,)]

        def reference(s):
            return divmod(int(s.flatten().argmax()), s.shape[1])

        mistakes = [
            (lambda s: divmod(int(s.flatten().argmax()), s.shape[0]),
             "Unravelled with the number of layers; divide by the number of heads per layer "
             "(the row length, scores.shape[1])."),
            (lambda s: tuple(reversed(divmod(int(s.flatten().argmax()), s.shape[1]))),
             "(head, layer): the pair is (layer, head)."),
        ]
        return check_function(answer, reference, cases, name, hint=hint, mistakes=mistakes,
                              describe=lambda c: f"a score table of shape {tuple(c[0].shape)}")
    try:
        layer, head = (int(v) for v in answer)
    except Exception:
        return check(False, name, f"Give a pair (layer, head), got {answer!r:.60}.", hint)
    best = divmod(int(scores.flatten().argmax()), scores.shape[1])
    if (layer, head) == best:
        return check(True, name)
    if (head, layer) == best:
        return check(False, name, "(head, layer): the pair is (layer, head).", hint)
    flat = int(scores.flatten().argmax())
    if (layer, head) == divmod(flat, scores.shape[0]):
        return check(False, name, "Unravelled with the number of layers; divide by the number of "
                     "heads per layer (scores.shape[1]).", hint)
    if not (0 <= layer < scores.shape[0] and 0 <= head < scores.shape[1]):
        return check(False, name, f"There is no layer {layer}, head {head}: the table is "
                     f"{scores.shape[0]} layers x {scores.shape[1]} heads.", hint)
    return check(False, name, f"Layer {layer}, head {head} scores "
                 f"{float(scores[layer, head]):.2f}; a higher score exists.", hint)
