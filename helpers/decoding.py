"""Decoding strategies beyond one sampled token per tick: beam search and penalties.

    new_ids = beam_search(lm, "The capital of France is", num_beams=3, max_new_tokens=8)
    search = beam_search_steps(lm, "The capital of France is", num_beams=3, max_new_tokens=8)
    search.steps[0].candidates     # every candidate of tick 0: parent beam, token, score, fate
    logits = apply_frequency_penalty(logits, generated_ids, 0.5)

Beam search keeps the `num_beams` best partial texts instead of one. At each tick every kept
beam is extended by every vocabulary token, the score of a continuation being the sum of the
log-probabilities of its tokens, and the best `num_beams` continuations survive. A beam that
picks an end-of-text token (or reaches the length limit) leaves the race and joins the
*finished* list, scored by sum / length ** length_penalty. The rules below are those of
transformers 5.x `generate(num_beams=B, do_sample=False)` (generation/utils.py, `_beam_search`):

- the best 2B candidates are ranked (more when there are several end ids); of them, only the
  top B may finish at this tick, and the best B that did not finish run on;
- `early_stopping=False` (generate's default) stops when the best running beam, scored at its
  current length, can no longer beat the worst of B finished ones; `True` stops as soon as B
  beams have finished; "never" assumes the running beam could still grow to the length limit;
- when nothing finished earlier, every beam finishes at the length limit.

The -1e9 sentinels are those of transformers too (float32 arithmetic included), so that even
ties break the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import torch

from .anatomy import new_cache
from .clock import read_tokens
from .tick_view import byte_size
from .validate import check_number, check_token_ids, check_whole, token_ids_of

__all__ = [
    "BeamCandidate", "BeamStep", "BeamSearch", "beam_search", "beam_search_steps",
    "default_eos_ids", "sequence_logprob", "kv_bytes_per_position", "MAX_BEAMS", "BEAM_CACHE_BYTES",
    "apply_frequency_penalty", "apply_presence_penalty", "greedy_with_penalties",
]

NEG = -1.0e9  # transformers' "impossible" score
# Bounds on memory: every beam carries a whole KV cache (45 KiB per position for SmolLM2).
MAX_BEAMS = 64
BEAM_CACHE_BYTES = 2**30


@dataclass(frozen=True)
class BeamCandidate:
    """One continuation looked at during a beam-search tick (not helpers.sampling.Candidate, a
    token and its probability in one distribution)."""

    parent: int          # which running beam it extends (0..B-1)
    token_id: int
    score: float         # sum of log-probs of the new tokens so far (incl. this one)
    fate: str            # "runs on" | "finished" | "finished, not kept" | "dropped"


@dataclass(frozen=True)
class BeamStep:
    """One tick of beam search: one forward pass over all running beams at once."""

    index: int
    candidates: tuple[BeamCandidate, ...]            # the ranked 2B (or more) best, best first
    running: tuple[tuple[int, ...], ...]          # new tokens of each beam after the tick
    running_scores: tuple[float, ...]
    # (new tokens, normalised score) of the finished beams kept so far, best first
    finished: tuple[tuple[tuple[int, ...], float], ...]


@dataclass(frozen=True)
class BeamSearch:
    prompt_ids: tuple[int, ...]
    steps: tuple[BeamStep, ...]
    best: tuple[int, ...]          # the new tokens of the best finished beam
    best_score: float              # its sum of log-probs / length ** length_penalty


def default_eos_ids(lm) -> list[int]:
    """The end ids `generate` uses: the model's generation config (SmolLM2-Instruct: [2])."""
    eos = getattr(getattr(lm.model, "generation_config", None), "eos_token_id", None)
    if eos is None:
        eos = lm.model.config.eos_token_id
    if eos is None:
        return []
    return [int(eos)] if isinstance(eos, int) else [int(i) for i in eos]


def _prompt_ids(lm, prompt) -> list[int]:
    return token_ids_of(lm, prompt, "prompt")


