"""Direct logit attribution: which parts of the model wrote a token's logit.

    parts = logit_attribution(lm, "The capital of France is", " Paris")
    parts.attention[29], parts.mlp[29]   # what block 29's attention and MLP added to the logit
    parts.total == parts.logit           # the parts sum to the model's own logit

The residual stream at the last position is a sum of writes: the embedding, then each block's
attention output and MLP output. The logit is unembed(final_norm(that sum)). The final norm is
not linear (it divides by the vector's root-mean-square), so we *freeze* its scale at the value
it has for the real final vector, as TransformerLens's `ActivationCache.apply_ln_to_stack`
does with its cached scale. With the scale frozen the map from
the stream to the logit is linear, and each write's share is that linear map applied to it:

    share(c) = (w * c * scale) · W_U[target]         RMSNorm (Llama, SmolLM2, Gemma 3)
    share(c) = (w * (c - mean(c)) * scale) · W_U[target]   LayerNorm (GPT-2: centering is linear)

The shares sum to the real logit exactly (up to float rounding). The approximation is in each
share: a write is scaled by the rms of the *final* vector, not by what the norm would do to it
alone. GPT-2's LayerNorm also adds a bias, reported as its own part (`norm_bias`). In Gemma 3
the writes are what each block adds after its post-attention and post-MLP norms, the
embedding write is the scaled token vector, and w is the final norm's 1 + stored weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .anatomy import anatomy, capture
from .attention import as_ids
from .embeddings import single_token_id

__all__ = ["ResidualWrites", "residual_writes", "LogitAttribution", "logit_attribution"]


@dataclass
class ResidualWrites:
    """Everything added into the residual stream, [T, d_model] each; they sum to the final one."""

    embedding: torch.Tensor   # [T, d] the input vectors (+ GPT-2's position vectors)
    attention: torch.Tensor   # [n_layers, T, d] what each block's attention adds (after o_proj)
    mlp: torch.Tensor         # [n_layers, T, d] what each block's MLP adds
    final: torch.Tensor       # [T, d] the stream after the last block, before the final norm


@torch.no_grad()
def residual_writes(lm, text) -> ResidualWrites:
    """Record every write into the residual stream during one forward pass (with hooks)."""
    ids = as_ids(lm, text)
    with capture(lm, ["resid_pre", "attn_out", "mlp_out", "resid_post"]) as seen:
        lm.model(torch.tensor([ids], device=lm.device), use_cache=False)
    first, last = seen["resid_pre", 0][0], seen["resid_post", lm.n_layers - 1][0]
    attention, mlp = (seen.stack(point)[:, 0].float().cpu() for point in ("attn_out", "mlp_out"))
    return ResidualWrites(first.float().cpu(), attention, mlp, last.float().cpu())


@dataclass
class LogitAttribution:
    """One token's logit at the last position, split into what each write contributed."""

    target: str
    target_id: int
    logit: float              # the model's own logit for the target
    embedding: float          # the embedding's share
    attention: torch.Tensor   # [n_layers] each block's attention share
    mlp: torch.Tensor         # [n_layers] each block's MLP share
    norm_bias: float          # GPT-2's final LayerNorm bias term (0.0 for RMSNorm)
    scale: float              # the frozen 1/rms (RMSNorm) or 1/std (LayerNorm) of the final vector

    @property
    def total(self) -> float:
        """The sum of all shares: equals `logit` because the frozen-scale map is linear."""
        return self.embedding + float(self.attention.sum() + self.mlp.sum()) + self.norm_bias


@torch.no_grad()
def logit_attribution(lm, text, target: str) -> LogitAttribution:
    """Split the logit of single-token `target` after `text` into the residual writes' shares."""
    target_id = single_token_id(lm, target)
    a = anatomy(lm)
    head = a.unembedding
    if getattr(head, "bias", None) is not None or a.logit_softcap is not None:
        raise ValueError(f"{lm.name}'s unembedding has a bias or a soft cap; this attribution "
                         f"covers models without (GPT-2, Llama family, Gemma 3).")
    writes = residual_writes(lm, text)
    norm = a.final_norm
    weight = norm.weight.float().cpu()   # the factor applied (Gemma: 1 + stored weight)
    x = writes.final[-1]
    if norm.kind == "LayerNorm":
        centre = lambda c: c - c.mean(-1, keepdim=True)  # noqa: E731 LayerNorm subtracts the mean
        bias = norm.bias.float().cpu()
    else:
        centre = lambda c: c  # noqa: E731 RMSNorm does not centre
        bias = torch.zeros_like(weight)
    scale = float(torch.rsqrt(centre(x).pow(2).mean() + norm.eps))
    direction = head.weight[target_id].detach().float().cpu()   # the target's unembedding row

    def share(c: torch.Tensor) -> torch.Tensor:   # c [..., d] at the last position
        return (weight * centre(c) * scale) @ direction

    logits = head(norm.module(writes.final[-1:].to(lm.device))).float().cpu()
    return LogitAttribution(
        target=target, target_id=target_id, logit=float(logits[0, target_id]),
        embedding=float(share(writes.embedding[-1])),
        attention=share(writes.attention[:, -1]), mlp=share(writes.mlp[:, -1]),
        norm_bias=float(bias @ direction), scale=scale)
