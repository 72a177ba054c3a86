"""The clock: a language model generating text one tick at a time.

A tick is one forward pass plus one chosen token, like one CPU instruction cycle
(fetch, decode, execute, write-back):

    fetch       read the context; once the KV cache holds the past, only the newest token
    decode      token ids -> embedding vectors (GPT-2 also adds learned position vectors)
    execute     the stack of transformer blocks. Inside every attention layer the queries and
                keys are rotated by their position (RoPE: Llama, Gemma 3), and every layer
                appends the keys/values of the token(s) it was fed to its part of the KV cache
    write-back  final norm -> logits -> probabilities -> sampler picks a token -> append it
                to the context (its keys/values are written at the *next* tick's execute)

Tick 0 is the *prefill*: the whole prompt. Every later tick is a *decode* step that feeds the
single token chosen at the previous tick. So after n ticks (ticks 0 .. n - 1) the cache holds
the prompt and the first n - 1 generated tokens: the token chosen last has not been read yet.

Tick 0 is one forward pass over the whole prompt when the prompt fits in `PREFILL_CHUNK`
(256) tokens. A longer prompt is read in chunks of PREFILL_CHUNK tokens, one pass each
(`TickRecord.passes` says how many), so that one layer's attention weights never exceed
[heads, chunk, context]. Every pass computes attention weights (eager attention), but the
record keeps only the newest position's row: a hook on each attention layer copies that row
as the layer finishes and lets the full [heads, chunk, context] weights go, whereas every
layer's full T x T weights at once would need 30 layers x 9 heads x 8000 x 8000 float32
numbers = 64 GiB for SmolLM2 at 8000 tokens.

A tick is a transaction: if anything interrupts it (an error, Kernel > Interrupt) the clock is
exactly as before the tick (each cache layer cut back to its own earlier length, generator
state restored), so the next tick gives what it would have given.

Each tick leaves a compact `TickRecord` (chosen token, top candidates, the newest position's
attention, timings) so a widget can scrub through the past; `rewind` crops the KV cache and
restores the random generator, so replaying gives the same tokens.

The history's memory is bounded. A record's attention row grows with the context
(n_layers x n_heads float16 numbers per position: 540 bytes for SmolLM2), so the rows of a
long run would grow with the square of its length (17 GiB from a short prompt to 8192 tokens).
The history keeps the rows of its newest ticks only, `attention_budget` bytes in all
(HISTORY_ATTENTION_BYTES = 256 MiB by default; the newest tick's row is always kept); an older
record keeps everything else and an empty attention (`record.has_attention` is False), and the
widget and the recorded clock say so for such a tick. `history_note(n)` says before a run of n
ticks whether it will drop rows, and `run` warns (HistoryBoundWarning). Everything else a
record holds is a few KiB, and the generator state kept per tick for rewind 5 KiB.

One clock may be used from several threads (the widget's tick worker and a notebook cell):
tick, rewind, reset and force take the clock's lock, so they run one at a time, each whole.

Text that looks like a special token ("<|im_end|>") in a raw prompt *becomes* that special
token: the raw clock shows what the tokenizer really does. The chat path (`chat=True`,
`helpers.chat.encode_chat`) encodes the user's content as plain text, so typed text cannot open
or close a chat turn.

    clock = Clock(load_model(), "The capital of France is", SamplingConfig(temperature=0.7), seed=0)
    clock.run(10)
    print(clock.text)
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
import warnings
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence

import torch
from transformers import DynamicCache

from .anatomy import capture, new_cache
from .chat import encode_chat
from .models import LoadedModel
from .sampling import Candidate, SamplingConfig, draw, entropy_bits, filtered_probs, top_candidates
from .tick_view import byte_size
from .validate import check_text, check_token_id, check_whole, token_ids_of

__all__ = ["Clock", "ClockError", "ClockStopped", "TickRecord", "Reading", "HistoryBoundWarning",
           "HISTORY_ATTENTION_BYTES", "end_of_text_ids", "next_token_logits", "read_tokens",
           "prefill_passes"]

TOP_K_RECORDED = 10
# Tokens per forward pass when reading a long prompt. The eager attention of one layer holds
# [heads, chunk, context] weights, so memory grows with chunk x context, not context squared.
PREFILL_CHUNK = 256
MAX_SEED = 2**64 - 1  # torch.Generator.manual_seed takes 64-bit seeds
# The attention rows the history keeps, in bytes (see the module docstring).
HISTORY_ATTENTION_BYTES = 256 * 2**20


class ClockError(ValueError):
    """Bad input to the clock; the message names the fix and the clock's state is unchanged."""


