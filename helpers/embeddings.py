"""Token ids -> vectors: the embedding table, positions (learned table or RoPE), neighbours,
a 2-D map of words, and the residual stream as the running vector.

Works for every family (helpers.anatomy tells them apart): GPT-2 adds a learned position vector
(`wpe`) to each token vector; Llama/SmolLM2 and Gemma 3 add nothing and instead rotate queries
and keys inside attention (RoPE). Gemma 3 also multiplies every token vector by sqrt(d_model)
before the first block (`embedding_scale`).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch

from .anatomy import anatomy, capture
from .tokens import visible
from .validate import token_ids_of

__all__ = [
    "embedding_matrix", "one_hot", "lookup_by_one_hot", "single_token_id", "cosine_similarity",
    "Neighbour", "nearest_neighbours", "Projection", "project_2d", "project_words",
    "embedding_scale", "input_vectors", "position_table", "gpt2_input_vectors", "rope_theta",
    "rope_inverse_frequencies", "rope_angles", "rope_cos_sin", "rotate_half", "apply_rope",
    "rope_scores", "final_norm", "residual_stream", "residual_norms",
]


# --- lookup --------------------------------------------------------------------------------

def embedding_matrix(lm) -> torch.Tensor:
    """The token embedding table [vocab_size, d_model]: row i is the vector of token i."""
    return lm.model.get_input_embeddings().weight.detach()


def one_hot(ids: Sequence[int] | torch.Tensor, vocab_size: int) -> torch.Tensor:
    """[len(ids), vocab_size] float matrix with a single 1 per row, at the token's id."""
    ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
    if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
        raise ValueError(f"Token ids must be in 0..{vocab_size - 1}; got {ids.tolist()[:10]}.")
    return torch.nn.functional.one_hot(ids, vocab_size).float()


def lookup_by_one_hot(lm, ids: Sequence[int] | torch.Tensor) -> torch.Tensor:
    """An embedding lookup written as a matrix product: one_hot(ids) @ E -> [len(ids), d_model].

    The product picks row `id` of E for every token, which is all an embedding layer does
    (the layer simply skips multiplying by all the zeros).
    """
    table = embedding_matrix(lm)
    return one_hot(ids, table.shape[0]) @ table


def single_token_id(lm, word: str) -> int:
    """The id of `word` if it is exactly one token; otherwise a ValueError that shows the split.

    Byte-level vocabularies store most words with their leading space: ' Paris' is one
    token while 'Paris' at the start of a text may be another, or several.
    """
    if not isinstance(word, str) or word == "":
        raise ValueError("Give a non-empty word, e.g. ' Paris' (with its leading space).")
    ids = lm.encode(word)
    if len(ids) == 1:
        return ids[0]
    pieces = " + ".join(repr(lm.decode([i])) for i in ids)
    hint = ""
    alternative = word[1:] if word.startswith(" ") else " " + word
    if len(lm.encode(alternative)) == 1:
        hint = f" {alternative!r} is a single token: use that."
    raise ValueError(f"{word!r} is {len(ids)} tokens ({pieces}), not one; "
                     f"this needs single-token words.{hint}")


