"""Checks for notebook 04 · The forward pass."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checks import check, check_function, msg, solution_of
from ..embeddings import final_norm

__all__ = ["check_rms_norm", "check_silu", "check_top_after", "check_share", "SOLUTIONS",
           "show_solution"]

SOLUTIONS = {
    "rms_norm": r'''
def my_rms_norm(x, weight, eps):
    return weight * x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)
''',
    "silu": r'''
def my_silu(z):
    return z * torch.sigmoid(z)   # near 0 for very negative z, near z for large z
''',
    "top_after": r'''
def top_after(n):
    with torch.no_grad():
        return int(lm.model.lm_head(final_norm(stream[n, -1])).argmax())

print(repr(lm.decode([top_after(20)])))   # not ' Paris' yet
''',
    "share": r'''
def share(c, weight, scale, row):
    return (weight * c * scale) @ row    # the frozen final norm, then the unembedding row
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


_EMPTY = msg("check.function.empty")


def _still_empty(fn, case) -> bool:
    """A function whose body is still the `return ...` of the exercise cell."""
    try:
        return callable(fn) and fn(*case) is Ellipsis
    except Exception:
        return False


def _as_number(fn, kind):
    """The learner's function with its result as a plain int/float (a 0-d tensor is fine too)."""
    if not callable(fn):
        return fn   # check_function says it should be a function

    def wrapped(*args):
        result = fn(*args)
        return result if result is None else kind(result)
    return wrapped


def _rms_norm(x, weight, eps):
    return weight * x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)


def check_rms_norm(my_rms_norm, x: torch.Tensor, weight: torch.Tensor, eps: float):
    """Exercise 1: my_rms_norm(x, weight, eps), on the block-0 input and on two made-up cases.

    On SmolLM2's vectors eps = 1e-5 changes almost nothing, so a formula without it would pass:
    the second case has tiny vectors and a large eps, where it matters.
    """
    generator = torch.Generator().manual_seed(0)
    tiny = torch.randn(3, 8, generator=generator) * 1e-2
    cases = [(x, weight, eps), (tiny, torch.rand(8, generator=generator) + 0.5, 1e-3),
             (torch.randn(4, 6, generator=generator) * 5, torch.rand(6, generator=generator), 1e-5)]
    mistakes = [
        (lambda x, w, e: x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + e),
         msg("ch04.rms_norm.no_weight")),
        (lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(-1, keepdim=True)),
         msg("ch04.rms_norm.no_eps")),
        (lambda x, w, e: w * x / (torch.sqrt(x.pow(2).mean(-1, keepdim=True)) + e),
         msg("ch04.rms_norm.eps_outside")),
        (lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(0, keepdim=True) + e),
         msg("ch04.rms_norm.over_tokens")),
        (lambda x, w, e: w * x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + e),
         msg("ch04.rms_norm.sum")),
        (lambda x, w, e: w * x / (x.pow(2).mean(-1, keepdim=True) + e),
         msg("ch04.rms_norm.no_sqrt")),
        (lambda x, w, e: w * (x - x.mean(-1, keepdim=True))
         / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + e),
         msg("ch04.rms_norm.layer_norm")),
    ]
    if _still_empty(my_rms_norm, cases[1]):
        return check(False, "RMSNorm", _EMPTY)
    return check_function(my_rms_norm, _rms_norm, cases, "RMSNorm", mistakes=mistakes,
                          describe=lambda c: msg("ch04.rms_norm.case", shape=tuple(c[0].shape),
                                                 eps=f"{c[2]:g}"),
                          hint=msg("ch04.rms_norm.hint"))


def check_silu(my_silu, gate: torch.Tensor):
    """Exercise 2: my_silu(z) on block 5's gate values and on z from -8 to 8."""
    cases = [(gate,), (torch.linspace(-8, 8, 33),)]
    mistakes = [
        (lambda z: torch.sigmoid(z), msg("ch04.silu.sigmoid")),
        (lambda z: torch.relu(z), msg("ch04.silu.relu")),
        (lambda z: z * torch.sigmoid(-z), msg("ch04.silu.sign")),
        (lambda z: F.gelu(z), msg("ch04.silu.gelu")),
        (lambda z: z * torch.tanh(z), msg("ch04.silu.tanh")),
        (lambda z: F.softplus(z), msg("ch04.silu.softplus")),
    ]
    if _still_empty(my_silu, cases[1]):
        return check(False, "SiLU", _EMPTY)
    return check_function(my_silu, F.silu, cases, "SiLU", mistakes=mistakes,
                          describe=lambda c: msg("ch04.silu.case", n=c[0].numel(),
                                                 low=f"{float(c[0].min()):.1f}",
                                                 high=f"{float(c[0].max()):.1f}"),
                          hint=msg("ch04.silu.hint"))