class ClockStopped(ClockError):
    """The clock cannot tick: generation ended (end of text, or the context is full)."""


class HistoryBoundWarning(UserWarning):
    """A run will drop the attention rows of the history's oldest ticks (its memory bound)."""


@dataclass(frozen=True)
class TickRecord:
    """What one tick did, kept small enough to store hundreds of them."""

    index: int                  # 0 = prefill of the whole prompt, then 1, 2, ... decode ticks
    phase: str                  # "prefill" | "decode"
    token_id: int               # the token chosen at this tick (the output of this tick)
    token_text: str
    prob: float                 # chosen token's probability in the filtered (sampled) distribution
    raw_prob: float             # its probability in the raw softmax(logits)
    surprisal_bits: float       # -log2(raw_prob)
    entropy_bits: float         # entropy of the raw distribution
    forced: bool                # chosen by force(), not by the sampler
    top_raw: tuple[Candidate, ...]        # top 10 of the raw distribution
    top_filtered: tuple[Candidate, ...]   # top 10 after the sampling settings (tokens with p > 0)
    attention: torch.Tensor     # float16 [n_layers, n_heads, context_len]: attention weights
                                # of the newest input position
    context_len: int            # number of positions attended (= tokens in context at this tick)
    kv_cache_len: int           # cached positions after the tick (= context_len: the token
                                # chosen here is written to the cache when the next tick reads it)
    kv_cache_bytes: int
    forward_ms: float
    sampling_ms: float
    config: SamplingConfig      # settings used at this tick
    stop_reason: str | None     # "end of text" | "context full" | None: set when this tick
                                # ended generation
    passes: int = 1             # forward passes of this tick: 1, except a prefill of a prompt
                                # longer than PREFILL_CHUNK tokens (one pass per chunk)

    @property
    def has_attention(self) -> bool:
        """False when the history dropped this tick's attention row to bound its memory."""
        return self.attention.shape[-1] == self.context_len and self.context_len > 0


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
    if isinstance(endoftext, int) and (
            lm.tokenizer.convert_ids_to_tokens(endoftext) == "<|endoftext|>"):
        ids.add(endoftext)
    return frozenset(i for i in ids if 0 <= i < lm.vocab_size)


class Reading(NamedTuple):
    """What `read_tokens` returns: the model's output for the last token it read."""

    logits: torch.Tensor               # [vocab] float32 on the CPU: raw logits of the next token
    attention: torch.Tensor | None     # [n_layers, n_heads, context] float32 on the CPU: the last
                                       # position's attention weights (None when not asked for)
    passes: int                        # forward passes it took


def prefill_passes(n_tokens: int) -> int:
    """Forward passes to read `n_tokens` tokens: 1 up to PREFILL_CHUNK, then one per chunk."""
    return max(1, math.ceil(n_tokens / PREFILL_CHUNK))


