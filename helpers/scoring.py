"""Scoring a text: how likely the model finds each of its tokens, from one forward pass.

    scores = token_logprobs(lm, "The capital of France is Paris.")
    scores.logprobs        # log p(token i+1 | tokens 0..i), natural log, one per scored token
    scores.surprisal_bits  # the same in bits: -log2 p
    perplexity(lm, "The capital of France is Paris.")   # exp(mean negative log-probability)

Teacher forcing: the model reads the whole text at once, and the causal mask stops every
position from seeing the tokens after it, so position i's logits are exactly the next-token
distribution the model would give after tokens 0..i alone. One pass scores every token.

The first token is never scored: nothing comes before it. A text is read as a prompt
(`lm.encode_prompt`): SmolLM2 and GPT-2 have no beginning-of-text token, so their text is
scored exactly as given; Gemma's <bos> comes first, so there every token of the text is scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .attention import as_ids, token_labels

__all__ = ["TokenScores", "token_logprobs", "perplexity"]


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
        return math.exp(-float(self.logprobs.mean()))


def _check_temperature(temperature: float) -> float:
    if not isinstance(temperature, (int, float)) or not temperature > 0 or math.isinf(temperature):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}.")
    return float(temperature)


@torch.no_grad()
def token_logprobs(lm, text, temperature: float = 1.0) -> TokenScores:
    """Score every token of `text` (a string or token ids) but the first, in one forward pass.

    temperature: the logits are divided by it before the softmax, as the sampler does.
    A text longer than the model's context is refused (score it in pieces that fit).
    """
    temperature = _check_temperature(temperature)
    n = len(lm.encode_prompt(text)) if isinstance(text, str) else len(text)
    if n > lm.context_length:
        raise ValueError(f"The text is {n} tokens long but {lm.name} reads at most "
                         f"{lm.context_length}: score it in pieces that fit (each piece's first "
                         f"token then goes unscored), or shorten it.")
    ids = as_ids(lm, text)  # checks: not empty, ids in the vocabulary
    if len(ids) < 2:
        raise ValueError("A text of one token has nothing to score: the first token has no "
                         "prediction. Give at least two tokens.")
    logits = lm.model(torch.tensor([ids], device=lm.device), use_cache=False).logits[0]
    # Position i predicts token i + 1: drop the last row (it predicts past the text)
    # and the first id (nothing predicts it).
    logprobs = torch.log_softmax(logits[:-1].float() / temperature, dim=-1)
    targets = torch.tensor(ids[1:], device=logprobs.device)
    scored = logprobs.gather(-1, targets[:, None])[:, 0]
    return TokenScores(ids, token_labels(lm, ids), scored.cpu(), temperature)


def perplexity(lm, text, temperature: float = 1.0) -> float:
    """exp of the mean negative log-probability of the tokens of `text` after the first.

    Equals exp(loss) for the model's own loss with labels = the input ids.
    """
    return token_logprobs(lm, text, temperature).perplexity