def check_top_after(top_after, lm, stream: torch.Tensor):
    """Exercise 3: top_after(n) = id of the top token at the last position after n blocks.

    Checked for several n: at some blocks the neighbours' top tokens (or the un-normed
    prediction) coincide with the right one.
    """
    norm, head = final_norm(lm), lm.model.get_output_embeddings()

    def lens(vector, normed=True) -> int:
        with torch.no_grad():
            return int(head(norm(vector) if normed else vector).argmax())

    # a few depths that exist in this model (30 blocks in SmolLM2, 18 in Gemma 3 270M)
    depths = {n for n in (3, 12, 20, 26) if n < lm.n_layers} | {lm.n_layers - 2, lm.n_layers}
    cases = [(n,) for n in sorted(depths)]
    mistakes = [
        (lambda n: lens(stream[n, -1], normed=False),
         msg("ch04.top_after.no_final_norm")),
        (lambda n: lens(stream[min(n + 1, lm.n_layers), -1]), msg("ch04.top_after.one_more")),
        (lambda n: lens(stream[n - 1, -1]), msg("ch04.top_after.one_less")),
        (lambda n: lens(stream[n, 0]), msg("ch04.top_after.first_position")),
        (lambda n: lens(stream[-1, -1]), msg("ch04.top_after.last_block")),
    ]
    name = msg("ch04.top_after.name")
    if _still_empty(top_after, cases[0]):
        return check(False, name, _EMPTY)
    return check_function(_as_number(top_after, int), lambda n: lens(stream[n, -1]), cases,
                          name, mistakes=mistakes, describe=lambda c: f"n = {c[0]}",
                          hint=msg("ch04.top_after.hint"))


def check_share(share, parts, writes, final_weight: torch.Tensor, row: torch.Tensor):
    """Exercise 4: share(c, weight, scale, row) = what one residual write c adds to the target's
    logit with the final norm's scale frozen. Checked on every block's attention and MLP write
    of the notebook, and on made-up weights, scales and rows (so that a weight of all ones, or a
    scale near 1, cannot hide a missing factor)."""
    generator = torch.Generator().manual_seed(0)
    d = row.shape[-1]
    cases = [(writes.attention[n, -1], final_weight, parts.scale, row)
             for n in range(len(parts.attention))]
    cases += [(writes.mlp[n, -1], final_weight, parts.scale, row) for n in range(len(parts.mlp))]
    cases += [(torch.randn(d, generator=generator), torch.rand(d, generator=generator) + 0.5,
               0.25, torch.randn(d, generator=generator)) for _ in range(2)]

    def right(c, w, scale, r):
        return float((w * c * scale) @ r)

    def rms_of_itself(c, w, scale, r):
        return float((w * c * torch.rsqrt(c.pow(2).mean() + 1e-5)) @ r)

    mistakes = [
        (lambda c, w, s, r: float((w * c) @ r), msg("ch04.share.no_scale")),
        (lambda c, w, s, r: float((c * s) @ r), msg("ch04.share.no_weight")),
        (lambda c, w, s, r: float(c @ r), msg("ch04.share.neither")),
        (rms_of_itself, msg("ch04.share.own_rms")),
        (lambda c, w, s, r: float((w * c / s) @ r), msg("ch04.share.divided")),
    ]
    name = msg("ch04.share.name")
    if _still_empty(share, cases[0]):
        return check(False, name, _EMPTY)
    return check_function(_as_number(share, float), right, cases, name, mistakes=mistakes,
                          describe=lambda c: msg("ch04.share.case",
                                                 length=f"{float(c[0].norm()):.3g}",
                                                 scale=f"{c[2]:.3g}"),
                          hint=msg("ch04.share.hint"))
