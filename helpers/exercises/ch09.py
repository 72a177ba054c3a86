"""Checks for notebook 09 · Scoring a text."""

from __future__ import annotations

import math

import torch

from ..checks import check, check_equal, check_function, same_token, solution_of

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


_EMPTY = "It is still empty: replace the ... in the function with your code."


def check_to_bits(to_bits):
    """Exercise 1: surprisal in bits from natural-log log-probabilities."""
    mistakes = [
        (lambda lp: -lp, "Those are nats (natural-log units): divide by ln 2 to count bits."),
        (lambda lp: lp / math.log(2), "The sign is flipped: surprisal is -log2 p, a positive "
                                      "number of bits."),
        (lambda lp: -lp * math.log(2), "Multiplied by ln 2; log2 p = ln p / ln 2, so divide."),
        (lambda lp: -lp / math.log(10), "That is log base 10 (decimal digits), not bits."),
        (lambda lp: -torch.log2(lp.exp()) * math.log(2), "Converted twice: log2 of exp(lp) is "
                                                         "already in bits."),
    ]
    if _still_empty(to_bits, _LOGPROB_CASES[0]):
        return check(False, "surprisal in bits", _EMPTY)
    return check_function(to_bits, lambda lp: -lp / math.log(2), _LOGPROB_CASES,
                          "surprisal in bits", mistakes=mistakes,
                          describe=lambda c: f"log-probabilities {c[0].tolist()}",
                          hint="log2 p = ln p / ln 2, and surprisal is minus that.")


def check_perplexity(my_perplexity):
    """Exercise 2: perplexity from the log-probabilities of the scored tokens."""
    mistakes = [
        (lambda lp: math.exp(-lp.sum()), "That is exp of the *total*: perplexity uses the mean "
                                         "per token, so texts of different lengths compare."),
        (lambda lp: math.exp(lp.mean()), "That is 1 / perplexity: the sign inside exp is "
                                         "flipped (perplexity is at least 1)."),
        (lambda lp: 2 ** (-lp.mean()), "2 to the power of a mean in nats: the log-probabilities "
                                       "are natural logs, so use exp (or convert to bits first)."),
        (lambda lp: lp.neg().exp().mean(), "That is the mean of 1/p; perplexity is exp of the "
                                           "mean of -log p (a geometric mean, not arithmetic)."),
        (lambda lp: math.exp(-lp.sum() / (len(lp) + 1)), "Divided by one token too many: the "
                                                         "first token has no score."),
        (lambda lp: -lp.mean(), "That is the mean negative log-probability (the loss); "
                                "perplexity is exp of it."),
    ]
    if _still_empty(my_perplexity, _LOGPROB_CASES[0]):
        return check(False, "perplexity", _EMPTY)
    return check_function(my_perplexity, lambda lp: math.exp(-float(lp.mean())), _LOGPROB_CASES,
                          "perplexity", mistakes=mistakes,
                          describe=lambda c: f"log-probabilities {c[0].tolist()}",
                          hint="Average the log-probabilities, flip the sign, take exp.")


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
         "No shift: row i predicts token i + 1, so pair logits[:-1] with ids[1:]."),
        (lambda lg, i: torch.log_softmax(lg[1:], -1).gather(-1, i[1:, None])[:, 0],
         "Shifted the wrong way: row i predicts token i + 1, so drop the *last* row of logits."),
        (lambda lg, i: torch.log_softmax(lg[:-1], -1).gather(-1, i[:-1, None])[:, 0],
         "Each row scored the token it *read*; score the token after it: ids[1:]."),
        (lambda lg, i: torch.softmax(lg[:-1], -1).gather(-1, i[1:, None])[:, 0],
         "Those are probabilities: take log_softmax, not softmax."),
        (lambda lg, i: lg[:-1].gather(-1, i[1:, None])[:, 0],
         "Those are raw logits: normalise with log_softmax first."),
        (lambda lg, i: torch.log_softmax(lg[:-1], 0).gather(-1, i[1:, None])[:, 0],
         "log_softmax over the wrong dimension: normalise over the vocabulary (dim=-1)."),
    ]
    if _still_empty(my_token_logprobs, cases[1]):
        return check(False, "log-probability of every next token", _EMPTY)
    return check_function(my_token_logprobs, _right_token_logprobs, cases,
                          "log-probability of every next token", mistakes=mistakes,
                          describe=lambda c: f"a text of {c[0].shape[0]} tokens with a "
                                             f"vocabulary of {c[0].shape[1]}",
                          hint="log_softmax over the vocabulary; row i's score is for ids[i + 1] "
                               "(.gather picks one entry per row).")


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
        (error_scores.tokens[at], "Off by one: tokens[0] has no score, so surprisal i belongs to "
                                  "scored_tokens[i] (tokens[i + 1])."),
        (error_scores.scored_tokens[int(error_scores.surprisal_bits.argmax())],
         "That is the most surprising token of the error sentence alone; compare it with the "
         "fluent sentence, position by position."),
        (error_scores.scored_tokens[int(jump.argmin())], "That is where the error sentence is "
                                                         "*least* surprising by comparison: "
                                                         "argmax, not argmin."),
    ]
    mistakes = [(wrong, message) for wrong, message in mistakes if wrong != right]
    if isinstance(answer, int) or hasattr(answer, "tolist"):   # an id or a position
        if int(answer) == at:
            return check(False, "the token with the biggest jump in surprisal",
                         "That is its position in scored_tokens; the answer is the token itself: "
                         "index scored_tokens with it.")
        answer = _label_of(error_scores, answer)
    return check_equal(answer, right, "the token with the biggest jump in surprisal",
                       mistakes=mistakes,
                       hint="error.surprisal_bits - fluent.surprisal_bits, .argmax(), then index "
                            "scored_tokens (not tokens).")


def _label_of(scores, token_id) -> object:
    """The label of `token_id` in the scored text (so a wrong id is shown as a token), or the
    id itself when the text has no such token."""
    try:
        return scores.tokens[list(scores.ids).index(int(token_id))]
    except (ValueError, TypeError):
        return token_id
