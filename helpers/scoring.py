"""Scoring a text: how likely the model finds each of its tokens, from one forward pass.

    scores = token_logprobs(lm, "The capital of France is Paris.")
    scores.logprobs        # log p(token i+1 | tokens 0..i), natural log, one per scored token
    scores.surprisal_bits  # the same in bits: -log2 p
    perplexity(lm, "The capital of France is Paris.")   # exp(mean negative log-probability)

Teacher forcing: the model reads the whole text at once, and the causal mask stops every
position from seeing the tokens after it, so position i's logits are exactly the next-token
distribution the model would give after tokens 0..i alone. One pass scores every token
(a text longer than SCORE_CHUNK tokens is read in chunks through a KV cache: the same pass,
cut into pieces so that memory stays bounded).

The first token is never scored: nothing comes before it. A text is read as a prompt
(`lm.encode_prompt`): SmolLM2 and GPT-2 have no beginning-of-text token, so their text is
scored exactly as given; Gemma's <bos> comes first, so there every token of the text is scored.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch

from .anatomy import new_cache
from .attention import token_labels
from .clock import PREFILL_CHUNK
from .sampling import apply_temperature
from .validate import check_number, token_ids_of

__all__ = ["TokenScores", "token_logprobs", "perplexity", "SCORE_CHUNK"]

SCORE_CHUNK = PREFILL_CHUNK  # positions per forward pass, as the clock reads a long prompt


@dataclass
class TokenScores:
    """The log-probability of every token of a text but the first, under one model."""

    ids: list[int]            # all T token ids of the text
    tokens: list[str]         # their visible labels ('·Paris')
    logprobs: torch.Tensor    # [T - 1] natural log of p(token i+1 | tokens 0..i)
    temperature: float

    @property
    def scored_tokens(self) -> list[str]:
        """The tokens that have a score: all but the first (logprobs[i] scores scored_tokens[i])."""
        return self.tokens[1:]

    @property
    def surprisal_bits(self) -> torch.Tensor:
        """-log2 p per scored token: how many yes/no questions the model needed to guess it."""
        return -self.logprobs / math.log(2)

    @property
    def total_logprob(self) -> float:
        """Log-likelihood of the text after its first token: the sum of the log-probabilities."""
        return float(self.logprobs.sum())

    @property
    def perplexity(self) -> float:
        """exp(mean negative log-probability): as unsure as a fair choice among this many tokens."""
        mean = -float(self.logprobs.mean())
        return math.exp(mean) if mean < 700 else math.inf  # math.exp overflows beyond ~709


def _check_temperature(temperature: float) -> float:
    return check_number(temperature, "temperature", 0, low_open=True,
                        hint=" (1 = the model's own distribution)")


@torch.inference_mode()
def token_logprobs(lm, text, temperature: float = 1.0) -> TokenScores:
    """Score every token of `text` (a string or token ids) but the first, in one forward pass.

    temperature: the logits are divided by it before the softmax, as the sampler does (a tiny
    T gives the limit, -inf for every token but the best, never NaN).
    A text longer than the model's context is refused (score it in pieces that fit).

    Memory and time are bounded like the clock's prefill: the text is read in chunks of
    SCORE_CHUNK positions through a KV cache, so no layer ever holds more than
    [heads, SCORE_CHUNK, context] attention weights (not [heads, T, T]) and at most SCORE_CHUNK
    rows of logits exist at once. The scores equal one pass over the whole text up to float
    rounding (one pass exactly, for a text of at most SCORE_CHUNK + 1 tokens).
    """
    temperature = _check_temperature(temperature)
    ids = token_ids_of(lm, text, "text", limit=sys.maxsize)  # valid text or ids, not empty
    if len(ids) > lm.context_length:
        raise ValueError(f"The text is {len(ids)} tokens long but {lm.name} reads at most "
                         f"{lm.context_length}: score it in pieces that fit (each piece's first "
                         f"token then goes unscored), or shorten it.")
    if len(ids) < 2:
        raise ValueError("A text of one token has nothing to score: the first token has no "
                         "prediction. Give at least two tokens.")
    # Position i predicts token i + 1: the last token is never fed (it would predict past the
    # text), and the first is never a target (nothing predicts it).
    cache = new_cache(lm)
    scored = []
    for start in range(0, len(ids) - 1, SCORE_CHUNK):
        chunk = ids[start:min(start + SCORE_CHUNK, len(ids) - 1)]
        logits = lm.model(torch.tensor([chunk], device=lm.device), cache=cache,
                          use_cache=True).logits[0].float()
        if temperature != 1:
            logits = apply_temperature(logits, temperature)
        logprobs = torch.log_softmax(logits, dim=-1)
        targets = torch.tensor(ids[start + 1:start + 1 + len(chunk)], device=logprobs.device)
        scored.append(logprobs.gather(-1, targets[:, None])[:, 0].cpu())
        del logits, logprobs
    return TokenScores(ids, token_labels(lm, ids), torch.cat(scored), temperature)


def perplexity(lm, text, temperature: float = 1.0) -> float:
    """exp of the mean negative log-probability of the tokens of `text` after the first.

    Equals exp(loss) for the model's own loss with labels = the input ids. Bounded in memory
    like token_logprobs (chunks through a cache); inf when a token has probability 0.
    """
    return token_logprobs(lm, text, temperature).perplexity