def read_tokens(lm: LoadedModel, ids: Sequence[int], cache: DynamicCache,
                attentions: bool = True) -> Reading:
    """Feed `ids` through the model after what `cache` holds (extending it) and return the
    logits of the last position, and its attention weights when asked.

    Up to PREFILL_CHUNK tokens are ONE forward pass. More are read in chunks of PREFILL_CHUNK
    tokens, one pass each; only the last pass's attention weights are kept, and of those only
    the last position's row per layer and head. The result equals one pass over all of `ids`
    (up to float rounding), and memory never holds more than one layer's
    [heads, chunk, context] attention weights.
    """
    ids = list(ids)
    chunks = [ids[start:start + PREFILL_CHUNK] for start in range(0, len(ids), PREFILL_CHUNK)]
    n_layers = lm.n_layers if attentions else 0
    rows: dict[int, torch.Tensor] = {}

    def keep_last_row(layer: int):
        def keep(weights: torch.Tensor) -> torch.Tensor:   # [batch, heads, queries, keys]
            # A compact copy of the last query's row [heads, context]; the layer's full
            # [heads, chunk, context] weights are freed as soon as the layer is done.
            rows[layer] = weights[0, :, -1, :].float().cpu().clone()
            return weights
        return keep

    # the last pass only, and only in this thread (helpers.anatomy.capture)
    last_rows = {("pattern", layer): keep_last_row(layer) for layer in range(n_layers)}
    with torch.inference_mode():
        for chunk in chunks[:-1]:
            lm.model(input_ids=torch.tensor([chunk], device=lm.device), cache=cache,
                     use_cache=True, logits_to_keep=1)
        with capture(lm, edits=last_rows):
            out = lm.model(input_ids=torch.tensor([chunks[-1]], device=lm.device), cache=cache,
                           use_cache=True, logits_to_keep=1)
    logits = out.logits[0, -1].float().cpu()  # the sampler and its generator live on the CPU
    attention = None
    if attentions:
        if len(rows) != n_layers:
            raise RuntimeError(f"Only {len(rows)} of {n_layers} attention layers returned "
                               f"weights: load the model with load_model(), which uses eager "
                               f"attention (the only kernel that returns them).")
        attention = torch.stack([rows[layer] for layer in range(n_layers)])
    return Reading(logits, attention, len(chunks))


def next_token_logits(lm: LoadedModel, ids: Sequence[int]) -> torch.Tensor:
    """Raw logits [vocab] for the token after `ids`, recomputing the whole context from
    scratch (what every tick would cost if nothing were remembered between ticks)."""
    ids = token_ids_of(lm, ids, "context", error=ClockError)
    if len(ids) <= PREFILL_CHUNK:
        with torch.inference_mode():
            out = lm.model(input_ids=torch.tensor([ids], device=lm.device), use_cache=False,
                           logits_to_keep=1)
        return out.logits[0, -1].float().cpu()
    # a long context in chunks through a throw-away cache: bounded memory, same logits
    return read_tokens(lm, ids, new_cache(lm), attentions=False).logits


def _stopped_message(reason: str | None) -> str:
    return f"The clock has stopped ({reason}). Rewind with rewind(), or start again with reset()."


def _layer_lengths(cache: DynamicCache) -> list[int]:
    return [layer.get_seq_length() for layer in cache.layers]


def _cut_back(cache: DynamicCache, lengths: list[int]) -> None:
    """Cut every layer back to its own recorded length. Per layer, because an interrupted
    forward pass has appended to the layers it reached and not to the others."""
    for layer, length in zip(cache.layers, lengths):
        extra = layer.get_seq_length() - length
        if extra > 0:
            layer.crop(-extra)  # transformers' crop takes the number of positions to remove


def _nbytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


def _cache_bytes(cache: DynamicCache | None) -> int:
    if cache is None:
        return 0
    return sum(t.numel() * t.element_size() for layer in cache.layers
               for t in (layer.keys, layer.values) if t is not None)