def kv_bytes_per_position(lm) -> int:
    """Bytes of keys and values one position of one sequence holds in the KV cache (float32)."""
    return 2 * lm.n_layers * lm.n_kv_heads * lm.head_dim * 4


def _check_settings(lm, ids, num_beams, max_new_tokens, length_penalty, early_stopping,
                    eos) -> None:
    check_whole(num_beams, "num_beams", 1, MAX_BEAMS,
                hint=" (each beam is a whole copy of the KV cache)")
    check_whole(max_new_tokens, "max_new_tokens", 1)
    check_number(length_penalty, "length_penalty", hint=" (1.0 = average log-prob per token)")
    if early_stopping not in (False, True, "never"):
        raise ValueError(f"early_stopping must be False, True or 'never', got {early_stopping!r}.")
    if len(ids) + max_new_tokens > lm.context_length:
        raise ValueError(f"{len(ids)} prompt tokens + {max_new_tokens} new ones exceed the context "
                         f"of {lm.context_length} tokens: ask for fewer new tokens.")
    if num_beams * 2 > lm.vocab_size:
        raise ValueError(f"num_beams={num_beams} is too many for a vocabulary of {lm.vocab_size}.")
    if len(eos) >= lm.vocab_size:
        raise ValueError(f"eos_ids lists all {lm.vocab_size} tokens of the vocabulary: every beam "
                         f"would end at once. Leave at least one token that does not end the text.")
    cache_bytes = num_beams * (len(ids) + max_new_tokens) * kv_bytes_per_position(lm)
    if cache_bytes > BEAM_CACHE_BYTES:
        raise ValueError(
            f"{num_beams} beams x {len(ids) + max_new_tokens} positions need "
            f"{byte_size(cache_bytes)} of KV cache; beam search here keeps at most "
            f"{byte_size(BEAM_CACHE_BYTES)}: use fewer beams, a shorter prompt or fewer new "
            f"tokens.")


