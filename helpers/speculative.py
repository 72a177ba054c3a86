"""Speculative decoding: guess several tokens cheaply, let one forward pass check them all.

A decode tick costs about the same whether it reads 1 new token or 5: the time goes into
streaming the weights, not into the few extra vectors. So a cheap *draft* proposes k tokens,
and one forward pass of the model reads the last token plus all k drafts at once. Its logits
at each position say what greedy decoding would have chosen there; the drafts are accepted
from the left for as long as they agree, and the model's own choice at the first disagreement
(or after the last draft) comes free with the same pass. The rejected drafts' keys and values
are cropped from the KV cache. In exact arithmetic the output is token for token that of plain
greedy decoding; only the number of forward passes changes. In float32 a pass over k + 1 rows
adds the same numbers in another order than a one-token pass, so its logits differ in the last
bits, and where the top two tokens are within that rounding of a tie a choice can differ.

The default draft is *prompt lookup*: find the latest earlier place in the context where its
last few tokens occurred, and copy what followed them there. It costs no model at all and
shines on text that repeats itself (code, lists, quotes). `model_draft` drafts with a smaller
model sharing the tokenizer instead.

    result = generate_speculatively(lm, "def add(a, b):\\n    return a + b\\n\\ndef sub(a, b):", 40,
                                    draft_len=4)
    print(lm.decode(result.new_ids), result.passes_per_token)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from transformers import DynamicCache

from .anatomy import new_cache
from .clock import end_of_text_ids, read_tokens
from .models import LoadedModel
from .validate import check_token_ids, check_whole, token_ids_of

__all__ = ["DraftFn", "VerifyStep", "SpeculativeResult", "prompt_lookup_draft", "model_draft",
           "generate_speculatively"]

# A draft function gets the context so far and a number k, and proposes up to k next tokens.
DraftFn = Callable[[Sequence[int], int], Sequence[int]]


def prompt_lookup_draft(ids: Sequence[int], k: int, max_ngram: int = 3) -> list[int]:
    """Up to k tokens copied from what followed the latest earlier occurrence of the context's
    last n tokens (n = max_ngram down to 1; longer matches are tried first, they guess better).
    [] when the ending has not occurred before.

    transformers' `prompt_lookup_num_tokens` does the same but takes the *first* (earliest)
    match; the latest one follows the most recent pattern, e.g. the newest line of a list.
    """
    ids = list(ids)
    n_ids = len(ids)
    for n in range(min(max_ngram, n_ids - 1), 0, -1):
        tail = ids[-n:]
        for start in range(n_ids - n - 1, -1, -1):  # right to left: the latest match first
            if ids[start:start + n] == tail:
                follow = ids[start + n:start + n + k]
                if follow:
                    return follow
    return []


def model_draft(draft_lm: LoadedModel, target_lm: LoadedModel) -> DraftFn:
    """A draft function that runs `draft_lm` greedily for k tokens (no cache kept between
    calls: simple, and cheap when the draft model is small). Both models must share a tokenizer."""
    if draft_lm.tokenizer.get_vocab() != target_lm.tokenizer.get_vocab():
        raise ValueError(f"{draft_lm.name} and {target_lm.name} use different tokenizers, so their "
                         f"token ids mean different things: pick a draft model of the same family.")

    def draft(ids: Sequence[int], k: int) -> list[int]:
        out: list[int] = []
        cache = new_cache(draft_lm)
        fed = list(ids)
        for _ in range(k):  # the context in chunks like the clock's prefill, then one token
            logits = read_tokens(draft_lm, fed, cache, attentions=False).logits
            out.append(int(logits.argmax()))
            fed = out[-1:]
        return out

    return draft


@dataclass(frozen=True)
class VerifyStep:
    """One forward pass: the drafts it checked, how many it accepted, and its own token."""

    index: int                 # 0 = the prefill (no drafts), then 1, 2, ...
    fed: int                   # tokens read by this pass (the prompt, or 1 + len(drafted))
    drafted: tuple[int, ...]   # what the draft proposed
    accepted: int              # how many drafts, from the left, the model agreed with
    token: int                 # the model's own choice after them (a correction, or a bonus)

    @property
    def new_ids(self) -> tuple[int, ...]:
        """The tokens this pass added: the accepted drafts, then the model's own token."""
        return self.drafted[:self.accepted] + (self.token,)


