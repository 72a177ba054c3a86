"""Attention: the model's own weights, one head recomputed by hand, head patterns.

    weights = attention_weights(lm, "The capital of France is")   # [layers, heads, T, T]
    head = attention_head_by_hand(lm, "The capital of France is", layer=3, head=0)
    head.q, head.k, head.v, head.scores, head.weights, head.output  # every step of one head

Three families are covered (helpers.anatomy tells them apart). Llama-style models (SmolLM2,
TinyLlama, Mistral, Qwen2) rotate queries and keys by their position (RoPE) and let several
query heads share one key/value head (grouped-query attention). Gemma 3 does the same, and also
normalises each head's query and key (q_norm, k_norm) before rotating them, scales q·k by
1/sqrt(query_pre_attn_scalar), and in its sliding-window layers lets a query see only the last
`sliding_window` tokens: older keys get no attention at all. GPT-2 adds a learned position
vector to the input once, so its attention sees no extra position step, and computes q, k, v
with one fused matrix.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Sequence

import torch

from .anatomy import BY_HAND_MODEL_TYPES, anatomy, capture
from .embeddings import apply_rope
from .tick_view import token_label
from .validate import token_ids_of

__all__ = [
    "as_ids", "token_labels", "attention_weights", "attention_input", "project_qkv", "kv_head_of",
    "kv_head_index", "attention_scale", "sliding_window", "causal_attention", "HeadComputation",
    "attention_head_by_hand",
    "previous_token_scores", "first_token_scores", "content_scores", "content_head",
    "repeated_random_tokens", "induction_scores",
    "check_layer_head", "check_by_hand",
]


# ------------------------------------------------------- inputs and the model's own numbers

def as_ids(lm, text_or_ids: str | Sequence[int] | torch.Tensor) -> list[int]:
    """Token ids of a text (or ids passed through), checked: valid text, not empty, fits the
    context, whole numbers in the vocabulary (helpers.validate). A text is read as a prompt
    (`lm.encode_prompt`): with the <bos> token first in the models that need one (Gemma), as
    the clock reads it."""
    return token_ids_of(lm, text_or_ids)


def token_labels(lm, ids: Sequence[int]) -> list[str]:
    """One readable label per token: spaces and newlines made visible ('·the', '↵'), and a
    fragment of a character shown as its bytes ('⟨e6 88⟩') rather than as '�'."""
    return [token_label(lm.decode([i]), i, lm.tokenizer) for i in ids]


def check_layer_head(lm, layer: int, head: int | None = None) -> None:
    """A clear message for a layer or head number outside the model."""
    if not 0 <= layer < lm.n_layers:
        raise ValueError(f"layer must be 0..{lm.n_layers - 1} for {lm.name}, got {layer}.")
    if head is not None and not 0 <= head < lm.n_heads:
        raise ValueError(f"head must be 0..{lm.n_heads - 1} for {lm.name}, got {head}.")


@torch.no_grad()
def attention_weights(lm, text_or_ids) -> torch.Tensor:
    """The model's attention weights from one forward pass: [n_layers, n_heads, T, T].

    Row i of a head's T×T matrix is how query token i spreads its attention over tokens 0..i.
    """
    ids = as_ids(lm, text_or_ids)
    out = lm.model(torch.tensor([ids], device=lm.device), output_attentions=True, use_cache=False)
    if not out.attentions:
        raise RuntimeError("The model returned no attention weights: load it with "
                           "attn_implementation='eager' "
                           "(helpers.load_model does).")
    return torch.stack([a[0] for a in out.attentions]).float().cpu()


@torch.no_grad()
def attention_input(lm, text_or_ids, layer: int) -> torch.Tensor:
    """What layer `layer`'s attention reads: its input, normed, [T, d_model] (read with a hook)."""
    check_layer_head(lm, layer)
    ids = as_ids(lm, text_or_ids)
    with capture(lm, ["attn_in"], layers=[layer]) as seen:
        lm.model(torch.tensor([ids], device=lm.device), use_cache=False)
    return seen["attn_in", layer][0].float().cpu()


# ---------------------------------------------------------------- one head by hand

