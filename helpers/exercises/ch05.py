"""Checks for notebook 05 · Sampling.

Exercise 1 asks for a *function* softmax_t(z, T), not a tensor: on the notebook's logits at
T = 0.7 nothing overflows, so a softmax without the max subtraction would pass. The check
also runs it where exp overflows (and where it underflows), which only the stable one survives.
"""

from __future__ import annotations

import torch

from ..checks import check, check_close, check_equal, check_function, msg, solution_of
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
    hint = msg("ch05.softmax_t.hint")
    if callable(fn):
        z = logits.detach().float().cpu().clone()
        try:
            fn(z, 0.7)
        except Exception:  # reported with its case by check_function below
            pass
        if not torch.equal(z, logits.detach().float().cpu()):
            return check(False, name, msg("ch05.softmax_t.in_place"), hint)
    mistakes = [
        (lambda z, t: torch.exp(z / t) / torch.exp(z / t).sum(),
         msg("ch05.softmax_t.overflow")),
        (lambda z, t: torch.exp(z - z.max()) / torch.exp(z - z.max()).sum(),
         msg("ch05.softmax_t.no_temperature")),
        (lambda z, t: _stable(z * t, 1.0), msg("ch05.softmax_t.multiplied")),
        (lambda z, t: torch.exp(z / t - (z / t).max()),   # = divided by the largest exp, 1
         msg("ch05.softmax_t.not_normalised")),
        (lambda z, t: torch.log_softmax(z.double() / t, dim=-1).to(z.dtype),
         msg("ch05.softmax_t.log_probabilities")),
    ]
    return check_function(fn, _stable, _softmax_cases(logits), name, mistakes=mistakes, hint=hint,
                          describe=lambda c: msg("ch05.softmax_t.case", n=f"{c[0].numel():,}",
                                                 t=f"{c[1]:.3g}"))


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
        (vocab, msg("ch05.top_p_count.whole_vocabulary")),
        (vocab - right, msg("ch05.top_p_count.removed")),
        (right - 1, msg("ch05.top_p_count.one_too_few")),
    ]
    for other_p in (0.5, 0.9, 0.95, 1 - p):
        if abs(other_p - p) > 1e-9:
            mistakes.append((_kept(z, other_p), msg("ch05.top_p_count.other_p",
                                                    other_p=f"{other_p:g}", p=f"{p:g}")))
    for other in (prompt + " ", prompt.rstrip() + ":", prompt.lower()):
        if other != prompt:
            mistakes.append((_kept(next_token_logits(lm, lm.encode_prompt(other)), p),
                             msg("ch05.top_p_count.other_prompt", other=repr(other),
                                 prompt=repr(prompt))))
    mistakes = [(value, message) for value, message in mistakes if value != right]
    name = msg("ch05.top_p_count.name", p=f"{p:g}")
    if not isinstance(kept, int) and kept is not None and kept is not Ellipsis:
        return check(False, name, msg("ch05.top_p_count.not_whole", kind=type(kept).__name__))
    return check_equal(kept, right, name, mistakes=mistakes, hint=msg("ch05.top_p_count.hint"))


def check_penalised_logit(value, logit: float = -2.0, penalty: float = 1.5):
    """Exercise 3: a context token's logit after the repetition penalty."""
    right = float(apply_repetition_penalty(torch.tensor([logit]), [0], penalty)[0])
    mistakes = [
        (logit / penalty, msg("ch05.penalised_logit.divided")),
        (-logit * penalty, msg("ch05.penalised_logit.sign")),
        (-logit / penalty, msg("ch05.penalised_logit.sign_and_divided")),
        (logit - penalty, msg("ch05.penalised_logit.subtracted")),
        (logit + penalty, msg("ch05.penalised_logit.added")),
    ]
    return check_close(value, right, msg("ch05.penalised_logit.name"), mistakes=mistakes,
                       hint=msg("ch05.penalised_logit.hint", penalty=f"{penalty:g}"))
