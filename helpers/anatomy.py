"""The model anatomy: where every part of a loaded model lives, in each family LLM Clock runs.

    a = anatomy(lm)
    print(a)                                  # the parts, with their module names
    a.family, a.positions, a.embedding_scale  # 'gemma3', 'rope', 25.3 (= sqrt(640))
    block = a.blocks[3]
    block.attention_norm, block.q, block.k, block.v, block.o, block.mlp_norm, block.up, block.down
    block.sliding_window                      # 512 in Gemma 3's sliding layers, None elsewhere
    with capture(lm, ["resid_post", "attn_out"]) as seen:
        lm.model(ids)
    seen.stack("resid_post")                  # [n_layers, batch, T, d_model]

The families differ in names and in a few steps, and this module is the only place in LLM Clock
that tells them apart; every helper that reaches into a model asks it.

    part                GPT-2                  Llama family           Gemma 3
    token embedding     transformer.wte        model.embed_tokens     model.embed_tokens, × sqrt(d)
    positions           learned table wpe,     RoPE: queries and      RoPE, theta per layer kind
                        added to the input     keys rotated           (sliding / full)
    block i             transformer.h[i]       model.layers[i]        model.layers[i]
    attention norm      ln_1 (LayerNorm)       input_layernorm        input_layernorm (RMSNorm,
                                               (RMSNorm)              scale 1 + w)
    attention           attn: fused c_attn,    self_attn: q/k/v/o     + q_norm, k_norm per head;
                        c_proj                 _proj; grouped heads   scale query_pre_attn_scalar
    after attention     -                      -                      post_attention_layernorm
    MLP norm            ln_2                   post_attention_        pre_feedforward_layernorm
                                               layernorm
    MLP                 GELU: c_fc, c_proj     SwiGLU: gate/up/down   GeGLU: gate/up/down
    after MLP           -                      -                      post_feedforward_layernorm
    final norm          transformer.ln_f       model.norm             model.norm
    unembedding         lm_head                lm_head                lm_head

Every block adds two writes into the residual stream: `x = x + attn_out`, then
`x = x + mlp_out`, where attn_out and mlp_out are what the attention and the MLP return (in
Gemma 3 after their own output norm).
"""

from __future__ import annotations

import math
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

import torch
import torch.nn.functional as F

__all__ = [
    "MODEL_TYPES", "BY_HAND_MODEL_TYPES", "family_of", "rms_norm", "layer_norm", "Linear", "Norm",
    "BlockAnatomy", "ModelAnatomy", "anatomy", "POINTS", "Captured", "capture", "new_cache",
]

# transformers model_type -> family. The families share a layout (see the table above).
MODEL_TYPES = {
    "gpt2": "gpt2",
    "llama": "llama", "mistral": "llama", "qwen2": "llama", "qwen3": "llama", "smollm3": "llama",
    "olmo2": "llama",
    "gemma3_text": "gemma3",
}
# The model types whose every step the from-scratch functions (attention by hand, a block by
# hand, the logit attribution) reproduce exactly; the others run in the clock only.
BY_HAND_MODEL_TYPES = ("gpt2", "llama", "mistral", "qwen2", "gemma3_text")

FAMILY_NAMES = {"gpt2": "GPT-2", "llama": "Llama family", "gemma3": "Gemma 3"}

ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "silu": F.silu,
    "gelu": F.gelu,
    "gelu_new": lambda t: F.gelu(t, approximate="tanh"),
    "gelu_pytorch_tanh": lambda t: F.gelu(t, approximate="tanh"),
}


def family_of(config) -> str:
    """The family of a transformers config ("gpt2", "llama" or "gemma3"); a ValueError naming
    the supported ones otherwise."""
    if config.model_type not in MODEL_TYPES:
        raise ValueError(f"{config.model_type!r} is not a model type LLM Clock supports; it runs "
                         f"{', '.join(MODEL_TYPES)}.")
    return MODEL_TYPES[config.model_type]


