"""Benchmark: is the clock as fast as transformers' generate?

On the embedded model, same prompt, same sampling settings, same seed (so both produce the
same tokens), eager attention in both:

  * per-token decode latency: the time between consecutive Clock.tick() returns (with
    attention capture and top-10 records) vs the time between consecutive decode steps of
    model.generate (stamped by a no-op logits processor). Short runs of the two alternate,
    and the medians are compared, so a busy moment on a shared machine hits both alike;
  * peak resident memory (RSS) over 300 ticks, and how much of it the history holds.

Run: .venv/bin/python bench/bench_clock.py        (about a minute on 2 quiet cores)
"""
from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import load_model  # noqa: E402
from helpers.clock import Clock  # noqa: E402
from helpers.sampling import SamplingConfig  # noqa: E402
from transformers import LogitsProcessor, LogitsProcessorList  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea,"
CONFIG = SamplingConfig(temperature=0.8, top_k=50, top_p=0.95)
SEED = 0
N_DECODE = 40       # decode tokens per run
ROUNDS = 5          # alternating runs of each
MEMORY_TICKS = 300
GOAL = 1.15


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


class StepTimer(LogitsProcessor):
    """Stamps the time at every generate step (right after its forward pass); changes nothing."""

    def __init__(self):
        self.stamps: list[float] = []

    def __call__(self, input_ids, scores):
        self.stamps.append(time.perf_counter())
        return scores


def generate_run(lm, prompt_ids: list[int]) -> tuple[list[float], list[int]]:
    """Per-step times (ms) of the decode steps of one generate call, and its tokens."""
    timer = StepTimer()
    ids = torch.tensor([prompt_ids])
    torch.manual_seed(SEED)
    out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=1 + N_DECODE, do_sample=True,
                            temperature=CONFIG.temperature, top_k=CONFIG.top_k, top_p=CONFIG.top_p,
                            pad_token_id=lm.tokenizer.eos_token_id, logits_processor=LogitsProcessorList([timer]))
    steps = [(b - a) * 1000 for a, b in zip(timer.stamps, timer.stamps[1:])]
    return steps, out[0, len(prompt_ids):].tolist()


def clock_run(lm) -> tuple[list[float], list[int]]:
    """Per-tick times (ms) of the decode ticks of one clock run, and its tokens."""
    clock = Clock(lm, PROMPT, CONFIG, seed=SEED)
    stamps = [time.perf_counter()]
    clock.run(1 + N_DECODE, on_tick=lambda record: stamps.append(time.perf_counter()))
    steps = [(b - a) * 1000 for a, b in zip(stamps[1:], stamps[2:])]  # stamps[1] ends the prefill
    return steps, clock.generated_ids


def main() -> None:
    lm = load_model()
    prompt_ids = lm.encode(PROMPT)
    print(f"{lm.name}, {torch.get_num_threads()} threads, prompt of {len(prompt_ids)} tokens, {CONFIG}")
    clock_run(lm), generate_run(lm, prompt_ids)  # warm-up

    clock_steps, generate_steps = [], []
    for _ in range(ROUNDS):
        steps, clock_ids = clock_run(lm)
        clock_steps += steps
        steps, generate_ids = generate_run(lm, prompt_ids)
        generate_steps += steps
    same = clock_ids == generate_ids
    clock_ms, generate_ms = statistics.median(clock_steps), statistics.median(generate_steps)
    ratio = clock_ms / generate_ms
    print(f"decode, per token (median over {ROUNDS} alternating runs of {N_DECODE} tokens each):")
    print(f"  clock.tick()      {clock_ms:6.1f} ms   (fastest {min(clock_steps):.1f} ms)")
    print(f"  model.generate    {generate_ms:6.1f} ms   (fastest {min(generate_steps):.1f} ms)")
    print(f"  ratio clock / generate = {ratio:.2f}x (goal <= {GOAL}x): {'OK' if ratio <= GOAL else 'SLOWER THAN GOAL'}")
    print(f"  fastest tick vs fastest generate step = {min(clock_steps) / min(generate_steps):.2f}x "
          f"(less sensitive to other programs on a shared machine)")
    print(f"  same tokens as generate: {same}")

    before = peak_rss_mb()
    clock = Clock(lm, PROMPT, CONFIG, seed=SEED)
    clock.end_ids = frozenset()  # keep going for all the ticks
    start = time.perf_counter()
    clock.run(MEMORY_TICKS)
    seconds = time.perf_counter() - start
    history_mb = sum(r.attention.numel() * r.attention.element_size() for r in clock.history) / 2**20
    rng_mb = sum(s.numel() for s in clock._rng_states) / 2**20
    last = clock.history[-1]
    print(f"{MEMORY_TICKS} ticks in {seconds:.1f} s ({MEMORY_TICKS / seconds:.1f} tokens/s, last tick {last.forward_ms:.1f} ms forward"
          f" + {last.sampling_ms:.1f} ms sampling):")
    print(f"  peak RSS {before:.0f} MB before -> {peak_rss_mb():.0f} MB after")
    print(f"  history: {history_mb:.1f} MB of attention rows + {rng_mb:.1f} MB of generator states; "
          f"KV cache {last.kv_cache_bytes / 2**20:.1f} MB for {last.kv_cache_len} positions")
    if not same:
        sys.exit("the clock and generate disagree on the tokens")


if __name__ == "__main__":
    main()