@torch.inference_mode()
def beam_search_steps(lm, prompt: str | Sequence[int], num_beams: int, max_new_tokens: int,
                      length_penalty: float = 1.0, early_stopping: bool | str = False,
                      eos_ids: Iterable[int] | None = None) -> BeamSearch:
    """Beam search tick by tick, with every tick's candidates kept for display.

    Equal to `lm.model.generate(ids, num_beams=B, do_sample=False, max_new_tokens=N,
    length_penalty=..., early_stopping=...)`; `eos_ids` defaults to the generation config's.

    Bounded: at most MAX_BEAMS (64) beams, and at most BEAM_CACHE_BYTES (1 GiB) of KV cache for
    all beams together (num_beams x (prompt + new tokens) x kv_bytes_per_position(lm));
    beyond either, a ValueError says what to reduce. The prompt is read once, in chunks, so a
    long prompt never needs [beams, heads, T, T] attention weights.
    """
    ids = _prompt_ids(lm, prompt)
    eos = set(default_eos_ids(lm) if eos_ids is None else check_token_ids(lm, eos_ids, "eos_ids"))
    _check_settings(lm, ids, num_beams, max_new_tokens, length_penalty, early_stopping, eos)
    B, V = num_beams, None
    n_ranked = max(2, 1 + len(eos)) * B       # enough that B of them have not finished
    top_b = torch.arange(n_ranked) < B        # only the best B may finish at a tick

    running: list[tuple[int, ...]] = [()] * B
    # Every beam starts as the prompt; only beam 0 counts at first, so that the first tick
    # does not pick the same token B times.
    running_scores = torch.full((B,), NEG)
    running_scores[0] = 0.0
    finished: list[tuple[int, ...]] = [()] * B
    finished_scores = torch.full((B,), NEG)
    finished_real = torch.zeros(B, dtype=torch.bool)
    can_improve = True
    steps: list[BeamStep] = []

    # The prefill reads the prompt once, in chunks like the clock's (bounded memory), and the
    # cache is then copied for each of the B beams (generate runs B copies of the prompt: the
    # same numbers). Later ticks feed each beam's newest token, after reordering the KV cache
    # so every beam carries its parent's cache.
    cache = new_cache(lm)
    fed = None
    for step in range(max_new_tokens):
        if fed is None:
            logits = read_tokens(lm, ids, cache, attentions=False).logits[None].expand(B, -1)
            cache.batch_repeat_interleave(B)
        else:
            logits = lm.model(input_ids=fed, cache=cache, use_cache=True,
                              logits_to_keep=1).logits[:, -1, :]
        log_probs = torch.log_softmax(logits.float().cpu(), dim=-1)
        V = log_probs.shape[-1]
        totals = (log_probs + running_scores[:, None]).reshape(-1)
        top_scores, top_index = torch.topk(totals, k=n_ranked)
        parents, tokens = top_index // V, top_index % V
        length = step + 1
        at_limit = length == max_new_tokens
        hits = torch.tensor([at_limit or int(t) in eos for t in tokens])

        # Who runs on: the best B that did not just finish.
        run_scores = top_scores + hits.to(torch.float32) * NEG
        keep = torch.topk(run_scores, k=B)[1]

        # Who finishes: among the top B, those that hit an end; they compete with the finished
        # list on sum / length ** length_penalty.
        normalised = top_scores / (length ** length_penalty)
        list_full = bool(finished_real.all()) and early_stopping is True
        normalised = normalised + float(list_full) * NEG
        normalised = normalised + float(not can_improve) * NEG
        just_finished = hits & top_b
        normalised = normalised + (~just_finished) * NEG
        merged_scores = torch.cat((finished_scores, normalised))
        merged = finished + [running[int(p)] + (int(t),) for p, t in zip(parents, tokens)]
        merged_real = torch.cat((finished_real, just_finished))
        best = torch.topk(merged_scores, k=B)[1]
        finished = [merged[int(i)] for i in best]
        finished_scores, finished_real = merged_scores[best], merged_real[best]

        kept = {int(i) for i in keep}
        finished_new = {int(i) - B for i in best if int(i) >= B}
        fates = []
        for j in range(n_ranked):
            if bool(hits[j]):
                fates.append("finished" if j in finished_new else "finished, not kept")
            else:
                fates.append("runs on" if j in kept else "dropped")
        candidates = tuple(BeamCandidate(int(p), int(t), float(s), f)
                           for p, t, s, f in zip(parents, tokens, top_scores, fates))

        beam_parents = parents[keep]
        running = [running[int(p)] + (int(t),) for p, t in zip(beam_parents, tokens[keep])]
        running_scores = run_scores[keep]
        steps.append(BeamStep(
            index=step, candidates=candidates, running=tuple(running),
            running_scores=tuple(float(s) for s in running_scores),
            finished=tuple((f, float(s)) for f, s, r
                           in zip(finished, finished_scores, finished_real) if bool(r))))

        # Can a running beam still beat the worst finished one? (transformers' heuristic)
        if early_stopping == "never" and length_penalty > 0.0:
            best_length = max_new_tokens
        else:
            best_length = length
        best_possible = running_scores[:1] / (best_length ** length_penalty)
        worst = torch.where(finished_real, finished_scores.min(), torch.tensor(NEG))
        can_improve = can_improve and bool((best_possible > worst).any())
        all_done = bool(finished_real.all()) and early_stopping is True
        if not can_improve or all_done or bool(hits.all()):
            break
        cache.reorder_cache(beam_parents.to(lm.device))
        fed = torch.tensor([[b[-1]] for b in running], device=lm.device)
    return BeamSearch(prompt_ids=tuple(ids), steps=tuple(steps), best=tuple(finished[0]),
                      best_score=float(finished_scores[0]))


def beam_search(lm, prompt: str | Sequence[int], num_beams: int, max_new_tokens: int,
                length_penalty: float = 1.0, early_stopping: bool | str = False,
                eos_ids: Iterable[int] | None = None) -> list[int]:
    """The new token ids of the best beam (an end-of-text token included when it ended so),
    as `generate(num_beams=num_beams, do_sample=False)` returns them after the prompt."""
    return list(beam_search_steps(lm, prompt, num_beams, max_new_tokens, length_penalty,
                                  early_stopping, eos_ids).best)


