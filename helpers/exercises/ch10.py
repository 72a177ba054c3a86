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

from ..checks import check, check_function, msg, shown, solution_of

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
        (lambda s, n, lp: s / n, msg("ch10.beam_score.no_power")),
        (lambda s, n, lp: s * n ** lp, msg("ch10.beam_score.multiplied")),
        (lambda s, n, lp: s / (n + 1) ** lp, msg("ch10.beam_score.one_too_many")),
        (lambda s, n, lp: s / n * lp, msg("ch10.beam_score.factor")),
        (lambda s, n, lp: s ** lp / n, msg("ch10.beam_score.on_the_score")),
        (lambda s, n, lp: -s / n ** lp, msg("ch10.beam_score.sign")),
    ]
    return check_function(fn, lambda s, n, lp: s / n ** lp, _SCORE_CASES,
                          msg("ch10.beam_score.name"), mistakes=mistakes,
                          describe=lambda c: msg("ch10.beam_score.case", total=c[0], n=c[1],
                                                 length_penalty=c[2]),
                          hint=msg("ch10.beam_score.hint"))


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
    name, hint = msg("ch10.penalties.name"), msg("ch10.penalties.hint")
    if callable(fn):
        logits, previous, frequency, presence = _penalty_cases()[0]
        try:
            fn(logits, list(previous), frequency, presence)
        except Exception:  # reported with its case by check_function below
            pass
        if not torch.equal(logits, _penalty_cases()[0][0]):
            return check(False, name, msg("ch10.penalties.in_place"), hint)

    def fresh(f):
        return lambda z, p, fr, pr: f(z.clone(), list(p), fr, pr)

    mistakes = [
        (lambda z, p, f, r: z - (f + r) * _counts(z, p),
         msg("ch10.penalties.presence_per_occurrence")),
        (lambda z, p, f, r: z - (f + r) * (_counts(z, p) > 0).float(),
         msg("ch10.penalties.frequency_once")),
        (lambda z, p, f, r: z + f * _counts(z, p) + r * (_counts(z, p) > 0).float(),
         msg("ch10.penalties.added")),
        (lambda z, p, f, r: z / (1 + f * _counts(z, p) + r * (_counts(z, p) > 0).float()),
         msg("ch10.penalties.divided")),
        (lambda z, p, f, r: z - r * _counts(z, p) - f * (_counts(z, p) > 0).float(),
         msg("ch10.penalties.swapped")),
    ]
    return check_function(fresh(fn) if callable(fn) else fn, _right_penalties, _penalty_cases(),
                          name, mistakes=mistakes, hint=hint,
                          describe=lambda c: msg("ch10.penalties.case", previous=c[1],
                                                 frequency=c[2], presence=c[3]))


def check_top_head(answer, scores: torch.Tensor):
    """Exercise 3: the (layer, head) with the highest induction score in `scores` [layers, heads].

    Also evaluated on a table of another shape (4 layers x 6 heads), as a function of scores,
    when the answer is a function; a plain pair is compared with the notebook's table.
    """
    name, hint = msg("ch10.top_head.name"), msg("ch10.top_head.hint")
    if answer is None or answer is Ellipsis:
        return check(False, name, msg("check.empty"), hint)
    if callable(answer):
        other = torch.zeros(4, 6)
        other[2, 5], other[3, 1] = 0.9, 0.4
        cases = [(scores,), (other,)]

        def reference(s):
            return divmod(int(s.flatten().argmax()), s.shape[1])

        mistakes = [
            (lambda s: divmod(int(s.flatten().argmax()), s.shape[0]),
             msg("ch10.top_head.by_layers")),
            (lambda s: tuple(reversed(divmod(int(s.flatten().argmax()), s.shape[1]))),
             msg("ch10.top_head.swapped")),
        ]
        return check_function(answer, reference, cases, name, hint=hint, mistakes=mistakes,
                              describe=lambda c: msg("ch10.top_head.case",
                                                     shape=tuple(c[0].shape)))
    try:
        layer, head = (int(v) for v in answer)
    except Exception:
        return check(False, name, msg("ch10.top_head.not_a_pair", answer=shown(answer, 60)), hint)
    best = divmod(int(scores.flatten().argmax()), scores.shape[1])
    if (layer, head) == best:
        return check(True, name)
    if (head, layer) == best:
        return check(False, name, msg("ch10.top_head.swapped"), hint)
    flat = int(scores.flatten().argmax())
    if (layer, head) == divmod(flat, scores.shape[0]):
        return check(False, name, msg("ch10.top_head.by_layers"), hint)
    if not (0 <= layer < scores.shape[0] and 0 <= head < scores.shape[1]):
        return check(False, name, msg("ch10.top_head.no_such_head", layer=layer, head=head,
                                      n_layers=scores.shape[0], n_heads=scores.shape[1]), hint)
    return check(False, name, msg("ch10.top_head.lower", layer=layer, head=head,
                                  score=f"{float(scores[layer, head]):.2f}"), hint)