class Clock:
    """Tick-by-tick generation with a KV cache, a seeded sampler and a rewindable history.

    `end_ids` holds the token ids that end generation (see `end_of_text_ids`); set it to
    `frozenset()` to keep ticking through them, e.g. to time a long run.

    `attention_budget`: bytes of attention rows the history keeps (HISTORY_ATTENTION_BYTES);
    older ticks' rows are dropped beyond it (see the module docstring).

    chat=True wraps the prompt as a user turn in the model's chat template (with
    `system_prompt` as the system turn; None = whatever the template does by default) and
    encodes the user's text as plain text: "<|im_end|>" typed by a user stays characters.
    chat=False reads the prompt raw, where such text *is* the special token (a teaching point).
    The seed takes effect at the next reset() (or rewind to the prompt).
    """

    def __init__(self, lm: LoadedModel, prompt: str, config: SamplingConfig | None = None,
                 seed: int = 0, chat: bool = False, system_prompt: str | None = None):
        self._lock = threading.RLock()  # one tick, rewind, reset or force at a time
        self.attention_budget = HISTORY_ATTENTION_BYTES
        self.seed = seed
        if system_prompt is not None:
            check_text(system_prompt, "system_prompt (text, or None for the template's default)",
                       ClockError)
        self.lm = lm
        self.chat = bool(chat)
        self.system_prompt = system_prompt
        self.config = SamplingConfig() if config is None else config
        self.end_ids = end_of_text_ids(lm)
        self._start(prompt)

    # ----- state -------------------------------------------------------------------------

    @property
    def seed(self) -> int:
        return self._seed

    @seed.setter
    def seed(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEED:
            raise ClockError(f"seed must be a whole number from 0 to 2**64 - 1, got {value!r}.")
        self._seed = int(value)

    @property
    def attention_budget(self) -> int:
        return self._attention_budget

    @attention_budget.setter
    def attention_budget(self, value: int) -> None:
        self._attention_budget = check_whole(  # applies from the next tick
            value, "attention_budget", 0, hint=" (bytes, e.g. 256 * 2**20)", error=ClockError)

    @property
    def config(self) -> SamplingConfig:
        return self._config

    @config.setter
    def config(self, value: SamplingConfig) -> None:
        # Takes effect at the next tick; past records keep the settings they used.
        if not isinstance(value, SamplingConfig):
            raise ClockError(f"config must be a SamplingConfig, "
                             f"e.g. SamplingConfig(temperature=0.7), "
                             f"got {type(value).__name__}.")
        self._config = value

    def _encode_prompt(self, prompt: str) -> tuple[str, list[int]]:
        check_text(prompt, "prompt", ClockError)
        if prompt == "":
            raise ClockError("The prompt is empty: give the model some text to continue, "
                             "e.g. 'Once upon a time'.")
        if self.chat:
            text, ids = encode_chat(self.lm.tokenizer, prompt, self.system_prompt,
                                    error=ClockError)
        else:
            text, ids = prompt, self.lm.encode_prompt(prompt)  # with <bos> for Gemma
        limit = self.lm.context_length
        if len(ids) >= limit:
            raise ClockError(
                f"The prompt is {len(ids)} tokens, but {self.lm.name} reads at most {limit} tokens "
                f"and needs room "
                f"for at least one new one: shorten the prompt to under {limit} tokens.")
        return text, ids

    def _start(self, prompt: str) -> None:
        with self._lock:
            self._start_locked(prompt)

    def _start_locked(self, prompt: str) -> None:
        text, ids = self._encode_prompt(prompt)  # validate before touching any state
        tokens = self.lm.tokenizer.batch_decode([[i] for i in ids])
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        self.prompt = prompt
        self.prompt_text = text
        self.prompt_ids: list[int] = ids
        self.generated_ids: list[int] = []
        self.tokens: list[str] = tokens
        self.history: list[TickRecord] = []
        self.stop_reason: str | None = None
        self.next_forced: int | None = None
        self._cache: DynamicCache | None = None
        self._generator = generator
        self._rng_states: list[torch.Tensor] = []  # generator state before each tick, for rewind
        self._attention_bytes = 0     # attention rows held by the history
        self._oldest_with_attention = 0   # records before this index have dropped theirs

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
        return (f"Clock({self.lm.name}, {len(self.prompt_ids)} prompt + "
                f"{len(self.generated_ids)} generated tokens, "
                f"{state}, {self.config}, seed={self.seed})")

    # ----- the tick ----------------------------------------------------------------------

    def tick(self) -> TickRecord:
        """One forward pass and one chosen token. All or nothing: if anything interrupts the
        tick (an error, KeyboardInterrupt), the clock is left exactly as it was before it.
        A tick from another thread waits until this one is complete."""
        with self._lock:
            return self._tick_locked()

    def _tick_locked(self) -> TickRecord:
        if self.done:
            raise ClockStopped(_stopped_message(self.stop_reason))
        prefill = not self.history
        # Fetch: the whole prompt at the prefill; afterwards only the newest token, because the
        # keys/values of everything before it are already in the cache.
        fed = self.prompt_ids if prefill else [self.ids[-1]]
        cache = new_cache(self.lm) if prefill else self._cache
        lengths_before = [] if prefill else _layer_lengths(cache)
        rng_state = self._generator.get_state()
        try:
            record = self._tick(fed, cache, prefill)
        except BaseException:
            # Nothing of this tick may remain. A new prefill cache is simply dropped; a decode
            # step may have appended to some layers (those the forward pass reached).
            if not prefill:
                _cut_back(cache, lengths_before)
            self._generator.set_state(rng_state)
            raise
        # Commit: plain assignments and appends only, after everything that can fail.
        self._cache = cache
        self.generated_ids.append(record.token_id)
        self.tokens.append(record.token_text)
        self.history.append(record)
        self._rng_states.append(rng_state)
        self.stop_reason = record.stop_reason
        self.next_forced = None
        self._attention_bytes += _nbytes(record.attention)
        self._bound_history()
        return record

    def _bound_history(self) -> None:
        """Drop the oldest records' attention rows while the history holds more than
        attention_budget bytes of them (the newest record always keeps its row)."""
        while (self._attention_bytes > self.attention_budget
               and self._oldest_with_attention < len(self.history) - 1):
            i = self._oldest_with_attention
            old = self.history[i]
            empty = torch.empty(old.attention.shape[:-1] + (0,), dtype=old.attention.dtype)
            self.history[i] = dataclasses.replace(old, attention=empty)
            self._attention_bytes -= _nbytes(old.attention)
            self._oldest_with_attention = i + 1

    def attention_note(self, record: TickRecord) -> str | None:
        """None, or a sentence saying that this record's attention row was dropped."""
        if record.has_attention:
            return None
        return (f"The attention of tick {record.index} was not kept: the history keeps the "
                f"attention of its newest ticks only ({byte_size(self.attention_budget)} in all), "
                f"so that a long run's memory stays bounded. Rewind to this tick and step to see "
                f"it again.")

    def history_note(self, n: int) -> str | None:
        """None, or a sentence saying that n more ticks would drop the attention rows of the
        oldest ticks (the history's memory bound), and how many ticks would keep theirs."""
        n = check_whole(n, "history_note(n)", 0, hint=" (ticks)", error=ClockError)
        per_position = self.lm.n_layers * self.lm.n_heads * 2  # float16
        first = len(self.ids)  # positions read by the next tick
        n = min(n, max(0, self.lm.context_length - first))  # a full context stops the run
        sizes = [per_position * (first + k) for k in range(n)]
        if self._attention_bytes + sum(sizes) <= self.attention_budget:
            return None
        kept, total = 0, 0
        kept_rows = [_nbytes(r.attention) for r in reversed(self.history) if r.has_attention]
        for size in list(reversed(sizes)) + kept_rows:
            if kept and total + size > self.attention_budget:
                break
            total += size
            kept += 1
        return (f"{n} more ticks need {byte_size(self._attention_bytes + sum(sizes))} of attention "
                f"rows, but the history keeps at most {byte_size(self.attention_budget)} "
                f"(Clock.attention_budget): only the newest {kept} ticks will keep their "
                f"attention; older ticks keep their tokens, candidates and timings.")

    def _tick(self, fed: list[int], cache: DynamicCache, prefill: bool) -> TickRecord:
        """The work of a tick, touching nothing of the clock but the cache and the generator."""
        start = time.perf_counter()
        # Execute: every layer appends the fed tokens' K/V. One pass, unless the prompt is longer
        # than PREFILL_CHUNK tokens. Only the newest position's attention row per layer and head
        # is kept, as a compact copy.
        reading = read_tokens(self.lm, fed, cache)
        logits, attention = reading.logits, reading.attention.to(torch.float16)
        if not bool(torch.isfinite(logits).all()):
            raise ClockError(f"The model computed a logit that is not a number (NaN or infinite):"
                             f" the weights of {self.lm.name} are damaged. "
                             f"{self.lm.repair_hint()}.")
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

        # Write-back: the chosen token joins the context (its K/V are written next tick).
        stop_reason = None
        if chosen in self.end_ids:
            stop_reason = "end of text"
        elif len(context) + 1 >= self.lm.context_length:
            stop_reason = "context full"
        return TickRecord(
            index=len(self.history), phase="prefill" if prefill else "decode", token_id=chosen,
            token_text=token_text, prob=float(probs[chosen]), raw_prob=raw_prob,
            surprisal_bits=-math.log2(raw_prob) if raw_prob > 0 else math.inf,
            entropy_bits=record_entropy, forced=forced, top_raw=top_raw, top_filtered=top_filtered,
            attention=attention, context_len=len(context), kv_cache_len=cache.get_seq_length(),
            kv_cache_bytes=_cache_bytes(cache), forward_ms=forward_ms, sampling_ms=sampling_ms,
            config=config, stop_reason=stop_reason, passes=reading.passes)

    def run(self, n: int,
            on_tick: Callable[[TickRecord], bool | None] | None = None) -> list[TickRecord]:
        """Up to n ticks; stops early at the end of text or a full context, or when `on_tick`
        returns False (a Pause button)."""
        n = check_whole(n, "run(n)", 0, hint=" (ticks)", error=ClockError)
        if self.done and n > 0:
            raise ClockStopped(_stopped_message(self.stop_reason))
        note = self.history_note(n)
        if note:
            warnings.warn(note, HistoryBoundWarning, stacklevel=2)
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
        the random generator, so ticking again replays the same tokens (same settings).
        Attention rows the history already dropped stay dropped; replayed ticks have theirs."""
        with self._lock:
            self._rewind_locked(n)

    def _rewind_locked(self, n: int) -> None:
        n = check_whole(n, "rewind(n)", 0, hint=" (ticks)", error=ClockError)
        if n > len(self.history):
            raise ClockError(f"Cannot rewind {n} ticks: only {len(self.history)} so far. "
                             f"rewind({len(self.history)}) goes back to the prompt; "
                             f"reset() starts over.")
        if n == 0:
            return
        keep = len(self.history) - n
        if keep == 0:
            self._cache = None  # back to before the prefill
        else:
            # After `keep` ticks the cache holds the prompt and the first keep - 1 generated
            # tokens (the latest chosen token is read by the next tick).
            target_len = len(self.prompt_ids) + keep - 1
            _cut_back(self._cache, [target_len] * len(self._cache.layers))
        self._generator.set_state(self._rng_states[keep])
        self._attention_bytes -= sum(_nbytes(r.attention) for r in self.history[keep:])
        self._oldest_with_attention = min(self._oldest_with_attention, keep)
        del self.history[keep:], self.generated_ids[keep:], self._rng_states[keep:]
        del self.tokens[len(self.prompt_ids) + keep:]
        self.stop_reason = None
        self.next_forced = None  # a pending force was meant for a tick that no longer comes next

    def token_id_of(self, token: str | int) -> int:
        """The id of one token given as an id or as its text; ClockError says why not."""
        vocab = self.lm.vocab_size
        if isinstance(token, bool) or not isinstance(token, (int, str)):
            raise ClockError(f"A token is given as its text (str) or its id (int), "
                             f"got {type(token).__name__}.")
        if isinstance(token, int):
            return check_token_id(self.lm, token, ClockError)
        check_text(token, "token", ClockError)
        if token == "":
            raise ClockError("The empty text is not a token: type the token, e.g. ' Paris' "
                             "(mind the leading space).")
        ids = self.lm.encode(token)
        if len(ids) != 1:
            pieces = self.lm.tokenizer.batch_decode([[i] for i in ids])
            raise ClockError(f"{token!r} is {len(ids)} tokens {pieces}, not one: "
                             f"force one token at a time, "
                             f"e.g. {pieces[0]!r} first.")
        if not 0 <= ids[0] < vocab:
            raise ClockError(f"{token!r} has id {ids[0]}, which the model cannot output "
                             f"(vocabulary {vocab}).")
        return ids[0]

    def force(self, token: str | int) -> None:
        """The next tick takes this token instead of the sampler's choice."""
        token_id = self.token_id_of(token)
        with self._lock:
            if self.done:
                raise ClockStopped(f"The clock has stopped ({self.stop_reason}): rewind() "
                                   f"first, then force a token.")
            self.next_forced = token_id

    def reset(self, prompt: str | None = None) -> None:
        """Start again from `prompt` (default: the same prompt), with the generator re-seeded."""
        self._start(self.prompt if prompt is None else prompt)