# ---------------------------------------------------------------- the parts

def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """RMSNorm: divide each vector by its root-mean-square, then scale each dimension by a
    learned weight."""
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
               eps: float) -> torch.Tensor:
    """LayerNorm (GPT-2): subtract the mean, divide by the standard deviation, scale and shift."""
    mean = x.mean(-1, keepdim=True)
    var = (x - mean).pow(2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight + bias


@dataclass(frozen=True)
class Linear:
    """A linear map y = x @ weight.T + bias, weight [out, in], whatever layout the module stores
    (GPT-2's Conv1D stores [in, out], and one fused matrix for q, k and v). The numbers are
    read from the module on every use, so they are always the model's current weights."""

    module: torch.nn.Module
    conv1d: bool = False       # GPT-2's Conv1D: the stored matrix is [in, out]
    part: int | None = None    # GPT-2's fused c_attn: 0 = q, 1 = k, 2 = v (a third each)

    def _slice(self, t: torch.Tensor) -> torch.Tensor:
        if self.part is None:
            return t
        n = t.shape[0] // 3
        return t[self.part * n:(self.part + 1) * n]

    @property
    def weight(self) -> torch.Tensor:
        w = self.module.weight.detach()
        return self._slice(w.T if self.conv1d else w)

    @property
    def bias(self) -> torch.Tensor | None:
        b = getattr(self.module, "bias", None)
        return None if b is None else self._slice(b.detach())

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias


@dataclass(frozen=True)
class Norm:
    """A norm layer: its module and the numbers its formula uses.

    LayerNorm: (x - mean) / sqrt(var + eps) * weight + bias.
    RMSNorm:   x / sqrt(mean(x²) + eps) * weight. Gemma stores its weights as offsets from 1
    and multiplies by (1 + stored): `weight` here is always the factor actually applied.
    """

    module: torch.nn.Module
    kind: str          # "LayerNorm" or "RMSNorm"
    eps: float
    offset: float = 0.0  # 1.0 for Gemma's norms

    @property
    def weight(self) -> torch.Tensor:
        stored = self.module.weight.detach()
        return stored + self.offset if self.offset else stored

    @property
    def bias(self) -> torch.Tensor | None:
        bias = getattr(self.module, "bias", None)
        return None if bias is None else bias.detach()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The norm computed by hand from its formula (equal to the module's output)."""
        if self.kind == "LayerNorm":
            return layer_norm(x, self.weight, self.bias, self.eps)
        return rms_norm(x, self.weight, self.eps)


@dataclass(frozen=True)
class BlockAnatomy:
    """One transformer block: its norms, attention and MLP, and the facts of its attention."""

    index: int
    module: torch.nn.Module
    attention_norm: Norm | None      # None: no norm before attention (Olmo 2 norms after)
    attention: torch.nn.Module
    q: Linear                        # [n_heads * head_dim, d_model]
    k: Linear                        # [n_kv_heads * head_dim, d_model]
    v: Linear
    q_norm: Norm | None              # Gemma 3: an RMSNorm on each head's query and key
    k_norm: Norm | None
    o: Linear                        # [d_model, n_heads * head_dim]: mixes the heads
    output_projection: torch.nn.Module   # the module of `o` (c_proj / o_proj)
    attention_out_norm: Norm | None  # Gemma 3: post_attention_layernorm, before the add
    attention_scale: float           # the factor on q·k
    sliding_window: int | None       # a query sees itself and the window - 1 tokens before it
    rope_theta: float | None         # None: positions do not enter attention (GPT-2)
    rope_type: str | None
    mlp_norm: Norm | None
    mlp: torch.nn.Module
    gate: Linear | None              # gated MLPs (SwiGLU, GeGLU): act(gate x) * up x
    up: Linear
    down: Linear
    activation_name: str
    mlp_out_norm: Norm | None        # Gemma 3: post_feedforward_layernorm, before the add

    @property
    def activation(self) -> Callable[[torch.Tensor], torch.Tensor]:
        if self.activation_name not in ACTIVATIONS:
            raise ValueError(f"The by-hand MLP covers the activations {', '.join(ACTIVATIONS)}, "
                             f"not {self.activation_name!r}.")
        return ACTIVATIONS[self.activation_name]

    @property
    def attention_write(self) -> torch.nn.Module:
        """The module whose output the block adds to the stream after attention."""
        return self.attention_out_norm.module if self.attention_out_norm else self.attention

    @property
    def mlp_write(self) -> torch.nn.Module:
        """The module whose output the block adds to the stream after the MLP."""
        return self.mlp_out_norm.module if self.mlp_out_norm else self.mlp


@dataclass(frozen=True)
class ModelAnatomy:
    """A loaded model, part by part (see the module docstring for the three families)."""

    family: str                  # "gpt2", "llama" or "gemma3"
    model_type: str              # transformers' name, e.g. "gemma3_text"
    model_ref: weakref.ref       # the model (weakly held: its anatomy does not keep it alive)
    config: object
    embedding: torch.nn.Embedding
    embedding_scale: float       # Gemma multiplies every token vector by sqrt(d_model); else 1
    positions: str               # "learned" (a table added to the input) or "rope"
    position_table: torch.nn.Embedding | None
    blocks: tuple[BlockAnatomy, ...]
    final_norm: Norm
    unembedding: torch.nn.Module
    logit_softcap: float | None  # logits = cap · tanh(logits / cap) when set
    mlp_kind: str                # "GELU MLP", "SwiGLU" or "GeGLU"

    @property
    def by_hand(self) -> bool:
        """Whether the from-scratch functions reproduce this model's every step."""
        softcap = getattr(self.config, "attn_logit_softcapping", None)
        return self.model_type in BY_HAND_MODEL_TYPES and softcap is None

    @property
    def sliding_layers(self) -> list[int]:
        return [b.index for b in self.blocks if b.sliding_window is not None]

    def name_of(self, module: torch.nn.Module | None) -> str:
        """The module's path inside the model, e.g. 'model.layers.3.self_attn'."""
        names = {id(m): n for n, m in self.model_ref().named_modules()}
        return names.get(id(module), "-") if module is not None else "-"

    def __str__(self) -> str:
        b = self.blocks[0]
        rel = lambda m: self.name_of(m).split(".")[-1] if m is not None else "-"  # noqa: E731
        norm = lambda n: "none" if n is None else (  # noqa: E731
            f"{rel(n.module)} ({n.kind}{', weight 1 + w' if n.offset else ''})")
        thetas = sorted({blk.rope_theta for blk in self.blocks if blk.rope_theta is not None})
        positions = ("a learned table (" + self.name_of(self.position_table) + ") added to the "
                     "token vectors" if self.positions == "learned" else
                     "RoPE: queries and keys rotated inside attention, theta "
                     + " / ".join(f"{t:,.0f}" for t in thetas))
        scale = ("" if self.embedding_scale == 1 else
                 f", × {self.embedding_scale:.4g} (the square root of the width)")
        lines = [
            f"{FAMILY_NAMES[self.family]} ({self.model_type}), {len(self.blocks)} blocks",
            f"  token embedding  {self.name_of(self.embedding)} "
            f"{tuple(self.embedding.weight.shape)}{scale}",
            f"  positions        {positions}",
            f"  block i          {self.name_of(b.module).rsplit('.', 1)[0]}.i:",
            f"    attention norm   {norm(b.attention_norm)}",
            f"    attention        {rel(b.attention)}"
            + (f" with {rel(b.q_norm.module)} and {rel(b.k_norm.module)}" if b.q_norm else ""),
        ]
        if b.attention_out_norm:
            lines.append(f"    after attention  {norm(b.attention_out_norm)}")
        lines += [f"    MLP norm         {norm(b.mlp_norm)}",
                  f"    MLP              {rel(b.mlp)}: {self.mlp_kind} ({b.activation_name})"]
        if b.mlp_out_norm:
            lines.append(f"    after MLP        {norm(b.mlp_out_norm)}")
        if self.sliding_layers:
            full = [blk.index for blk in self.blocks if blk.sliding_window is None]
            lines.append(f"  sliding window   {self.blocks[self.sliding_layers[0]].sliding_window}"
                         f" tokens in {len(self.sliding_layers)} of {len(self.blocks)} layers "
                         f"(full attention in layers {', '.join(map(str, full)) or 'none'})")
        tied = self.unembedding.weight is self.embedding.weight
        lines += [f"  final norm       {self.name_of(self.final_norm.module)}",
                  f"  unembedding      {self.name_of(self.unembedding)}"
                  + (" (the embedding table itself)" if tied else "")]
        return "\n".join(lines)


# ---------------------------------------------------------------- reading a model

def _rope(config, layer: int) -> tuple[float | None, str | None]:
    """RoPE's theta and kind for one layer (Gemma 3 keeps one setting per layer kind)."""
    params = dict(getattr(config, "rope_parameters", None) or {})
    kinds = getattr(config, "layer_types", None)
    if kinds and isinstance(params.get(kinds[layer]), dict):
        params = params[kinds[layer]]
    theta = params.get("rope_theta", getattr(config, "rope_theta", None))
    return (None if theta is None else float(theta)), params.get("rope_type", "default")


def _window(config, layer: int) -> int | None:
    kinds = getattr(config, "layer_types", None)
    window = getattr(config, "sliding_window", None)
    if kinds is not None:
        return window if kinds[layer] == "sliding_attention" else None
    return window


def _gpt2(model, config) -> ModelAnatomy:
    base = model.transformer
    d = config.n_embd
    blocks = []
    for i, blk in enumerate(base.h):
        attn, mlp = blk.attn, blk.mlp
        q, k, v = (Linear(attn.c_attn, conv1d=True, part=n) for n in range(3))   # fused
        scale = 1.0 / math.sqrt(d // config.n_head) if config.scale_attn_weights else 1.0
        if config.scale_attn_by_inverse_layer_idx:
            scale /= i + 1
        blocks.append(BlockAnatomy(
            index=i, module=blk, attention_norm=Norm(blk.ln_1, "LayerNorm", blk.ln_1.eps),
            attention=attn, q=q, k=k, v=v, q_norm=None, k_norm=None,
            o=Linear(attn.c_proj, conv1d=True), output_projection=attn.c_proj,
            attention_out_norm=None,
            attention_scale=scale, sliding_window=None, rope_theta=None, rope_type=None,
            mlp_norm=Norm(blk.ln_2, "LayerNorm", blk.ln_2.eps), mlp=mlp, gate=None,
            up=Linear(mlp.c_fc, conv1d=True), down=Linear(mlp.c_proj, conv1d=True),
            activation_name=config.activation_function, mlp_out_norm=None))
    return ModelAnatomy(
        family="gpt2", model_type=config.model_type, model_ref=weakref.ref(model),
        config=config, embedding=base.wte,
        embedding_scale=1.0, positions="learned", position_table=base.wpe, blocks=tuple(blocks),
        final_norm=Norm(base.ln_f, "LayerNorm", base.ln_f.eps),
        unembedding=model.get_output_embeddings(), logit_softcap=None, mlp_kind="GELU MLP")


def _rms(module, offset: float = 0.0) -> Norm:
    eps = getattr(module, "variance_epsilon", None)
    return Norm(module, "RMSNorm", float(eps if eps is not None else module.eps), offset)


def _llama_or_gemma(model, config, family: str) -> ModelAnatomy:
    base = model.model
    gemma = family == "gemma3"
    offset = 1.0 if gemma else 0.0   # Gemma's RMSNorm scales by 1 + its stored weight
    # Olmo 2 norms only after attention and MLP; Gemma 3 before and after; the others before.
    norm_before = config.model_type != "olmo2"
    norm_after = gemma or not norm_before
    head_norms = norm_before and hasattr(base.layers[0].self_attn, "q_norm")  # per head
    act = config.hidden_activation if gemma else config.hidden_act
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    blocks = []
    for i, blk in enumerate(base.layers):
        attn, mlp = blk.self_attn, blk.mlp
        theta, rope_type = _rope(config, i)
        mlp_norm = blk.pre_feedforward_layernorm if gemma else blk.post_attention_layernorm
        blocks.append(BlockAnatomy(
            index=i, module=blk,
            attention_norm=_rms(blk.input_layernorm, offset) if norm_before else None,
            attention=attn, q=Linear(attn.q_proj), k=Linear(attn.k_proj),
            v=Linear(attn.v_proj),
            q_norm=_rms(attn.q_norm, offset) if head_norms else None,
            k_norm=_rms(attn.k_norm, offset) if head_norms else None,
            o=Linear(attn.o_proj), output_projection=attn.o_proj,
            attention_out_norm=_rms(blk.post_attention_layernorm, offset) if norm_after else None,
            attention_scale=(config.query_pre_attn_scalar ** -0.5 if gemma
                             else 1.0 / math.sqrt(head_dim)),
            sliding_window=_window(config, i), rope_theta=theta, rope_type=rope_type,
            mlp_norm=_rms(mlp_norm, offset) if norm_before else None,
            mlp=mlp, gate=Linear(mlp.gate_proj), up=Linear(mlp.up_proj),
            down=Linear(mlp.down_proj), activation_name=act,
            mlp_out_norm=_rms(blk.post_feedforward_layernorm, offset) if norm_after else None))
    embedding = base.embed_tokens
    return ModelAnatomy(
        family=family, model_type=config.model_type, model_ref=weakref.ref(model),
        config=config, embedding=embedding,
        embedding_scale=float(getattr(embedding, "scalar_embed_scale", 1.0)), positions="rope",
        position_table=None, blocks=tuple(blocks), final_norm=_rms(base.norm, offset),
        unembedding=model.get_output_embeddings(),
        logit_softcap=getattr(config, "final_logit_softcapping", None),
        mlp_kind="SwiGLU" if act == "silu" else "GeGLU" if act.startswith("gelu") else act)


_ANATOMIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # model -> its anatomy


def anatomy(lm) -> ModelAnatomy:
    """The parts of a loaded model (a `LoadedModel` from helpers.load_model). Read once per
    model: the parts hold modules, and every weight is read from its module when used."""
    model = lm.model
    if model not in _ANATOMIES:
        config = model.config
        family = family_of(config)
        _ANATOMIES[model] = (_gpt2(model, config) if family == "gpt2"
                             else _llama_or_gemma(model, config, family))
    return _ANATOMIES[model]


def new_cache(lm):
    """An empty KV cache for `lm` that keeps every position in every layer.

    transformers' own cache for a model with sliding-window layers (Gemma 3) keeps only the
    last window there, so its attention rows are shorter in those layers and it cannot be cut
    back once the window is full. This one keeps everything; the sliding layers' mask still
    gives every key beyond the window zero attention, so the logits are the same.
    """
    from transformers import DynamicCache   # here: `import helpers` stays light

    if anatomy(lm).sliding_layers:
        return DynamicCache()   # plain layers, created as the model writes to them
    return DynamicCache(config=lm.model.config)


# ---------------------------------------------------------------- hooks

# The points `capture` can read or edit in every block, in the order a forward pass meets them.
POINTS = {
    "resid_pre": "the residual stream entering the block (block 0: the embeddings)",
    "attn_in": "the attention's input, normed",
    "pattern": "the attention weights [batch, heads, queries, keys] (eager attention only)",
    "heads": "every head's output side by side, before the output projection",
    "attn_out": "what the attention adds to the stream",
    "resid_mid": "the stream after the attention's add",
    "mlp_in": "the MLP's input, normed",
    "mlp_out": "what the MLP adds to the stream",
    "resid_post": "the residual stream leaving the block",
}


def _site(block: BlockAnatomy, point: str) -> tuple[torch.nn.Module, str, int]:
    """The module to hook for a point, whether the point is its input or its output, and which
    element of a tuple output it is (an attention module returns (output, weights))."""
    return {
        "resid_pre": (block.module, "input", 0),
        "attn_in": ((block.attention_norm.module, "output", 0) if block.attention_norm
                    else (block.attention, "input", 0)),
        "pattern": (block.attention, "output", 1),
        "heads": (block.output_projection, "input", 0),
        "attn_out": (block.attention_write, "output", 0),
        "resid_mid": (block.mlp_norm.module if block.mlp_norm else block.mlp, "input", 0),
        "mlp_in": ((block.mlp_norm.module, "output", 0) if block.mlp_norm
                   else (block.mlp, "input", 0)),
        "mlp_out": (block.mlp_write, "output", 0),
        "resid_post": (block.module, "output", 0),
    }[point]


class Captured(dict):
    """What `capture` saw: (point, layer) -> tensor [batch, T, ...], from the last forward
    pass inside the `with`."""

    def stack(self, point: str) -> torch.Tensor:
        """One point in every captured layer, in layer order: [layers, batch, T, ...]."""
        layers = sorted(layer for p, layer in self if p == point)
        if not layers:
            raise KeyError(f"{point!r} was not captured: pass it to capture(lm, [...]).")
        return torch.stack([self[point, layer] for layer in layers])


Edit = Callable[[torch.Tensor], torch.Tensor]


@contextmanager
def capture(lm, points: Iterable[str] = (), layers: Iterable[int] | None = None,
            edits: Mapping[tuple[str, int], Edit] | None = None):
    """Hook the named points (see POINTS) of the chosen blocks (default: all) while the `with`
    runs, and yield a `Captured` dict of what passes there. `edits` maps (point, layer) to a
    function that replaces the value at that point (e.g. zeroing a head's slice of "heads").
    Only forward passes in the thread that opened the `with` are read or edited (a clock
    ticking in another thread on the same model is left alone). The hooks are removed on
    leaving the `with`, also after an error.
    """
    a = anatomy(lm)
    points, edits = list(points), dict(edits or {})
    layers = list(range(len(a.blocks))) if layers is None else [int(n) for n in layers]
    for point, layer in [(p, n) for p in points for n in layers] + list(edits):
        if point not in POINTS:
            raise ValueError(f"{point!r} is not a point capture knows: {', '.join(POINTS)}.")
        if not 0 <= layer < len(a.blocks):
            raise ValueError(f"layer must be 0..{len(a.blocks) - 1} for {lm.name}, got {layer}.")
    wanted = {(p, n) for p in points for n in layers}
    seen = Captured()
    owner = threading.get_ident()

    def passing(key: tuple[str, int], value: torch.Tensor | None) -> torch.Tensor | None:
        if value is None or threading.get_ident() != owner:
            return value
        if key in edits:
            value = edits[key](value)
        if key in wanted:
            seen[key] = value.detach()
        return value

    def on_input(key):
        def hook(module, args, kwargs):
            if args:
                return (passing(key, args[0]),) + tuple(args[1:]), kwargs
            return args, {**kwargs, "hidden_states": passing(key, kwargs["hidden_states"])}
        return hook

    def on_output(key, index):
        def hook(module, args, output):
            if isinstance(output, tuple):
                return output[:index] + (passing(key, output[index]),) + output[index + 1:]
            return passing(key, output) if index == 0 else None
        return hook

    handles = []
    try:
        for point, layer in sorted(wanted | set(edits), key=lambda k: (k[1], k[0])):
            module, where, index = _site(a.blocks[layer], point)
            key = (point, layer)
            handles.append(module.register_forward_pre_hook(on_input(key), with_kwargs=True)
                           if where == "input" else
                           module.register_forward_hook(on_output(key, index)))
        yield seen
    finally:
        for handle in handles:
            handle.remove()
