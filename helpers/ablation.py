"""Head ablation: switch attention heads off and measure what the model loses.

    with heads_ablated(lm, [(4, 2), (5, 7)]):        # (layer, head) pairs
        loss = copy_loss(lm, repeated_random_tokens(lm, 20))

An attention layer concatenates its heads' outputs (head h owns the slice h*head_dim ..
(h+1)*head_dim) and mixes them with one output matrix (o_proj in Llama, c_proj in GPT-2).
Zeroing a head's slice just before that matrix removes exactly that head's contribution to
the residual stream and leaves every other head untouched: a causal test of what the head
does, where an attention pattern only shows where it looks.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Sequence

import torch

from .anatomy import anatomy, capture

__all__ = ["output_projection", "heads_ablated", "token_losses", "copy_loss"]


def output_projection(lm, layer: int) -> torch.nn.Module:
    """The matrix that mixes the concatenated heads of `layer` back into the residual stream."""
    if not 0 <= layer < lm.n_layers:
        raise ValueError(f"layer must be 0..{lm.n_layers - 1} for {lm.name}, got {layer}.")
    return anatomy(lm).blocks[layer].output_projection


@contextmanager
def heads_ablated(lm, heads: Iterable[tuple[int, int]]):
    """Inside the `with`, the given (layer, head) pairs output zeros; restored on exit."""
    by_layer: dict[int, list[int]] = {}
    for layer, head in heads:
        if not 0 <= head < lm.n_heads:
            raise ValueError(f"head must be 0..{lm.n_heads - 1} for {lm.name}, got {head}.")
        by_layer.setdefault(int(layer), []).append(int(head))

    def zero_heads(head_list: list[int]):
        def edit(x: torch.Tensor) -> torch.Tensor:   # [batch, positions, n_heads * head_dim]
            x = x.clone()
            for h in head_list:
                x[..., h * lm.head_dim:(h + 1) * lm.head_dim] = 0
            return x
        return edit

    # "heads" is the input of the output projection: every head's output side by side
    with capture(lm, edits={("heads", layer): zero_heads(hs) for layer, hs in by_layer.items()}):
        yield


@torch.inference_mode()
def token_losses(lm, ids: Sequence[int]) -> torch.Tensor:
    """Cross-entropy (nats) of each token after the first, given the ones before: [len(ids) - 1]."""
    ids = [int(i) for i in ids]
    if len(ids) < 2:
        raise ValueError("Need at least two tokens: a loss scores each token given the ones "
                         "before.")
    logits = lm.model(input_ids=torch.tensor([ids], device=lm.device), use_cache=False).logits
    log_probs = torch.log_softmax(logits[0, :-1].float().cpu(), dim=-1)
    return -log_probs[torch.arange(len(ids) - 1), torch.tensor(ids[1:])]


def copy_loss(lm, ids: Sequence[int]) -> float:
    """Mean loss on the second copy of a repeated sequence (from `repeated_random_tokens`),
    leaving out its first token, which nothing before it predicts."""
    if len(ids) % 2 or list(ids[: len(ids) // 2]) != list(ids[len(ids) // 2:]):
        raise ValueError("copy_loss needs a sequence repeated twice, e.g. "
                         "repeated_random_tokens(lm, 20).")
    half = len(ids) // 2
    # token_losses[i] scores token i + 1; the copy's tokens 1.. are ids[half + 1:].
    return float(token_losses(lm, ids)[half:].mean())