def cosine_similarity(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Cosine of the angle between vectors (along the last dimension): 1 = same direction."""
    return torch.nn.functional.cosine_similarity(a, b, dim=-1)


class Neighbour(NamedTuple):
    token_id: int
    text: str          # decoded token text (raw; pass through `visible` for display)
    similarity: float  # cosine similarity to the query word


def nearest_neighbours(lm, word: str | int, k: int = 10) -> list[Neighbour]:
    """The k tokens whose embedding vectors point most nearly the same way as `word`'s."""
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a whole number >= 1, got {k!r}.")
    table = embedding_matrix(lm)
    token_id = word if isinstance(word, int) else single_token_id(lm, word)
    if not 0 <= token_id < table.shape[0]:
        raise ValueError(f"Token id must be in 0..{table.shape[0] - 1}, got {token_id}.")
    sims = (torch.nn.functional.normalize(table, dim=-1)
            @ torch.nn.functional.normalize(table[token_id], dim=-1))
    sims[token_id] = -float("inf")  # the word itself is trivially its own nearest neighbour
    top = torch.topk(sims, min(k, table.shape[0] - 1))
    return [Neighbour(int(i), lm.decode([int(i)]), float(s))
            for s, i in zip(top.values, top.indices)]


# --- a 2-D map -----------------------------------------------------------------------------

class Projection(NamedTuple):
    labels: list[str]        # the words, made visible (' Paris' -> '·Paris')
    token_ids: list[int]
    xy: torch.Tensor         # [n, 2] coordinates on the two principal axes
    explained: tuple[float, float]  # share of the spread (variance) each axis shows


def project_2d(vectors: torch.Tensor) -> tuple[torch.Tensor, tuple[float, float]]:
    """PCA to 2 dimensions via SVD: centre, take the two directions of largest spread.

    Deterministic: each axis is flipped so its largest-magnitude coordinate is positive.
    Returns the [n, 2] coordinates and the fraction of variance on each axis.
    """
    x = vectors.detach().double()
    if x.dim() != 2 or x.shape[0] < 3:
        raise ValueError(f"Need at least 3 vectors to make a 2-D map; got shape {tuple(x.shape)}.")
    centred = x - x.mean(dim=0, keepdim=True)
    u, s, _ = torch.linalg.svd(centred, full_matrices=False)
    xy = u[:, :2] * s[:2]
    signs = torch.sign(xy.gather(0, xy.abs().argmax(dim=0, keepdim=True)))
    xy = xy * signs
    variance = s**2
    explained = (float(variance[0] / variance.sum()), float(variance[1] / variance.sum()))
    return xy.float(), explained


def project_words(lm, words: Sequence[str]) -> Projection:
    """Embed single-token words and project their vectors to 2-D."""
    ids, problems = [], []
    for w in words:
        try:
            ids.append(single_token_id(lm, w))
        except ValueError as err:
            problems.append(str(err))
    if problems:
        raise ValueError("Every word must be one token.\n" + "\n".join(problems))
    xy, explained = project_2d(embedding_matrix(lm)[ids])
    return Projection([visible(w) for w in words], ids, xy, explained)


# --- positions -----------------------------------------------------------------------------

def position_table(lm) -> torch.Tensor:
    """GPT-2's learned position embeddings `wpe` [context_length, d_model]: one row per position."""
    table = anatomy(lm).position_table
    if table is None:
        raise ValueError(
            f"{lm.name} is a {lm.family} model: it has no position table. It encodes positions by "
            f"rotating queries and keys (RoPE): see rope_cos_sin() and apply_rope()."
        )
    return table.weight.detach()


def embedding_scale(lm) -> float:
    """The factor on every token vector before the first block: sqrt(d_model) in Gemma 3 (so
    that the vectors start as long as the blocks' writes), 1 elsewhere."""
    return anatomy(lm).embedding_scale


def input_vectors(lm, ids: Sequence[int]) -> torch.Tensor:
    """What the first block receives, [len(ids), d_model]: each token's row of the embedding
    table, times the embedding scale (Gemma 3), plus its position's row (GPT-2)."""
    ids = torch.as_tensor(ids, dtype=torch.long)
    vectors = embedding_matrix(lm)[ids] * embedding_scale(lm)
    if anatomy(lm).position_table is not None:
        vectors = vectors + position_table(lm)[torch.arange(len(ids))]
    return vectors


def gpt2_input_vectors(lm, ids: Sequence[int]) -> torch.Tensor:
    """What GPT-2's first block receives: token vector + learned position vector, per position."""
    position_table(lm)   # a clear message for a model without a position table
    return input_vectors(lm, ids)


def rope_theta(lm, layer: int | None = None) -> float:
    """RoPE's base (theta) (10,000 in Llama 1/2, 100,000 in SmolLM2). Gemma 3 has two, 10,000 in
    its sliding-window layers and 1,000,000 in the others: give the `layer` there."""
    blocks = anatomy(lm).blocks
    thetas = sorted({b.rope_theta for b in blocks if b.rope_theta is not None})
    if not thetas:
        raise ValueError(f"{lm.name} has no RoPE settings in its config (GPT-2 uses a learned "
                         f"position table).")
    if layer is not None:
        if not 0 <= layer < len(blocks):
            raise ValueError(f"layer must be 0..{len(blocks) - 1} for {lm.name}, got {layer}.")
        return blocks[layer].rope_theta
    if len(thetas) > 1:
        raise ValueError(f"{lm.name}'s layers rotate with different thetas "
                         f"({', '.join(f'{t:,.0f}' for t in thetas)}): pass layer=.")
    return thetas[0]


def rope_inverse_frequencies(head_dim: int, theta: float) -> torch.Tensor:
    """Turning speed (radians per position) of each of the head_dim/2 dimension pairs.

    Pair i turns by theta^(-2i/head_dim): pair 0 by 1 radian per token (a fast second hand),
    the last pair by almost nothing (a slow hour hand).
    """
    if head_dim % 2:
        raise ValueError(f"RoPE needs an even head_dim, got {head_dim}.")
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))


