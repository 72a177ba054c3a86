"""The clock: a language model generating text one tick at a time.

A tick is one forward pass plus one chosen token, like one CPU clock cycle:

    fetch       read the context; once the KV cache holds the past, only the newest token
    decode      token ids -> embedding vectors (+ positions)
    execute     the stack of transformer blocks
    write-back  final norm -> logits -> probabilities -> sampler picks a token -> append it,
                and the keys/values of the token just read are stored in the KV cache

Tick 0 is the *prefill*: the whole prompt in one pass. Every later tick is a *decode* step
that feeds the single token chosen at the previous tick. Each tick leaves a compact
`TickRecord` (chosen token, top candidates, the newest position's attention, timings) so a
widget can scrub through the past; `rewind` crops the KV cache and restores the random
generator, so replaying gives the same tokens.

    clock = Clock(load_model(), "The capital of France is", SamplingConfig(temperature=0.7), seed=0)
    clock.run(10)
    print(clock.text)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Sequence

import torch
from transformers import DynamicCache

from .models import LoadedModel
from .sampling import Candidate, SamplingConfig, draw, entropy_bits, filtered_probs, top_candidates

__all__ = ["Clock", "ClockError", "ClockStopped", "TickRecord", "end_of_text_ids", "next_token_logits"]

TOP_K_RECORDED = 10


class ClockError(ValueError):
    """Bad input to the clock; the message names the fix and the clock's state is unchanged."""


class ClockStopped(ClockError):
    """The clock cannot tick: generation ended (end of text, or the context is full)."""


@dataclass(frozen=True)
class TickRecord:
    """What one tick did, kept small enough to store hundreds of them."""

    index: int                  # 0 = prefill of the whole prompt, then 1, 2, ... decode ticks
    phase: str                  # "prefill" | "decode"
    token_id: int               # the token chosen at this tick (the output of this tick)
    token_text: str
    prob: float                 # chosen token's probability in the filtered (sampled-from) distribution
    raw_prob: float             # its probability in the raw softmax(logits)
    surprisal_bits: float       # -log2(raw_prob)
    entropy_bits: float         # entropy of the raw distribution
    forced: bool                # chosen by force(), not by the sampler
    top_raw: tuple[Candidate, ...]        # top 10 of the raw distribution
    top_filtered: tuple[Candidate, ...]   # top 10 after the sampling settings (tokens with p > 0)
    attention: torch.Tensor     # float16 [n_layers, n_heads, context_len]: attention of the newest input position
    context_len: int            # number of positions attended (= tokens in context at this tick)
    kv_cache_len: int           # cached positions after the tick
    kv_cache_bytes: int
    forward_ms: float
    sampling_ms: float
    config: SamplingConfig      # settings used at this tick
    stop_reason: str | None     # "end of text" | "context full" | None: set when this tick ended generation


def end_of_text_ids(lm: LoadedModel) -> frozenset[int]:
    """Token ids that end generation: the generation config's and tokenizer's end-of-sequence
    ids (SmolLM2-Instruct: <|im_end|> = 2), plus <|endoftext|> when the vocabulary has it."""
    ids: set[int] = set()
    for source in (getattr(lm.model, "generation_config", None), lm.model.config, lm.tokenizer):
        eos = getattr(source, "eos_token_id", None)
        if eos is not None:
            ids.update([eos] if isinstance(eos, int) else list(eos))
    endoftext = lm.tokenizer.convert_tokens_to_ids("<|endoftext|>")
    # An unknown token maps to the unk id, so check that the id really is <|endoftext|>.
    if isinstance(endoftext, int) and lm.tokenizer.convert_ids_to_tokens(endoftext) == "<|endoftext|>":
        ids.add(endoftext)
    return frozenset(i for i in ids if 0 <= i < lm.vocab_size)