@torch.inference_mode()
def sequence_logprob(lm, prompt: str | Sequence[int], new_ids: Sequence[int]) -> float:
    """Sum of the log-probabilities of `new_ids` after the prompt: the score beam search ranks."""
    from .scoring import token_logprobs

    ids = _prompt_ids(lm, prompt)
    new_ids = check_token_ids(lm, new_ids, "new_ids")
    if not new_ids:
        return 0.0
    scores = token_logprobs(lm, ids + new_ids)  # bounded memory: chunks through a cache
    return float(scores.logprobs[len(ids) - 1:].sum())


# ---------------------------------------------------------------- penalties (OpenAI-style)

def _counts(logits: torch.Tensor, previous_ids: Iterable[int]) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor) or logits.dim() != 1:
        raise ValueError("Expected a 1-D logits vector [vocab]; take logits[0, -1] of the "
                         "model output.")
    counts = torch.zeros_like(logits)
    # Whole numbers only (no bools, floats or bytes); ids outside the vocabulary never appear
    # among its logits, so they count for nothing.
    ids = torch.as_tensor([check_whole(i, "each previous id", None) for i in previous_ids],
                          dtype=torch.long)
    ids = ids[(ids >= 0) & (ids < logits.numel())]
    return counts.index_add(0, ids, torch.ones(len(ids), dtype=logits.dtype))


def apply_frequency_penalty(logits: torch.Tensor, previous_ids: Iterable[int],
                            penalty: float) -> torch.Tensor:
    """Subtract penalty x (how many times the token already appeared) from its logit.

    The OpenAI API's definition (counts over the tokens generated so far): the more often a
    token was used, the lower it goes, without limit.
    """
    check_number(penalty, "frequency_penalty", -100.0, 100.0)
    return logits - penalty * _counts(logits, previous_ids)


def apply_presence_penalty(logits: torch.Tensor, previous_ids: Iterable[int],
                           penalty: float) -> torch.Tensor:
    """Subtract the penalty once from the logit of every token that appeared at all."""
    check_number(penalty, "presence_penalty", -100.0, 100.0)
    return logits - penalty * (_counts(logits, previous_ids) > 0).to(logits.dtype)


@torch.inference_mode()
def greedy_with_penalties(lm, prompt: str | Sequence[int], max_new_tokens: int,
                          repetition_penalty: float = 1.0, frequency_penalty: float = 0.0,
                          presence_penalty: float = 0.0) -> list[int]:
    """Greedy decoding (KV cache, no end-of-text stop) with the penalties applied each tick.

    The repetition penalty (transformers') looks at the prompt and the new tokens; the
    frequency and presence penalties (OpenAI's) at the new tokens only, as those APIs define.
    """
    from .sampling import apply_repetition_penalty

    ids = _prompt_ids(lm, prompt)
    check_whole(max_new_tokens, "max_new_tokens", 0, lm.context_length - len(ids),
                hint=" (the prompt and the new tokens must fit the context)")
    from .sampling import check_repetition_penalty

    check_repetition_penalty(repetition_penalty)
    check_number(frequency_penalty, "frequency_penalty", hint=" (0 = off)")
    check_number(presence_penalty, "presence_penalty", hint=" (0 = off)")
    new: list[int] = []
    cache = new_cache(lm)
    fed = ids
    for _ in range(max_new_tokens):
        # The prompt in chunks like the clock's prefill (bounded memory), then one token a tick.
        logits = read_tokens(lm, fed, cache, attentions=False).logits
        if repetition_penalty != 1:
            logits = apply_repetition_penalty(logits, ids + new, repetition_penalty)
        if frequency_penalty:
            logits = apply_frequency_penalty(logits, new, frequency_penalty)
        if presence_penalty:
            logits = apply_presence_penalty(logits, new, presence_penalty)
        new.append(int(logits.argmax()))
        fed = [new[-1]]
    return new
