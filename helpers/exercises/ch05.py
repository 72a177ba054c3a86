"""Checks for notebook 05 · Sampling.

Exercise 1 asks for a *function* softmax_t(z, T), not a tensor: on the notebook's logits at
T = 0.7 nothing overflows, so a softmax without the max subtraction would pass. The check
also runs it where exp overflows (and where it underflows), which only the stable one survives.
"""

from __future__ import annotations

import torch

from ..checks import check, check_close, check_equal, check_function, solution_of
from ..clock import next_token_logits
from ..sampling import apply_repetition_penalty, apply_top_p

__all__ = ["check_softmax_t", "check_top_p_count", "check_penalised_logit", "TOP_P_PROMPT", "TOP_P",
           "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "softmax_t": r'''
def softmax_t(z, T):
    scaled = z / T
    e = torch.exp(scaled - scaled.max())      # subtract the max: no overflow, no 0 / 0
    return e / e.sum()
''',
    "top_p_count": r'''
z = next_token_logits(lm, lm.encode("My favourite food is"))
kept = int(torch.isfinite(apply_top_p(z, 0.75)).sum())
''',
    "penalised_logit": r'''
penalised_logit = -2.0 * 1.5     # negative: multiply, so it goes down
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


TOP_P_PROMPT = "My favourite food is"   # exercise 2: how many tokens does top-p TOP_P keep?
TOP_P = 0.75


def _softmax_cases(logits: torch.Tensor) -> list[tuple[torch.Tensor, float]]:
    """The notebook's case, one where exp(z / T) overflows float32 (largest z / T = 300 >
    88.7), and one where every exp(z) underflows to 0 (then the sum is 0 and 0 / 0 is NaN)."""
    z = logits.detach().float().cpu()
    hot_t = float(z.abs().max()) / 300
    return [(z, 0.7), (z, hot_t), (torch.tensor([-1000.0, -1001.0, -1003.0]), 1.0)]


def _stable(z: torch.Tensor, t: float) -> torch.Tensor:
    return torch.softmax(z.double() / t, dim=-1).to(z.dtype)


def check_softmax_t(fn, logits: torch.Tensor):
    """Exercise 1: fn(z, T) -> the probabilities at temperature T, computed by hand."""
    name = "softmax_t"
    hint = ("Divide by T, subtract the largest value, exponentiate, divide by the sum: "
            "exp(z - z.max()) never exceeds 1.")
    if callable(fn):
        z = logits.detach().float().cpu().clone()
        try:
            fn(z, 0.7)
        except Exception:  # reported with its case by check_function below
            pass
        if not torch.equal(z, logits.detach().float().cpu()):
            return check(False, name, "It changed the logits passed in (z /= T or z -= ... work "
                         "in place): compute new tensors, e.g. scaled = z / T.", hint)
    mistakes = [
        (lambda z, t: torch.exp(z / t) / torch.exp(z / t).sum(),
         "Right at T = 0.7, but NaN where the logits are large (exp overflows to inf, and "
         "inf / inf is NaN) or all very negative (every exp is 0, and 0 / 0 is NaN): subtract "
         "the maximum before exp."),
        (lambda z, t: torch.exp(z - z.max()) / torch.exp(z - z.max()).sum(),
         "The temperature is missing: divide the logits by T first."),
        (lambda z, t: _stable(z * t, 1.0),
         "You multiplied by T; temperature divides the logits (T < 1 must sharpen)."),
        (lambda z, t: torch.exp(z / t - (z / t).max()),   # = divided by the largest exp, 1
         "These are not probabilities yet: divide by their sum (not by the largest) so they "
         "add up to 1."),
        (lambda z, t: torch.log_softmax(z.double() / t, dim=-1).to(z.dtype),
         "Those are log-probabilities (negative numbers): exponentiate, then normalise."),
    ]
    return check_function(fn, _stable, _softmax_cases(logits), name, mistakes=mistakes, hint=hint,
                          describe=lambda c: f"{c[0].numel():,} logits at T = {c[1]:.3g}")


def _kept(z: torch.Tensor, p: float) -> int:
    return int(torch.isfinite(apply_top_p(z, p)).sum())


def check_top_p_count(kept, lm, prompt: str = TOP_P_PROMPT, p: float = TOP_P):
    """Exercise 2: how many tokens top-p keeps after `prompt` (never printed by the check)."""
    z = next_token_logits(lm, lm.encode_prompt(prompt))   # Gemma: <bos> first
    right = _kept(z, p)
    vocab = z.numel()
    if isinstance(kept, torch.Tensor) and kept.numel() == 1:
        kept = int(kept)
    if isinstance(kept, float) and kept.is_integer():
        kept = int(kept)
    mistakes = [
        (vocab, "That is the whole vocabulary: top-p sets the removed logits to −∞, so count "
                "only the finite ones (torch.isfinite)."),
        (vocab - right, "You counted the removed tokens (the −∞ ones); count the survivors."),
        (right - 1, "One too few: top-p also keeps the token that makes the sum reach p "
                    "(count while the sum is still below p, plus one)."),
    ]
    for other_p in (0.5, 0.9, 0.95, 1 - p):
        if abs(other_p - p) > 1e-9:
            mistakes.append((_kept(z, other_p), f"That is what top-p = {other_p:g} keeps; the "
                                                f"exercise asks for p = {p:g}."))
    for other in (prompt + " ", prompt.rstrip() + ":", prompt.lower()):
        if other != prompt:
            mistakes.append((_kept(next_token_logits(lm, lm.encode_prompt(other)), p),
                             f"That is the count after {other!r}: use exactly {prompt!r} "
                             f"(a trailing space or another character is another prompt)."))
    mistakes = [(value, message) for value, message in mistakes if value != right]
    if not isinstance(kept, int) and kept is not None and kept is not Ellipsis:
        return check(False, f"tokens kept by top-p {p:g}", f"The answer is a number of tokens, "
                     f"a whole number; yours is a {type(kept).__name__}.")
    return check_equal(kept, right, f"tokens kept by top-p {p:g}", mistakes=mistakes,
                       hint="next_token_logits(lm, lm.encode_prompt(prompt)), then apply_top_p; a "
                            "removed token has logit −∞, so count the finite ones.")


def check_penalised_logit(value, logit: float = -2.0, penalty: float = 1.5):
    """Exercise 3: a context token's logit after the repetition penalty."""
    right = float(apply_repetition_penalty(torch.tensor([logit]), [0], penalty)[0])
    mistakes = [
        (logit / penalty, "You divided. For a negative logit that moves it up, towards 0: the "
                          "token would become more likely, the opposite of a penalty."),
        (-logit * penalty, "The sign is flipped: the logit stays negative and goes further down."),
        (-logit / penalty, "The sign is flipped, and dividing a negative logit moves it up."),
        (logit - penalty, "The penalty is a factor, not an amount to subtract."),
        (logit + penalty, "The penalty is a factor, not an amount to add (and adding would make "
                          "the token more likely)."),
    ]
    return check_close(value, right, "the penalised logit", mistakes=mistakes,
                       hint="Which way must the logit move to make the token less likely? For a "
                            "negative number, does dividing by 1.5 move it down or up?")