def next_token_logits(lm: LoadedModel, ids: Sequence[int]) -> torch.Tensor:
    """Raw logits [vocab] for the token after `ids`: one forward pass over the whole context,
    without a KV cache (what every tick would cost if nothing were remembered)."""
    ids = list(ids)
    if not ids:
        raise ClockError("There are no tokens to read: give some text, e.g. 'Once upon a time'.")
    if len(ids) > lm.context_length:
        raise ClockError(f"{len(ids)} tokens, but {lm.name} reads at most {lm.context_length}: use a shorter text.")
    with torch.inference_mode():
        out = lm.model(input_ids=torch.tensor([ids], device=lm.device), use_cache=False, logits_to_keep=1)
    return out.logits[0, -1].float().cpu()


def _cache_bytes(cache: DynamicCache | None) -> int:
    if cache is None:
        return 0
    return sum(t.numel() * t.element_size() for layer in cache.layers
               for t in (layer.keys, layer.values) if t is not None)


class Clock:
    """Tick-by-tick generation with a KV cache, a seeded sampler and a rewindable history.

    `end_ids` holds the token ids that end generation (see `end_of_text_ids`); set it to
    `frozenset()` to keep ticking through them, e.g. to time a long run.
    """

    def __init__(self, lm: LoadedModel, prompt: str, config: SamplingConfig | None = None, seed: int = 0,
                 chat: bool = False):
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ClockError(f"seed must be a whole number >= 0, got {seed!r}.")
        self.lm = lm
        self.seed = seed
        self.chat = bool(chat)
        self.config = SamplingConfig() if config is None else config
        self.end_ids = end_of_text_ids(lm)
        self._start(prompt)

    # ----- state -------------------------------------------------------------------------

    @property
    def config(self) -> SamplingConfig:
        return self._config

    @config.setter
    def config(self, value: SamplingConfig) -> None:
        # Takes effect at the next tick; past records keep the settings they used.
        if not isinstance(value, SamplingConfig):
            raise ClockError(f"config must be a SamplingConfig, e.g. SamplingConfig(temperature=0.7), got {type(value).__name__}.")
        self._config = value

    def _encode_prompt(self, prompt: str) -> tuple[str, list[int]]:
        if not isinstance(prompt, str):
            raise ClockError(f"The prompt must be text (a str), got {type(prompt).__name__}.")
        if prompt == "":
            raise ClockError("The prompt is empty: give the model some text to continue, e.g. 'Once upon a time'.")
        text = prompt
        if self.chat:
            if not getattr(self.lm.tokenizer, "chat_template", None):
                raise ClockError(f"{self.lm.name} has no chat template: use chat=False and write the prompt as plain text.")
            text = self.lm.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False)
        ids = self.lm.encode(text)
        limit = self.lm.context_length
        if len(ids) >= limit:
            raise ClockError(
                f"The prompt is {len(ids)} tokens, but {self.lm.name} reads at most {limit} tokens and needs room "
                f"for at least one new one: shorten the prompt to under {limit} tokens.")
        return text, ids

    def _start(self, prompt: str) -> None:
        text, ids = self._encode_prompt(prompt)  # validate before touching any state
        self.prompt = prompt
        self.prompt_text = text
        self.prompt_ids: list[int] = ids
        self.generated_ids: list[int] = []
        self.tokens: list[str] = self.lm.tokenizer.batch_decode([[i] for i in ids])
        self.history: list[TickRecord] = []
        self.stop_reason: str | None = None
        self.next_forced: int | None = None
        self._cache: DynamicCache | None = None
        self._generator = torch.Generator(device="cpu").manual_seed(self.seed)
        self._rng_states: list[torch.Tensor] = []  # generator state before each tick, for rewind

    @property
    def ids(self) -> list[int]:
        return self.prompt_ids + self.generated_ids

    @property
    def generated_text(self) -> str:
        return self.lm.decode(self.generated_ids)

    @property
    def text(self) -> str:
        return self.prompt_text + self.generated_text

    @property
    def done(self) -> bool:
        return self.stop_reason is not None

    @property
    def kv_cache(self) -> DynamicCache | None:
        """The KV cache itself (None before the prefill): per layer, keys and values of shape
        [1, kv_heads, cached positions, head_dim]. Look, do not modify."""
        return self._cache

    @property
    def kv_cache_len(self) -> int:
        return self._cache.get_seq_length() if self._cache is not None else 0

    def __repr__(self) -> str:
        state = f"stopped: {self.stop_reason}" if self.done else f"next tick {len(self.history)}"
        return (f"Clock({self.lm.name}, {len(self.prompt_ids)} prompt + {len(self.generated_ids)} generated tokens, "
                f"{state}, {self.config}, seed={self.seed})")

    # ----- the tick ----------------------------------------------------------------------

    def tick(self) -> TickRecord:
        """One forward pass and one chosen token."""
        if self.done:
            raise ClockStopped(f"The clock has stopped ({self.stop_reason}). Rewind with rewind(), or start again with reset().")
        index = len(self.history)
        prefill = index == 0
        # Fetch: the whole prompt at the prefill; afterwards only the newest token, because the
        # keys/values of everything before it are already in the cache.
        fed = self.prompt_ids if prefill else [self.ids[-1]]
        cache = DynamicCache(config=self.lm.model.config) if prefill else self._cache
        cached_before = 0 if prefill else cache.get_seq_length()
        rng_state = self._generator.get_state()

        start = time.perf_counter()
        try:
            with torch.inference_mode():
                out = self.lm.model(
                    input_ids=torch.tensor([fed], device=self.lm.device), cache=cache, use_cache=True,
                    output_attentions=True, logits_to_keep=1)  # logits of the last position only
        except Exception:
            if not prefill:  # leave the cache as it was
                cache.crop(cached_before - cache.get_seq_length())
            raise
        logits = out.logits[0, -1].float().cpu()  # the sampler and its generator live on the CPU
        # Keep only the newest position's attention row per layer and head: a compact copy,
        # so the full attention matrices are freed right away.
        attention = torch.stack([a[0, :, -1, :] for a in out.attentions]).to("cpu", torch.float16)
        del out
        forward_ms = (time.perf_counter() - start) * 1000

        start = time.perf_counter()
        config = self.config
        context = self.ids
        raw = logits.softmax(dim=-1)
        probs = filtered_probs(logits, config, context)
        # When sampling, a draw is made even for a forced tick, so that every tick uses the
        # same random numbers whether or not an earlier one was forced.
        chosen = int(probs.argmax()) if config.is_greedy else draw(probs, self._generator)
        forced = self.next_forced is not None
        if forced:
            chosen = self.next_forced
        raw_prob = float(raw[chosen])
        top_raw = tuple(top_candidates(raw, self.lm.tokenizer, TOP_K_RECORDED))
        top_filtered = tuple(top_candidates(probs, self.lm.tokenizer, TOP_K_RECORDED))
        known = {c.token_id: c.text for c in top_raw}
        token_text = known[chosen] if chosen in known else self.lm.decode([chosen])
        record_entropy = entropy_bits(raw)
        sampling_ms = (time.perf_counter() - start) * 1000

        # Write-back: append the token; the cache already holds the keys/values of `fed`.
        stop_reason = None
        if chosen in self.end_ids:
            stop_reason = "end of text"
        elif len(context) + 1 >= self.lm.context_length:
            stop_reason = "context full"
        record = TickRecord(
            index=index, phase="prefill" if prefill else "decode", token_id=chosen, token_text=token_text,
            prob=float(probs[chosen]), raw_prob=raw_prob,
            surprisal_bits=-math.log2(raw_prob) if raw_prob > 0 else math.inf,
            entropy_bits=record_entropy, forced=forced, top_raw=top_raw, top_filtered=top_filtered,
            attention=attention, context_len=len(context), kv_cache_len=cache.get_seq_length(),
            kv_cache_bytes=_cache_bytes(cache), forward_ms=forward_ms, sampling_ms=sampling_ms,
            config=config, stop_reason=stop_reason)
        self._cache = cache
        self.generated_ids.append(chosen)
        self.tokens.append(token_text)
        self.history.append(record)
        self._rng_states.append(rng_state)
        self.stop_reason = stop_reason
        self.next_forced = None
        return record

    def run(self, n: int, on_tick: Callable[[TickRecord], bool | None] | None = None) -> list[TickRecord]:
        """Up to n ticks; stops early at the end of text or a full context, or when `on_tick`
        returns False (a Pause button)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ClockError(f"run(n) needs a whole number of ticks >= 0, got {n!r}.")
        if self.done and n > 0:
            raise ClockStopped(f"The clock has stopped ({self.stop_reason}). Rewind with rewind(), or start again with reset().")
        records = []
        for _ in range(n):
            record = self.tick()
            records.append(record)
            if self.done or (on_tick is not None and on_tick(record) is False):
                break
        return records

    # ----- time travel -------------------------------------------------------------------

    def rewind(self, n: int = 1) -> None:
        """Undo the last n ticks: drop their tokens and records, crop the KV cache and restore
        the random generator, so ticking again replays the same tokens (same settings)."""
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ClockError(f"rewind(n) needs a whole number of ticks >= 0, got {n!r}.")
        if n > len(self.history):
            raise ClockError(f"Cannot rewind {n} ticks: only {len(self.history)} so far. "
                             f"rewind({len(self.history)}) goes back to the prompt; reset() starts over.")
        if n == 0:
            return
        keep = len(self.history) - n
        if keep == 0:
            self._cache = None  # back to before the prefill
        else:
            # After tick t the cache holds the prompt and the first t-1 generated tokens.
            self._cache.crop(len(self.prompt_ids) + keep - 1 - self._cache.get_seq_length())
        self._generator.set_state(self._rng_states[keep])
        del self.history[keep:], self.generated_ids[keep:], self._rng_states[keep:]
        del self.tokens[len(self.prompt_ids) + keep:]
        self.stop_reason = None
        self.next_forced = None  # a pending force was meant for a tick that no longer comes next

    def token_id_of(self, token: str | int) -> int:
        """The id of one token given as an id or as its text; ClockError says why not."""
        vocab = self.lm.vocab_size
        if isinstance(token, bool) or not isinstance(token, (int, str)):
            raise ClockError(f"A token is given as its text (str) or its id (int), got {type(token).__name__}.")
        if isinstance(token, int):
            if not 0 <= token < vocab:
                raise ClockError(f"Token id {token} is out of range: ids go from 0 to {vocab - 1}.")
            return token
        if token == "":
            raise ClockError("The empty text is not a token: type the token, e.g. ' Paris' (mind the leading space).")
        ids = self.lm.encode(token)
        if len(ids) != 1:
            pieces = self.lm.tokenizer.batch_decode([[i] for i in ids])
            raise ClockError(f"{token!r} is {len(ids)} tokens {pieces}, not one: force one token at a time, "
                             f"e.g. {pieces[0]!r} first.")
        if not 0 <= ids[0] < vocab:
            raise ClockError(f"{token!r} has id {ids[0]}, which the model cannot output (vocabulary {vocab}).")
        return ids[0]

    def force(self, token: str | int) -> None:
        """The next tick takes this token instead of the sampler's choice."""
        token_id = self.token_id_of(token)
        if self.done:
            raise ClockStopped(f"The clock has stopped ({self.stop_reason}): rewind() first, then force a token.")
        self.next_forced = token_id

    def reset(self, prompt: str | None = None) -> None:
        """Start again from `prompt` (default: the same prompt), with the generator re-seeded."""
        self._start(self.prompt if prompt is None else prompt)
