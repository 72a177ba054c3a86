"""The sampler: how one tick turns the model's logits into one chosen token.

The model's output at a tick is a vector of logits, one score per vocabulary entry;
softmax turns it into a *categorical* distribution over the vocabulary. The sampler
reshapes that distribution and draws from it:

    logits --repetition penalty--> --temperature--> --top-k--> --top-p--> --min-p-->
        softmax --> draw

That is the order transformers' `generate` applies its processors in, so the same settings
here and there give the same distribution. Every function is pure and works on a 1-D
logits vector [vocab]. Removed entries become -inf (probability exactly 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Iterable, NamedTuple

import torch

from .validate import check_number, check_whole

__all__ = [
    "SamplingConfig", "CLOCK_TEMPERATURE", "SETTING_NAMES", "check_setting_names", "Candidate",
    "apply_repetition_penalty", "apply_temperature", "apply_top_k",
    "apply_top_p", "apply_min_p", "process_logits", "filtered_probs", "draw", "greedy",
    "entropy_bits", "top_candidates",
]


# Beyond these the penalised logits leave float32's range (a positive logit divided by 1e-39 is
# infinite, and the softmax NaN): the limits keep every distribution finite.
MIN_REPETITION_PENALTY, MAX_REPETITION_PENALTY = 1e-3, 1e3


def check_repetition_penalty(penalty) -> float:
    return check_number(penalty, "repetition_penalty", MIN_REPETITION_PENALTY,
                        MAX_REPETITION_PENALTY,
                        hint=" (1 = off; above 1 discourages repeats, below 1 favours them)")


# The clock widget's and the recorded clock's default temperature: some randomness, and raw and
# sampled-from bars that differ (at 1 they are the same bars, and that lesson disappears).
CLOCK_TEMPERATURE = 0.7


@dataclass(frozen=True)
class SamplingConfig:
    """The sampler's settings; the defaults sample from the model's own distribution."""

    temperature: float = 1.0          # 0 means greedy (always the most likely token)
    top_k: int | None = None          # keep the k most likely tokens; None or 0 = off
    top_p: float = 1.0                # keep the smallest set whose probability reaches p; 1 = off
    min_p: float = 0.0                # drop tokens below min_p x (probability of the best
                                      # token); 0 = off
    repetition_penalty: float = 1.0   # > 1 discourages tokens already in the context; 1 = off
                                      # (from 0.001 to 1000)

    def __post_init__(self) -> None:
        check_number(self.temperature, "temperature", low=0, hint=" (0 = greedy)")
        if self.top_k is not None:
            check_whole(self.top_k, "top_k", 0, hint=" (None or 0 = off)")
        check_number(self.top_p, "top_p", 0, 1, low_open=True, hint=" (1 = off)")
        check_number(self.min_p, "min_p", 0, 1, high_open=True, hint=" (0 = off)")
        check_repetition_penalty(self.repetition_penalty)

    @property
    def is_greedy(self) -> bool:
        return self.temperature == 0


SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in fields(SamplingConfig))


def check_setting_names(settings) -> None:
    """TypeError naming the valid settings when `settings` has a name SamplingConfig does not
    know."""
    unknown = set(settings) - set(SETTING_NAMES)
    if unknown:
        raise TypeError(f"Unknown setting(s) {sorted(unknown)}; "
                        f"the sampling settings are {list(SETTING_NAMES)}.")


class Candidate(NamedTuple):
    """One vocabulary entry of a distribution, for display."""

    token_id: int
    text: str        # decoded token text (raw, not made visible)
    prob: float


def _check_logits(logits: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 1:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"Expected a 1-D logits vector [vocab], got {shape}; "
                         f"take logits[0, -1] of the model output.")


def apply_repetition_penalty(logits: torch.Tensor, previous_ids: Iterable[int],
                             penalty: float) -> torch.Tensor:
    """Make every token already in `previous_ids` less likely: transformers' repetition_penalty.

    The idea is CTRL's (Keskar et al. 2019), which divided the logits of the tokens generated
    so far by the penalty (1.2), whatever their sign. This is transformers' version: it
    penalises every token of `previous_ids`, prompt included, and its sign rule is its own: a
    positive logit is divided by the penalty, a negative one multiplied, so the token's
    logit always goes down when penalty > 1, whatever its sign. Its *probability* can still
    rise: the softmax is relative, so when other tokens of the context are pushed down more,
    this one's share grows. And unlike temperature, the penalty is not shift-invariant:
    adding the same constant to every logit leaves the softmax unchanged but moves where
    zero is, and so which tokens are divided and which multiplied.
    """
    _check_logits(logits)
    check_repetition_penalty(penalty)
    ids = torch.as_tensor(list(previous_ids), dtype=torch.long, device=logits.device)
    if penalty == 1 or ids.numel() == 0:
        return logits.clone()
    ids = ids.unique()
    ids = ids[ids < logits.numel()]  # ids beyond the output vocabulary can never be generated
    score = logits[ids]
    out = logits.clone()
    out[ids] = torch.where(score < 0, score * penalty, score / penalty)
    return out


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide by T: T < 1 sharpens the distribution, T > 1 flattens it. T must be > 0 here
    (T = 0 means greedy, which is an argmax, not a division). Also takes a batch of logits
    vectors [..., vocab] (scoring a text: one row per position)."""
    if not isinstance(logits, torch.Tensor) or logits.dim() == 0:
        _check_logits(logits)
    check_number(temperature, "apply_temperature's temperature", 0, low_open=True,
                 hint=" (T = 0 is greedy: use greedy(logits))")
    if temperature >= torch.finfo(logits.dtype).tiny:
        scaled = logits / temperature  # exactly what transformers' generate computes
        if torch.isfinite(scaled.amax(dim=-1)).all():
            return scaled
    # A tiny T overflows: logits / T is +inf (softmax -> NaN), and a T below the dtype's
    # smallest normal number even rounds to 0 when torch converts it. Shift by the max first
    # (softmax is unchanged by a shift; every value becomes <= 0, the best exactly 0) and
    # divide in float64, which holds any positive Python float T: the best token(s) stay at 0,
    # the rest go to large negatives or -inf. The result is exact, never NaN: in the limit
    # the distribution is one-hot on the argmax (shared equally by tied best tokens).
    shifted = (logits - logits.amax(dim=-1, keepdim=True)).double() / temperature
    return shifted.to(logits.dtype)


