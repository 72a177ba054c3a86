"""Checks for notebook 09 · Scoring a text."""

from __future__ import annotations

import math

import torch

from ..checks import check, check_equal, check_function, msg, same_token, solution_of

__all__ = ["check_to_bits", "check_perplexity", "check_token_logprobs", "check_biggest_jump",
           "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "to_bits": r'''
def to_bits(logprobs):
    return -logprobs / math.log(2)     # log2 p = ln p / ln 2; surprisal is minus that
''',
    "perplexity": r'''
def my_perplexity(logprobs):
    return math.exp(-logprobs.mean())   # exp of the mean loss per token
''',
    "token_logprobs": r'''
def my_token_logprobs(logits, ids):
    logprobs = torch.log_softmax(logits[:-1], dim=-1)   # the last row predicts past the text
    return logprobs[torch.arange(len(ids) - 1), ids[1:]]  # row i scores token i + 1
''',
    "biggest_jump": r'''
jump = scored["factual error"].surprisal_bits - scored["fluent"].surprisal_bits
biggest_jump = scored["factual error"].scored_tokens[int(jump.argmax())]
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


# Log-probabilities of texts of different lengths, so that a formula right for one length by
# chance (or a sum that equals a mean for one token) is caught.
_LOGPROB_CASES = [(torch.tensor(v),) for v in ([-0.5, -2.0, -7.25], [-0.1], [-3.0, -3.0],
                                               [-12.0, -0.01, -4.5, -1.0, -0.7])]


def _still_empty(fn, case) -> bool:
    """A function whose body is still the `return ...` of the exercise cell."""
    try:
        return callable(fn) and fn(*case) is Ellipsis
    except Exception:
        return False


_EMPTY = msg("check.function.empty")


def check_to_bits(to_bits):
    """Exercise 1: surprisal in bits from natural-log log-probabilities."""
    mistakes = [
        (lambda lp: -lp, msg("ch09.to_bits.nats")),
        (lambda lp: lp / math.log(2), msg("ch09.to_bits.sign")),
        (lambda lp: -lp * math.log(2), msg("ch09.to_bits.multiplied")),
        (lambda lp: -lp / math.log(10), msg("ch09.to_bits.base_10")),
        (lambda lp: -torch.log2(lp.exp()) * math.log(2), msg("ch09.to_bits.twice")),
    ]
    name = msg("ch09.to_bits.name")
    if _still_empty(to_bits, _LOGPROB_CASES[0]):
        return check(False, name, _EMPTY)
    return check_function(to_bits, lambda lp: -lp / math.log(2), _LOGPROB_CASES,
                          name, mistakes=mistakes,
                          describe=lambda c: msg("ch09.logprobs", values=c[0].tolist()),
                          hint=msg("ch09.to_bits.hint"))


def check_perplexity(my_perplexity):
    """Exercise 2: perplexity from the log-probabilities of the scored tokens."""
    mistakes = [
        (lambda lp: math.exp(-lp.sum()), msg("ch09.perplexity.total")),
        (lambda lp: math.exp(lp.mean()), msg("ch09.perplexity.inverse")),
        (lambda lp: 2 ** (-lp.mean()), msg("ch09.perplexity.power_of_2")),
        (lambda lp: lp.neg().exp().mean(), msg("ch09.perplexity.arithmetic")),
        (lambda lp: math.exp(-lp.sum() / (len(lp) + 1)), msg("ch09.perplexity.one_too_many")),
        (lambda lp: -lp.mean(), msg("ch09.perplexity.loss")),
    ]
    name = msg("ch09.perplexity.name")
    if _still_empty(my_perplexity, _LOGPROB_CASES[0]):
        return check(False, name, _EMPTY)
    return check_function(my_perplexity, lambda lp: math.exp(-float(lp.mean())), _LOGPROB_CASES,
                          name, mistakes=mistakes,
                          describe=lambda c: msg("ch09.logprobs", values=c[0].tolist()),
                          hint=msg("ch09.perplexity.hint"))


def _right_token_logprobs(logits, ids):
    return torch.log_softmax(logits[:-1], dim=-1).gather(-1, ids[1:, None])[:, 0]


def check_token_logprobs(my_token_logprobs, logits: torch.Tensor, ids: torch.Tensor):
    """Exercise 3: from one pass's logits [T, vocab] and the ids [T], each next token's log-prob.

    Checked on the notebook's text and on a small random case (5 tokens, vocabulary 7).
    """
    generator = torch.Generator().manual_seed(0)
    cases = [(logits, ids), (torch.randn(5, 7, generator=generator) * 3,
                             torch.tensor([3, 0, 6, 6, 2]))]
    mistakes = [
        (lambda lg, i: torch.log_softmax(lg, -1).gather(-1, i[:, None])[:, 0],
         msg("ch09.token_logprobs.no_shift")),
        (lambda lg, i: torch.log_softmax(lg[1:], -1).gather(-1, i[1:, None])[:, 0],
         msg("ch09.token_logprobs.wrong_way")),
        (lambda lg, i: torch.log_softmax(lg[:-1], -1).gather(-1, i[:-1, None])[:, 0],
         msg("ch09.token_logprobs.token_read")),
        (lambda lg, i: torch.softmax(lg[:-1], -1).gather(-1, i[1:, None])[:, 0],
         msg("ch09.token_logprobs.probabilities")),
        (lambda lg, i: lg[:-1].gather(-1, i[1:, None])[:, 0], msg("ch09.token_logprobs.raw")),
        (lambda lg, i: torch.log_softmax(lg[:-1], 0).gather(-1, i[1:, None])[:, 0],
         msg("ch09.token_logprobs.wrong_dimension")),
    ]
    name = msg("ch09.token_logprobs.name")
    if _still_empty(my_token_logprobs, cases[1]):
        return check(False, name, _EMPTY)
    return check_function(my_token_logprobs, _right_token_logprobs, cases, name,
                          mistakes=mistakes,
                          describe=lambda c: msg("ch09.token_logprobs.case", n=c[0].shape[0],
                                                 vocab=c[0].shape[1]),
                          hint=msg("ch09.token_logprobs.hint"))


def check_biggest_jump(answer, error_scores, fluent_scores):
    """Exercise 4: the token where the factual error's surprisal exceeds the fluent text's most.

    The token in any form passes: its label ('·Rome'), its exact text (' Rome'), the word
    without its space when no other token of the sentence reads the same, or its id."""
    jump = error_scores.surprisal_bits - fluent_scores.surprisal_bits
    at = int(jump.argmax())
    right = error_scores.scored_tokens[at]
    if same_token(answer, error_scores.ids[at + 1], right, others=error_scores.scored_tokens):
        answer = right
    mistakes = [
        (error_scores.tokens[at], msg("ch09.biggest_jump.off_by_one")),
        (error_scores.scored_tokens[int(error_scores.surprisal_bits.argmax())],
         msg("ch09.biggest_jump.error_alone")),
        (error_scores.scored_tokens[int(jump.argmin())], msg("ch09.biggest_jump.argmin")),
    ]
    mistakes = [(wrong, message) for wrong, message in mistakes if wrong != right]
    name = msg("ch09.biggest_jump.name")
    if isinstance(answer, int) or hasattr(answer, "tolist"):   # an id or a position
        if int(answer) == at:
            return check(False, name, msg("ch09.biggest_jump.position"))
        answer = _label_of(error_scores, answer)
    return check_equal(answer, right, name, mistakes=mistakes,
                       hint=msg("ch09.biggest_jump.hint"))


def _label_of(scores, token_id) -> object:
    """The label of `token_id` in the scored text (so a wrong id is shown as a token), or the
    id itself when the text has no such token."""
    try:
        return scores.tokens[list(scores.ids).index(int(token_id))]
    except (ValueError, TypeError):
        return token_id