def check_by_hand(lm) -> None:
    """A clear message for a model family the by-hand functions do not reproduce."""
    if not anatomy(lm).by_hand:
        raise ValueError(f"The by-hand attention covers {', '.join(BY_HAND_MODEL_TYPES)} models, "
                         f"not {lm.model.config.model_type!r}.")


@torch.no_grad()
def project_qkv(lm, layer: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Queries, keys and values of every head of `layer` from its normed input x [T, d_model].

    Returns q [n_heads, T, head_dim], k and v [n_kv_heads, T, head_dim]; in the RoPE families
    q and k are already rotated by their positions (Gemma 3: normed per head first).
    """
    check_by_hand(lm)
    block = anatomy(lm).blocks[layer]
    x = x.to(block.q.weight.device)
    T = x.shape[0]
    # [T, heads * head_dim] -> [heads, T, head_dim]
    q, k, v = (proj(x).view(T, -1, lm.head_dim).transpose(0, 1)
               for proj in (block.q, block.k, block.v))
    if block.q_norm is not None:   # Gemma 3: an RMSNorm on every head's query and key
        q, k = block.q_norm(q), block.k_norm(k)
    if block.rope_theta is not None:
        if block.rope_type != "default":
            raise ValueError(f"The by-hand RoPE covers the original rotation; {lm.name} uses "
                             f"{block.rope_type!r} RoPE.")
        positions, theta = torch.arange(T), block.rope_theta
        q, k = apply_rope(q, positions, theta), apply_rope(k, positions, theta)
    return q, k, v


def kv_head_index(head: int, n_heads: int, n_kv_heads: int) -> int:
    """The key/value head query head `head` reads. Grouped-query attention: consecutive query
    heads share one kv head, n_heads // n_kv_heads per group (SmolLM2: heads 0-2 -> kv 0,
    3-5 -> kv 1, 6-8 -> kv 2)."""
    return head // (n_heads // n_kv_heads)


def kv_head_of(lm, head: int) -> int:
    """The key/value head a query head of `lm` reads (see kv_head_index)."""
    return kv_head_index(head, lm.n_heads, lm.n_kv_heads)


def attention_scale(lm, layer: int) -> float:
    """The factor on q·k: 1/sqrt(head_dim), so the spread of the scores does not grow with
    head_dim (Gemma 3: 1/sqrt(query_pre_attn_scalar))."""
    check_layer_head(lm, layer)
    return anatomy(lm).blocks[layer].attention_scale


def sliding_window(lm, layer: int) -> int | None:
    """How many tokens a query of `layer` sees (itself and the ones just before it), or None
    when it sees the whole context. Gemma 3 slides a window in 5 of every 6 layers."""
    check_layer_head(lm, layer)
    return anatomy(lm).blocks[layer].sliding_window


def causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float,
                     window: int | None = None):
    """Scaled dot-product attention with a causal mask, every step returned.

    q, k, v: [..., T, head_dim]. Returns scores (q·k × scale), masked scores (a query may not
    look at later keys, nor, with a `window`, at keys `window` or more tokens back: -inf
    there), weights (softmax of each row) and output (weights @ v).
    """
    T = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) * scale
    i, j = torch.arange(T, device=q.device)[:, None], torch.arange(T, device=q.device)[None, :]
    hidden = j > i                     # True where key j comes after query i
    if window is not None:
        hidden |= i - j >= window      # ... or lies outside the sliding window
    masked = scores.masked_fill(hidden, float("-inf"))
    weights = torch.softmax(masked, dim=-1)
    return scores, masked, weights, weights @ v


@dataclass
class HeadComputation:
    """Every intermediate step of one attention head, for T tokens."""

    layer: int
    head: int
    kv_head: int               # the key/value head this query head reads (grouped-query attention)
    tokens: list[str]          # visible token labels
    x: torch.Tensor            # [T, d_model] normed input of the layer's attention
    q: torch.Tensor            # [T, head_dim] queries (after q_norm and RoPE, where the model
                               # has them)
    k: torch.Tensor            # [T, head_dim] keys (the same)
    v: torch.Tensor            # [T, head_dim] values
    scores: torch.Tensor       # [T, T] q·k × the scale, before the mask
    masked_scores: torch.Tensor  # [T, T] future positions (and any beyond the window) set to -inf
    weights: torch.Tensor      # [T, T] softmax of each row: the attention pattern
    output: torch.Tensor       # [T, head_dim] weights @ v: what the head writes out
    window: int | None = None  # the layer's sliding window (None: it sees the whole context)


@torch.no_grad()
def attention_head_by_hand(lm, text_or_ids, layer: int, head: int) -> HeadComputation:
    """Recompute one head's attention from the model's weights, step by step."""
    check_by_hand(lm)
    check_layer_head(lm, layer, head)
    ids = as_ids(lm, text_or_ids)
    x = attention_input(lm, ids, layer)
    q_all, k_all, v_all = project_qkv(lm, layer, x)
    kv_head = kv_head_of(lm, head)
    q, k, v = (t.float().cpu() for t in (q_all[head], k_all[kv_head], v_all[kv_head]))
    window = sliding_window(lm, layer)
    scores, masked, weights, output = causal_attention(q, k, v, attention_scale(lm, layer), window)
    return HeadComputation(layer, head, kv_head, token_labels(lm, ids), x, q, k, v, scores, masked,
                           weights, output, window)


# ---------------------------------------------------------------- what heads do: pattern scores

def previous_token_scores(weights: torch.Tensor) -> torch.Tensor:
    """[layers, heads] mean attention from each token to the one just before it (tokens 1..T-1)."""
    return weights.diagonal(offset=-1, dim1=-2, dim2=-1).mean(-1)


def first_token_scores(weights: torch.Tensor) -> torch.Tensor:
    """[layers, heads] mean attention to the very first token (the 'sink'), over queries 1..T-1."""
    return weights[..., 1:, 0].mean(-1)


def content_scores(weights: torch.Tensor) -> torch.Tensor:
    """[layers, heads] mean attention on the other tokens: neither the first one (the sink)
    nor the reading token itself, over queries 2..T-1. High = the head reads content."""
    q = torch.arange(2, weights.shape[-1])
    return (1 - weights[..., q, 0] - weights[..., q, q]).mean(-1)


CONTENT_PROBE = "The capital of France is Paris. It is a city on the Seine, and the capital of " \
    "Italy is Rome."
_content_heads: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # model -> head


def content_head(lm) -> tuple[int, int]:
    """(layer, head) that puts the most attention on content (`content_scores`), measured once
    per model on CONTENT_PROBE: a view of attention that is not one tall bar on the sink."""
    key = lm.model
    if key not in _content_heads:
        scores = content_scores(attention_weights(lm, CONTENT_PROBE))
        layer, head = divmod(int(scores.flatten().argmax()), scores.shape[1])
        _content_heads[key] = (layer, head)
    return _content_heads[key]


def repeated_random_tokens(lm, length: int = 20, seed: int = 0) -> list[int]:
    """`length` distinct random ordinary tokens, then the same tokens again.

    Random tokens carry no meaning, so the only way to predict the second copy is to look
    back at the first: exactly what induction heads do.
    """
    special = set(lm.tokenizer.all_special_ids)
    pool = torch.tensor([i for i in range(lm.vocab_size) if i not in special])
    if not 2 <= length <= min(len(pool), lm.context_length // 2):
        longest = min(len(pool), lm.context_length // 2)
        raise ValueError(f"length must be 2..{longest}, got {length}.")
    generator = torch.Generator().manual_seed(seed)
    chosen = pool[torch.randperm(len(pool), generator=generator)[:length]].tolist()
    return chosen + chosen


def induction_scores(weights: torch.Tensor, length: int) -> torch.Tensor:
    """[layers, heads] mean attention from the 2nd copy's token i to the token after its first
    occurrence.

    weights come from a sequence made by `repeated_random_tokens(lm, length)`: query
    length + i looks at key i + 1, for i = 0..length-2.
    """
    if weights.shape[-1] != 2 * length:
        raise ValueError(f"weights cover {weights.shape[-1]} tokens, expected 2 × length = "
                         f"{2 * length}.")
    i = torch.arange(length - 1)
    return weights[..., length + i, i + 1].mean(-1)