def apply_top_k(logits: torch.Tensor, k: int | None) -> torch.Tensor:
    """Keep the k highest logits (ties with the k-th are kept); the rest -> -inf. None/0 = off.

    Off by default here. transformers' `generate(do_sample=True)` uses top_k=50 unless told
    otherwise: that default belongs to `GenerationConfig`, not to the model (SmolLM2's own
    generation_config.json sets no top_k)."""
    _check_logits(logits)
    if k is None or k == 0:
        return logits.clone()
    check_whole(k, "top_k", 0, hint=" (None or 0 = off)")
    k = min(k, logits.numel())
    kth_best = torch.topk(logits, k).values[-1]
    return logits.masked_fill(logits < kth_best, -math.inf)


def apply_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Nucleus sampling (Holtzman et al. 2019): keep the most likely tokens whose total
    probability first reaches p; the rest -> -inf. The best token is always kept."""
    _check_logits(logits)
    check_number(p, "top_p", 0, 1, low_open=True, hint=" (1 = off)")
    if p == 1:
        return logits.clone()
    # Ascending sort: the tokens whose cumulative probability stays <= 1 - p form the tail to drop.
    sorted_logits, sorted_ids = torch.sort(logits, descending=False)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    drop_sorted = cumulative <= (1 - p)
    drop_sorted[-1] = False
    drop = drop_sorted.scatter(0, sorted_ids, drop_sorted)
    return logits.masked_fill(drop, -math.inf)


def apply_min_p(logits: torch.Tensor, min_p: float) -> torch.Tensor:
    """Min-p (Nguyen et al. 2024): drop tokens whose probability is below min_p times the
    best token's probability, so the cut adapts to how confident the model is. 0 = off."""
    _check_logits(logits)
    check_number(min_p, "min_p", 0, 1, high_open=True, hint=" (0 = off)")
    if min_p == 0:
        return logits.clone()
    probs = logits.softmax(dim=-1)
    drop = probs < min_p * probs.max()
    drop[probs.argmax()] = False
    return logits.masked_fill(drop, -math.inf)