@dataclass
class SpeculativeResult:
    new_ids: list[int]
    steps: list[VerifyStep] = field(default_factory=list)
    seconds: float = 0.0
    stop_reason: str = "max_new_tokens"   # or "end of text", "context full"

    @property
    def forward_passes(self) -> int:
        return len(self.steps)

    @property
    def drafted(self) -> int:
        return sum(len(s.drafted) for s in self.steps)

    @property
    def accepted(self) -> int:
        return sum(s.accepted for s in self.steps)

    @property
    def passes_per_token(self) -> float:
        return self.forward_passes / max(1, len(self.new_ids))

    @property
    def tokens_per_second(self) -> float:
        return len(self.new_ids) / self.seconds if self.seconds > 0 else float("nan")

    @property
    def stats(self) -> dict:
        return {"new tokens": len(self.new_ids), "forward passes": self.forward_passes,
                "drafted": self.drafted, "accepted": self.accepted,
                "passes per token": round(self.passes_per_token, 3),
                "seconds": round(self.seconds, 3), "stop": self.stop_reason}


def _prompt_ids(lm: LoadedModel, prompt) -> list[int]:
    # At most context - 1 tokens: room for at least one new one.
    return token_ids_of(lm, prompt, "prompt", limit=lm.context_length - 1)


def _check_drafts(lm: LoadedModel, drafted) -> list[int]:
    try:
        return check_token_ids(lm, drafted, "draft's tokens")
    except ValueError as err:
        raise ValueError(f"The draft proposed a token id outside 0..{lm.vocab_size - 1} "
                         f"(or not a whole number): {err}") from None


def _choices(lm: LoadedModel, fed: list[int], cache: DynamicCache, keep: int) -> list[int]:
    """Greedy choice after each of the last `keep` fed positions (one forward pass)."""
    out = lm.model(input_ids=torch.tensor([fed], device=lm.device), cache=cache, use_cache=True,
                   logits_to_keep=keep)
    return out.logits[0].argmax(dim=-1).tolist()


def generate_speculatively(lm: LoadedModel, prompt, max_new_tokens: int, draft_len: int = 4,
                           draft: DraftFn | None = None, max_ngram: int = 3,
                           stop_at_end: bool = True) -> SpeculativeResult:
    """Greedy decoding, verifying up to `draft_len` drafted tokens per forward pass.

    draft_len=0 is plain greedy decoding (one pass per token): the baseline, same code path.
    draft: a function (context ids, k) -> up to k token ids; default prompt lookup.
    Returns the new token ids and, per forward pass, what was drafted and accepted.
    """
    ids = _prompt_ids(lm, prompt)
    check_whole(max_new_tokens, "max_new_tokens", 1)
    check_whole(draft_len, "draft_len", 0)
    check_whole(max_ngram, "max_ngram", 1)
    if draft is not None and not callable(draft):
        raise ValueError(f"draft must be a function (context ids, k) -> token ids, or None for "
                         f"prompt lookup; got {type(draft).__name__}.")
    if draft is None:
        def draft(context, k):
            return prompt_lookup_draft(context, k, max_ngram)
    end_ids = end_of_text_ids(lm) if stop_at_end else frozenset()

    start = time.perf_counter()
    cache = new_cache(lm)
    # Tick 0, the prefill: in chunks like the clock's, so a long prompt needs bounded memory.
    token = int(read_tokens(lm, ids, cache, attentions=False).logits.argmax())
    result = SpeculativeResult(new_ids=[token], steps=[VerifyStep(0, len(ids), (), 0, token)])
    while True:
        context = ids + result.new_ids
        if token in end_ids:
            result.stop_reason = "end of text"
            break
        if len(result.new_ids) >= max_new_tokens:
            break
        if len(context) >= lm.context_length:
            result.stop_reason = "context full"
            break
        # Room for drafts: the pass also yields one token of its own beyond the accepted ones.
        room = min(draft_len, max_new_tokens - len(result.new_ids) - 1,
                   lm.context_length - len(context) - 1)
        drafted = _check_drafts(lm, draft(context, room))[:room] if room > 0 else []
        # The cache holds every context token but the newest: feed it and the drafts at once.
        fed = [context[-1]] + drafted
        with torch.inference_mode():
            choices = _choices(lm, fed, cache, keep=len(fed))
        accepted = 0
        while accepted < len(drafted) and drafted[accepted] == choices[accepted]:
            accepted += 1
        token = choices[accepted]
        cache.crop(accepted - len(drafted))   # drop the rejected drafts' keys/values (0: nothing)
        step = VerifyStep(len(result.steps), len(fed), tuple(drafted), accepted, token)
        result.steps.append(step)
        for t in step.new_ids:   # stop right after an end-of-text token, as plain greedy would
            result.new_ids.append(t)
            if t in end_ids:
                token = t
                break
    result.seconds = time.perf_counter() - start
    return result
