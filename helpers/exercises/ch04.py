"""Checks for notebook 04 · The forward pass."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..checks import check, check_function, solution_of
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


_EMPTY = "It is still empty: replace the ... in the function with your code."


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
         "The learned weight is missing: multiply by weight at the end."),
        (lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(-1, keepdim=True)),
         "eps is missing inside the square root: it keeps a tiny vector from being blown up "
         "(on SmolLM2's vectors it hardly shows; the check also tries tiny ones)."),
        (lambda x, w, e: w * x / (torch.sqrt(x.pow(2).mean(-1, keepdim=True)) + e),
         "eps belongs inside the square root: sqrt(mean of squares + eps)."),
        (lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(0, keepdim=True) + e),
         "You averaged over the tokens (dim 0); average each vector's squares over its own "
         "numbers (dim=-1)."),
        (lambda x, w, e: w * x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + e),
         "That divides by the length (sum of squares), not the root-mean-square: take the mean."),
        (lambda x, w, e: w * x / (x.pow(2).mean(-1, keepdim=True) + e),
         "The square root is missing: divide by sqrt(mean of squares + eps)."),
        (lambda x, w, e: w * (x - x.mean(-1, keepdim=True))
         / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + e),
         "That is LayerNorm: RMSNorm does not subtract the mean."),
    ]
    if _still_empty(my_rms_norm, cases[1]):
        return check(False, "RMSNorm", _EMPTY)
    return check_function(my_rms_norm, _rms_norm, cases, "RMSNorm", mistakes=mistakes,
                          describe=lambda c: f"vectors of shape {tuple(c[0].shape)} with eps = "
                                             f"{c[2]:g}",
                          hint="x.pow(2).mean(dim=-1, keepdim=True) is each row's mean of squares, "
                               "kept as a column so that the division works row by row.")


def check_silu(my_silu, gate: torch.Tensor):
    """Exercise 2: my_silu(z) on block 5's gate values and on z from -8 to 8."""
    cases = [(gate,), (torch.linspace(-8, 8, 33),)]
    mistakes = [
        (lambda z: torch.sigmoid(z), "That is the sigmoid alone: multiply it by z."),
        (lambda z: torch.relu(z), "That is ReLU: SiLU is smooth, and slightly negative for "
                                  "negative z."),
        (lambda z: z * torch.sigmoid(-z), "sigmoid(-z): the sign is flipped inside."),
        (lambda z: F.gelu(z), "That is GELU (GPT-2's activation): close, but SiLU is "
                              "z · sigmoid(z)."),
        (lambda z: z * torch.tanh(z), "tanh is not the sigmoid: use torch.sigmoid."),
        (lambda z: F.softplus(z), "That is softplus, log(1 + e^z): SiLU is z · sigmoid(z)."),
    ]
    if _still_empty(my_silu, cases[1]):
        return check(False, "SiLU", _EMPTY)
    return check_function(my_silu, F.silu, cases, "SiLU", mistakes=mistakes,
                          describe=lambda c: f"{c[0].numel()} values from {float(c[0].min()):.1f} "
                                             f"to {float(c[0].max()):.1f}",
                          hint="Multiply z by its own sigmoid, element by element (*, not the "
                               "matrix product @).")


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
         "The final norm is missing: apply final_norm first (its learned gain changes which "
         "token wins; dividing by the RMS alone would not)."),
        (lambda n: lens(stream[min(n + 1, lm.n_layers), -1]),
         "Off by one: stream[n] is the vector after n blocks (stream[0] = the embeddings)."),
        (lambda n: lens(stream[n - 1, -1]), "Off by one: stream[n] is the vector after n blocks."),
        (lambda n: lens(stream[n, 0]), "That is the first position; the next token is predicted "
                                       "at the last one: stream[n, -1]."),
        (lambda n: lens(stream[-1, -1]), "That is always the last block's prediction: use n."),
    ]
    if _still_empty(top_after, cases[0]):
        return check(False, "top token after n blocks", _EMPTY)
    return check_function(_as_number(top_after, int), lambda n: lens(stream[n, -1]), cases,
                          "top token after n blocks", mistakes=mistakes,
                          describe=lambda c: f"n = {c[0]}",
                          hint="stream[n, -1] is the last token after n blocks; apply final_norm "
                               "before lm.model.lm_head, then .argmax().")


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
        (lambda c, w, s, r: float((w * c) @ r), "The frozen scale (1/rms of the final vector) "
                                                "is missing."),
        (lambda c, w, s, r: float((c * s) @ r), "The final norm's weight is missing: multiply "
                                                "by it, dimension by dimension."),
        (lambda c, w, s, r: float(c @ r), "Both the norm's weight and the frozen scale are "
                                          "missing."),
        (rms_of_itself, "You normalised each write by its own rms: then the shares no longer add "
                        "up. Freeze the scale of the final vector (parts.scale) for every write."),
        (lambda c, w, s, r: float((w * c / s) @ r), "Divided by the scale; it is already 1/rms: "
                                                    "multiply."),
    ]
    if _still_empty(share, cases[0]):
        return check(False, "one write's share of the logit", _EMPTY)
    return check_function(_as_number(share, float), right, cases,
                          "one write's share of the logit", mistakes=mistakes,
                          describe=lambda c: f"a write of length {float(c[0].norm()):.3g} with "
                                             f"scale {c[2]:.3g}",
                          hint="Multiply the write by the scale and by the norm's weight, then "
                               "take the dot product with the target's unembedding row.")