def process_logits(logits: torch.Tensor, config: SamplingConfig,
                   previous_ids: Iterable[int] = ()) -> torch.Tensor:
    """All the settings of `config`, in the order transformers' `generate` applies them.

    Greedy (T = 0) applies only the repetition penalty: like `generate(do_sample=False)`,
    the other settings only reshape a distribution that is then sampled from.
    """
    _check_logits(logits)
    out = logits.float()
    if config.repetition_penalty != 1:
        out = apply_repetition_penalty(out, previous_ids, config.repetition_penalty)
    if config.is_greedy:
        return out
    if config.temperature != 1:
        out = apply_temperature(out, config.temperature)
    if config.top_k:
        out = apply_top_k(out, config.top_k)
    if config.top_p < 1:
        out = apply_top_p(out, config.top_p)
    if config.min_p > 0:
        out = apply_min_p(out, config.min_p)
    return out


def filtered_probs(logits: torch.Tensor, config: SamplingConfig,
                   previous_ids: Iterable[int] = ()) -> torch.Tensor:
    """The distribution the sampler draws from: softmax of the processed logits, or a
    one-hot vector at the best token when greedy."""
    processed = process_logits(logits, config, previous_ids)
    if config.is_greedy:
        one_hot = torch.zeros_like(processed)
        one_hot[processed.argmax()] = 1.0
        return one_hot
    return processed.softmax(dim=-1)


def draw(probs: torch.Tensor, generator: torch.Generator) -> int:
    """Draw one token id from a categorical distribution. The same generator state gives the
    same token: that is what makes a seeded run reproducible.

    How torch.multinomial really draws one sample (aten/src/ATen/native/Distributions.cpp):
    not one uniform number on [0, 1) looked up in the cumulative sum, but an *exponential
    race* over the whole vocabulary: q_i ~ Exp(1) for every token, then argmax(p_i / q_i).
    Token i wins with probability exactly p_i (the Gumbel-max trick with exp applied), and
    every draw consumes one exponential number per vocabulary entry from the generator, so
    the generator's state after a tick does not depend on which token won. That is also
    what transformers' generate calls, so the same seed gives the same tokens there."""
    if not isinstance(probs, torch.Tensor) or probs.dim() != 1:
        raise ValueError("draw expects a 1-D probability vector [vocab]; "
                         "use filtered_probs(logits, config).")
    return int(torch.multinomial(probs, num_samples=1, generator=generator).item())


def greedy(logits: torch.Tensor) -> int:
    """The single most likely token (what T -> 0 tends to)."""
    _check_logits(logits)
    return int(logits.argmax().item())


def entropy_bits(probs: torch.Tensor) -> float:
    """How uncertain a distribution is, in bits: 0 when one token is certain, log2(n) when n
    tokens are equally likely."""
    p = probs.double()
    p = p[p > 0]
    return max(0.0, float(-(p * p.log2()).sum()))  # max: no -0.0 from rounding


def top_candidates(probs: torch.Tensor, tokenizer, k: int = 10) -> list[Candidate]:
    """The k most likely tokens, best first. Entries with probability 0 (filtered out) are
    left out, so a filtered distribution may return fewer than k."""
    values, ids = torch.topk(probs, min(k, probs.numel()))
    keep = values > 0
    values, ids = values[keep].tolist(), ids[keep].tolist()
    texts = tokenizer.batch_decode([[i] for i in ids]) if ids else []
    return [Candidate(i, t, v) for i, t, v in zip(ids, texts, values)]
