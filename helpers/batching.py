"""Batching: many prompts share one tick.

A decode tick of one prompt multiplies every weight matrix by a single vector, so its time
goes into streaming the weights from memory. Stack B prompts and the same weights multiply
a B-row matrix instead: the bytes read stay the same, the arithmetic grows B times, and
until the arithmetic catches up, the extra prompts ride along almost for free.

Prompts differ in length, and a tensor needs rows of equal length, so the shorter prompts
are *padded*. Padding goes on the **left**: then every row's newest token sits in the last
column, where the next token is read and appended. The *attention mask* (1 = real token,
0 = padding) keeps every position from attending to the padding, and the *position ids*
count only the real tokens, so each row computes what it would compute alone (up to
float rounding: a batched matrix product may add the same numbers in another order).

    ids, mask = left_pad(lm, ["The capital of France is", "Hello"])
    result = greedy_batch(lm, ["The capital of France is", "Hello"], 10)
    [lm.decode(ids) for ids in result.new_ids]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import torch

from .anatomy import new_cache
from .models import LoadedModel
from .validate import token_ids_of

__all__ = ["as_token_ids", "left_pad", "position_ids", "BatchResult", "greedy_batch"]


def as_token_ids(lm: LoadedModel, prompt) -> list[int]:
    """A prompt given as text or as token ids, as a non-empty list of ids (checked: valid
    text, or whole numbers in the vocabulary; fits the context)."""
    return token_ids_of(lm, prompt, "prompt")


def left_pad(lm: LoadedModel, prompts: Sequence) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids [B, longest] with the shorter prompts padded on the left, and the attention
    mask [B, longest]: 1 for real tokens, 0 for padding."""
    if isinstance(prompts, str) or not prompts:
        raise ValueError("Give a list of prompts, e.g. ['The capital of France is', 'Hello'].")
    rows = [as_token_ids(lm, p) for p in prompts]
    width = max(len(r) for r in rows)
    pad = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


def position_ids(mask: torch.Tensor) -> torch.Tensor:
    """Position of every column counted over real tokens only: 0 at each row's first real
    token (padding gets 0 too; it is masked out anyway)."""
    return (mask.cumsum(dim=-1) - 1).clamp(min=0)


@dataclass
class BatchResult:
    new_ids: list[list[int]]                 # per prompt, the greedy continuation
    tick_ms: list[float] = field(default_factory=list)   # wall time of each tick (0 = prefill)
    logits: torch.Tensor | None = None       # [B, ticks, vocab] when keep_logits=True


def greedy_batch(lm: LoadedModel, prompts: Sequence, max_new_tokens: int,
                 keep_logits: bool = False) -> BatchResult:
    """Greedy decoding of all prompts together: one forward pass per tick for the whole batch.
    No prompt stops early (an end-of-text token is just another token here)."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) \
            or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a whole number >= 1, got {max_new_tokens!r}.")
    ids, mask = left_pad(lm, prompts)
    if ids.shape[1] + max_new_tokens > lm.context_length:
        raise ValueError(f"The longest prompt ({ids.shape[1]} tokens) plus {max_new_tokens} new "
                         f"tokens exceeds {lm.name}'s context of {lm.context_length}: ask for "
                         f"fewer tokens.")
    cache = new_cache(lm)
    new_ids: list[list[int]] = [[] for _ in range(ids.shape[0])]
    kept, tick_ms = [], []
    fed, positions = ids, position_ids(mask)
    with torch.inference_mode():
        for _ in range(max_new_tokens):
            start = time.perf_counter()
            # The mask covers the cached positions and the fed ones: one column more per tick.
            out = lm.model(input_ids=fed.to(lm.device), attention_mask=mask.to(lm.device),
                           position_ids=positions.to(lm.device), cache=cache, use_cache=True,
                           logits_to_keep=1)
            logits = out.logits[:, -1].float().cpu()
            chosen = logits.argmax(dim=-1)
            tick_ms.append((time.perf_counter() - start) * 1000)
            if keep_logits:
                kept.append(logits)
            for row, token in zip(new_ids, chosen.tolist()):
                row.append(token)
            fed = chosen[:, None]
            positions = positions[:, -1:] + 1
            mask = torch.cat([mask, torch.ones_like(fed)], dim=1)
    return BatchResult(new_ids, tick_ms, torch.stack(kept, dim=1) if keep_logits else None)
