"""The residual stream and the logit lens, and one transformer block reproduced by hand.

    lens = logit_lens(lm, "The capital of France is")   # top tokens after every block
    trace = target_by_layer(lm, "The capital of France is", " Paris")
    trace.first_top1                                     # blocks done when " Paris" leads
    block = block_by_hand(lm, "The capital of France is", layer=3)

Every block reads the residual stream and adds its result back into it. The logit lens sends
the stream after each block through the model's own final norm and unembedding, exactly as the
real last layer is: it shows when a prediction becomes *readable* that way, which can be later
than when the model holds it in a form the unembedding cannot read (nostalgebraist 2020; the
tuned lens of Belrose et al. 2023 trains a translator per block for that reason).
Index convention: entry n of the stream is the vector after n blocks (0 = the embeddings).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .anatomy import anatomy, layer_norm, rms_norm
from .attention import (
    attention_scale, causal_attention, check_by_hand, check_layer_head, kv_head_of, project_qkv,
    sliding_window, token_labels,
)
from .embeddings import final_norm, residual_stream, single_token_id

__all__ = [
    "residual_stream", "final_norm", "unembed", "LogitLens", "logit_lens", "TargetTrace",
    "target_by_layer", "rms_norm", "layer_norm", "BlockComputation", "block_by_hand",
]


# ---------------------------------------------------------------- the logit lens

@torch.no_grad()
def unembed(lm, residual: torch.Tensor) -> torch.Tensor:
    """Logits from residual-stream vectors [..., d_model]: final norm, then the unembedding
    (then the model's logit soft-capping, in the models that have one)."""
    a = anatomy(lm)
    logits = a.unembedding(final_norm(lm)(residual.to(lm.device)))
    if a.logit_softcap is not None:
        logits = a.logit_softcap * torch.tanh(logits / a.logit_softcap)
    return logits.float().cpu()


@dataclass
class LogitLens:
    """The lens of one text: what the model would predict after each number of blocks."""

    tokens: list[str]        # the input tokens, visible
    top_ids: torch.Tensor    # [n_layers + 1, T, k] most likely next tokens after 0..n_layers blocks
    top_probs: torch.Tensor  # [n_layers + 1, T, k] their probabilities
    top_tokens: list[list[list[str]]]  # visible text of top_ids

    @property
    def n_blocks(self) -> int:
        return self.top_ids.shape[0] - 1


def _stream(lm, text: str) -> torch.Tensor:
    if not isinstance(text, str):
        raise ValueError("Give the text as a string.")
    return residual_stream(lm, text)  # a clear error on an empty or too long text


_LENS_ROWS = 256  # residual vectors unembedded at once by logit_lens: 256 × 49,152 floats = 48 MiB


@torch.no_grad()
def logit_lens(lm, text: str, k: int = 5) -> LogitLens:
    """Top-k next-token predictions at every position after every block."""
    if not 1 <= k <= lm.vocab_size:
        raise ValueError(f"k must be 1..{lm.vocab_size}, got {k}.")
    stream = _stream(lm, text)
    # Several snapshots per unembedding: the 49,152-row matrix streams from memory once per chunk
    # (7-10x faster than once per snapshot), and a chunk holds at most _LENS_ROWS × vocab floats.
    per_chunk = max(1, _LENS_ROWS // stream.shape[1])
    tops = [torch.softmax(unembed(lm, chunk), dim=-1).topk(k, dim=-1)
            for chunk in stream.split(per_chunk)]
    top_ids = torch.cat([top.indices for top in tops])      # [n_layers + 1, T, k]
    top_probs = torch.cat([top.values for top in tops])
    unique = top_ids.unique().tolist()
    names = dict(zip(unique, token_labels(lm, unique)))
    top_tokens = [[[names[i] for i in row] for row in layer] for layer in top_ids.tolist()]
    return LogitLens(token_labels(lm, lm.encode_prompt(text)), top_ids, top_probs, top_tokens)


@dataclass
class TargetTrace:
    """How one target token fares at the last position, block after block."""

    target: str
    target_id: int
    probs: torch.Tensor   # [n_layers + 1] its probability after 0..n_layers blocks
    ranks: torch.Tensor   # [n_layers + 1] its rank (0 = top-1)
    first_top1: int | None  # fewest blocks after which it is top-1 (None: never)


@torch.no_grad()
def target_by_layer(lm, text: str, target: str) -> TargetTrace:
    """Where a single-token target (' Paris' after 'The capital of France is') becomes the top-1
    prediction read through the final norm and unembedding."""
    target_id = single_token_id(lm, target)
    logits = unembed(lm, _stream(lm, text)[:, -1])  # [n_layers + 1, vocab]
    probs = torch.softmax(logits, dim=-1)[:, target_id]
    ranks = (logits > logits[:, target_id:target_id + 1]).sum(-1)
    top1 = (ranks == 0).nonzero().flatten().tolist()
    return TargetTrace(target, target_id, probs, ranks, top1[0] if top1 else None)


# ---------------------------------------------------------------- one block by hand

@dataclass
class BlockComputation:
    """Every intermediate vector of one transformer block, [T, ...] each."""

    layer: int
    tokens: list[str]
    x_in: torch.Tensor         # [T, d_model] the residual stream entering the block
    attn_in: torch.Tensor      # [T, d_model] normed (RMSNorm / LayerNorm)
    weights: torch.Tensor      # [n_heads, T, T] attention pattern of every head
    heads: torch.Tensor        # [T, n_heads * head_dim] every head's output, side by side
    attn_out: torch.Tensor     # [T, d_model] what attention adds: the output projection
                               # (Gemma 3: then its post-attention norm)
    after_attn: torch.Tensor   # [T, d_model] x_in + attn_out: first residual add
    mlp_in: torch.Tensor       # [T, d_model] normed again
    mlp_out: torch.Tensor      # [T, d_model] what the MLP adds (Gemma 3: after its post-MLP norm)
    x_out: torch.Tensor        # [T, d_model] after_attn + mlp_out: what the next block reads
    attn_projected: torch.Tensor | None = None  # Gemma 3: the output projection, before its norm
    mlp_result: torch.Tensor | None = None      # Gemma 3: the MLP's result, before its norm


@torch.no_grad()
def block_by_hand(lm, text: str, layer: int) -> BlockComputation:
    """Recompute block `layer` from its input and the model's weights, step by step.

    Llama family: RMSNorm → attention (RoPE, grouped-query heads) → o_proj → add;
    RMSNorm → SwiGLU MLP down(silu(gate x) · up x) → add.
    Gemma 3: the same with GeGLU (gelu for silu), q_norm and k_norm on every head before RoPE,
    a sliding window in some layers, and one more RMSNorm on what attention and the MLP return
    before each add: four norms per block.
    GPT-2: LayerNorm → attention → c_proj → add; LayerNorm → GELU MLP → add.
    """
    check_by_hand(lm)
    check_layer_head(lm, layer)
    stream = _stream(lm, text)
    block = anatomy(lm).blocks[layer]
    x_in = stream[layer].to(block.o.weight.device)

    attn_in = block.attention_norm(x_in)
    q, k, v = project_qkv(lm, layer, attn_in)  # q [H, T, hd], k and v [H_kv, T, hd]
    shared = torch.tensor([kv_head_of(lm, h) for h in range(lm.n_heads)])
    _, _, weights, head_out = causal_attention(q, k[shared], v[shared], attention_scale(lm, layer),
                                               sliding_window(lm, layer))
    heads = head_out.transpose(0, 1).reshape(x_in.shape[0], -1)  # [T, H * hd]: heads side by side
    attn_projected = block.o(heads)
    norm_after = block.attention_out_norm
    attn_out = norm_after(attn_projected) if norm_after else attn_projected
    after_attn = x_in + attn_out

    mlp_in = block.mlp_norm(after_attn)
    up = block.up(mlp_in)
    # gated MLPs (SwiGLU, GeGLU): the gate decides, per hidden unit, how much of "up" passes
    act = block.activation
    hidden = act(up) if block.gate is None else act(block.gate(mlp_in)) * up
    mlp_result = block.down(hidden)
    mlp_out = block.mlp_out_norm(mlp_result) if block.mlp_out_norm else mlp_result
    x_out = after_attn + mlp_out
    steps = (x_in, attn_in, weights, heads, attn_out, after_attn, mlp_in, mlp_out, x_out)
    cpu = [t.float().cpu() for t in steps]
    extra = [t.float().cpu() if norm is not None else None
             for t, norm in ((attn_projected, norm_after), (mlp_result, block.mlp_out_norm))]
    return BlockComputation(layer, token_labels(lm, lm.encode_prompt(text)), *cpu, *extra)
