"""Quantization, told honestly: fewer bytes per weight, and what that costs in accuracy and buys
in speed.

A decode tick streams every weight from memory once, so a weight stored in fewer bytes is a
cheaper tick *if* the hardware can compute with it directly. The formats here:

    fp32   4 bytes; what the lessons run
    bf16   2 bytes; float32 with the low 16 bits of the mantissa cut off
    int8   1 byte per weight + one float32 scale per row (per output channel)
    int4   half a byte per weight + one float32 scale per row: 4 bits without blocks
    Q4_1   llama.cpp's 4-bit blocks: 32 weights share a float16 scale d and minimum m;
           each weight is a 4-bit q in 0..15 and reads back as m + q * d.
           (2 + 2 + 32 * 4 / 8) bytes / 32 weights = 20 / 32 = 0.625 bytes = 5 bits per weight
    Q8_0   llama.cpp's 8-bit blocks: 32 weights share a float16 scale: 34 / 32 bytes per weight

The embedded SmolLM2 file stores the seven weight matrices of every block in Q4_1 and the
token embedding (which is also the output layer) in Q8_0; the lessons run those numbers
dequantized to float32. `round_trip` quantizes and dequantizes a float32 tensor, so the drift
of a format can be measured on the real model without a kernel that computes in it.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch

from .models import LoadedModel

__all__ = ["FORMATS", "EMBEDDED_FILE_FORMATS", "bytes_per_weight", "round_trip", "block_matrices",
           "requantized", "Drift", "next_token_drift",
           "file_bytes"]

FORMATS = ("fp32", "bf16", "int8", "int4", "q4_1", "q8_0")
BLOCK = 32  # weights per Q4_1 / Q8_0 block, along a row

# What the embedded model's GGUF file stores (tests/test_quantization.py checks it in the file)
EMBEDDED_FILE_FORMATS = {"token_embd (embedding = output layer)": "q8_0",
                         "attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down": "q4_1",
                         "attn_norm, ffn_norm, output_norm": "fp32"}


def bytes_per_weight(fmt: str, row_length: int = 576) -> float:
    """Bytes per weight of a format, its scales included (int8: one float32 scale per row)."""
    per_block = {"q4_1": (2 + 2 + BLOCK // 2) / BLOCK, "q8_0": (2 + BLOCK) / BLOCK}
    if fmt in per_block:
        return per_block[fmt]
    if fmt in ("int8", "int4"):
        return {"int8": 1, "int4": 0.5}[fmt] + 4 / row_length
    if fmt in ("fp32", "bf16"):
        return {"fp32": 4.0, "bf16": 2.0}[fmt]
    raise ValueError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")


def _blocks(w: torch.Tensor) -> torch.Tensor:
    if w.dim() != 2 or w.shape[1] % BLOCK:
        raise ValueError(f"Block formats need a matrix whose rows are a multiple of {BLOCK} long, "
                         f"got shape {tuple(w.shape)}.")
    return w.float().reshape(-1, BLOCK)


def _q4_1(w: torch.Tensor) -> torch.Tensor:
    # As llama.cpp's quantize_row_q4_1: the step d and the minimum m are computed in float32,
    # q rounds with those, and both are *stored* as float16, which is what reads back.
    x = _blocks(w)
    low, high = x.min(dim=1, keepdim=True).values, x.max(dim=1, keepdim=True).values
    d = (high - low) / 15
    inverse = torch.where(d > 0, 1 / d, torch.zeros_like(d))
    q = ((x - low) * inverse + 0.5).floor().clamp(0, 15)   # C's (int)(x + 0.5) on values >= 0
    return (q * d.half().float() + low.half().float()).reshape(w.shape)


def _q8_0(w: torch.Tensor) -> torch.Tensor:
    x = _blocks(w)   # as quantize_row_q8_0: d = max|x| / 127, q = round(x / d), d stored as float16
    d = x.abs().max(dim=1, keepdim=True).values / 127
    inverse = torch.where(d > 0, 1 / d, torch.zeros_like(d))
    return ((x * inverse).round() * d.half().float()).reshape(w.shape)


def _int_rows(w: torch.Tensor, levels: int) -> torch.Tensor:
    # Symmetric, one scale per row: q in -levels..levels (int8: 127, int4: 7).
    scale = w.float().abs().amax(dim=1, keepdim=True) / levels
    scale = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (w.float() / scale).round().clamp(-levels, levels) * scale


def round_trip(w: torch.Tensor, fmt: str) -> torch.Tensor:
    """`w` stored in `fmt` and read back as float32: the numbers a kernel in that format uses."""
    if fmt == "fp32":
        return w.float().clone()
    if fmt == "bf16":
        return w.to(torch.bfloat16).float()
    if fmt in ("int8", "int4"):
        return _int_rows(w, {"int8": 127, "int4": 7}[fmt])
    if fmt == "q4_1":
        return _q4_1(w)
    if fmt == "q8_0":
        return _q8_0(w)
    raise ValueError(f"Unknown format {fmt!r}: choose one of {', '.join(FORMATS)}.")


def block_matrices(lm: LoadedModel) -> dict[str, torch.nn.Parameter]:
    """The weight matrices inside the transformer blocks (attention and MLP projections): the
    tensors the embedded file stores in Q4_1. Embedding and norms are left out."""
    layers = getattr(lm.model, "model", lm.model)
    found = {name: module.weight for name, module in layers.named_modules()
             if isinstance(module, torch.nn.Linear) and ".layers." in f".{name}"}
    if not found:   # GPT-2 keeps its projections in Conv1D modules under transformer.h
        found = {name: p for name, p in lm.model.named_parameters()
                 if p.dim() == 2 and ".h." in name and name.endswith("weight")}
    return found


@contextmanager
def requantized(lm: LoadedModel, fmt: str) -> Iterator[LoadedModel]:
    """Inside the `with`, the block matrices of `lm` hold their `fmt` round trip; the float32
    originals come back afterwards (also after an error)."""
    round_trip(torch.zeros(1, BLOCK), fmt)   # an unknown format fails before anything changes
    originals = {}
    try:
        with torch.no_grad():
            for name, weight in block_matrices(lm).items():
                originals[name] = weight.data
                weight.data = round_trip(weight.data, fmt)
        yield lm
    finally:
        with torch.no_grad():
            for name, weight in block_matrices(lm).items():
                if name in originals:
                    weight.data = originals[name]


@dataclass(frozen=True)
class Drift:
    """How far a format's next-token distributions are from float32's, over many positions."""

    fmt: str
    kl_mean: float         # mean KL(p_fp32 || p_fmt) in nats
    kl_max: float
    top1_agreement: float  # share of positions where both pick the same most likely token
    positions: int


def _all_logits(lm: LoadedModel, texts: Sequence[str]) -> list[torch.Tensor]:
    with torch.inference_mode():
        return [lm.model(input_ids=torch.tensor([lm.encode_prompt(t)], device=lm.device),
                         use_cache=False).logits[0].float().cpu() for t in texts]


def next_token_drift(lm: LoadedModel, texts: Sequence[str], formats: Sequence[str]) -> list[Drift]:
    """Teacher-forced next-token distributions at every position of `texts`, for float32 and
    for each format (block matrices re-quantized), compared position by position."""
    if isinstance(texts, str):
        texts = [texts]
    reference = torch.cat(_all_logits(lm, texts)).log_softmax(dim=-1)
    drifts = []
    for fmt in formats:
        with requantized(lm, fmt):
            logp = torch.cat(_all_logits(lm, texts)).log_softmax(dim=-1)
        kl = (reference.exp() * (reference - logp)).sum(dim=-1).clamp(min=0)
        same = (reference.argmax(dim=-1) == logp.argmax(dim=-1)).float().mean()
        drifts.append(Drift(fmt, float(kl.mean()), float(kl.max()), float(same), len(kl)))
    return drifts


def file_bytes(lm: LoadedModel) -> dict[str, float]:
    """Bytes of each part of the model stored as the embedded file stores it (Q4_1 block
    matrices, Q8_0 embedding, float32 norms), scales included; metadata not counted."""
    blocks = sum(w.numel() for w in block_matrices(lm).values())
    embedding = lm.model.get_input_embeddings().weight.numel()
    norms = sum(p.numel() for name, p in lm.model.named_parameters() if "norm" in name)
    return {"block matrices (Q4_1)": blocks * bytes_per_weight("q4_1"),
            "embedding (Q8_0)": embedding * bytes_per_weight("q8_0"),
            "norms (float32)": norms * bytes_per_weight("fp32")}