def rope_angles(positions: Sequence[int] | torch.Tensor, head_dim: int,
                theta: float) -> torch.Tensor:
    """[n_positions, head_dim/2] rotation angle (radians) of every pair at every position."""
    positions = torch.as_tensor(positions, dtype=torch.float32).reshape(-1)
    return positions[:, None] * rope_inverse_frequencies(head_dim, theta)[None, :]


def rope_cos_sin(positions, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin [n_positions, head_dim] in the layout Hugging Face Llama uses.

    Its pairs are (dimension i, dimension i + head_dim/2), so the angles are repeated twice.
    """
    angles = rope_angles(positions, head_dim, theta)
    both = torch.cat([angles, angles], dim=-1)
    return both.cos(), both.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension: a 90° turn of every pair."""
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def apply_rope(x: torch.Tensor, positions, theta: float) -> torch.Tensor:
    """Rotate vectors x [..., n_positions, head_dim]: each pair by its angle at its position."""
    cos, sin = rope_cos_sin(positions, x.shape[-1], theta)
    return x * cos + rotate_half(x) * sin


def rope_scores(q: torch.Tensor, k: torch.Tensor, n_positions: int, theta: float) -> torch.Tensor:
    """S[m, n] = rotated(q at position m) · rotated(k at position n), for one fixed q and k.

    The same q and k everywhere, so any change across S comes from the positions alone. RoPE
    makes S depend only on m - n: S is constant along each diagonal.
    """
    positions = torch.arange(n_positions)
    q_rot = apply_rope(q.expand(n_positions, -1), positions, theta)
    k_rot = apply_rope(k.expand(n_positions, -1), positions, theta)
    return q_rot @ k_rot.T


# --- the residual stream ---------------------------------------------------------------------

def final_norm(lm) -> torch.nn.Module:
    """The norm between the last block and the unembedding (RMSNorm `norm` or GPT-2's `ln_f`)."""
    return anatomy(lm).final_norm.module


@torch.no_grad()
def residual_stream(lm, text: str) -> torch.Tensor:
    """The running vector of every token after each stage: [n_layers + 1, n_tokens, d_model].

    Row 0 is the input embedding (scaled in Gemma 3, + position vector for GPT-2), row L the
    vector after block L. Taken *before* the final norm (transformers' last `hidden_states`
    entry is after it). The text is read as a prompt (`lm.encode_prompt`: Gemma's <bos> first).
    """
    ids = token_ids_of(lm, text)   # lm.encode_prompt; an empty text is refused (not Gemma's <bos>)
    with capture(lm, ["resid_pre", "resid_post"]) as seen:
        lm.model(torch.tensor([ids], device=lm.device), use_cache=False)
    stream = [seen["resid_pre", 0]] + [seen["resid_post", n] for n in range(lm.n_layers)]
    return torch.stack([s[0] for s in stream]).float().cpu()


def residual_norms(lm, text: str, position: int = -1) -> torch.Tensor:
    """Length (L2 norm) of one token's running vector after each stage: [n_layers + 1]."""
    stream = residual_stream(lm, text)
    n_tokens = stream.shape[1]
    if not -n_tokens <= position < n_tokens:
        raise ValueError(f"position must be in {-n_tokens}..{n_tokens - 1} "
                         f"for this {n_tokens}-token text.")
    return stream[:, position].norm(dim=-1)
