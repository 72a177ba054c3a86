"""Benchmark: is the clock as fast as transformers' generate?

On an embedded model (SmolLM2-135M-Instruct, or Gemma 3 270M with --model gemma-3-270m), same
prompt, same sampling settings, same seed (so both produce the same tokens), eager attention
in both:

  * per-token decode latency: the time between consecutive Clock.tick() returns (with
    attention capture and top-10 records) vs the time between consecutive decode steps of
    model.generate (stamped by a no-op logits processor). Short runs of the two alternate,
    and the medians are compared, so a busy moment on a shared machine hits both alike;
  * the quiet tick: the fastest decode tick, against the memory-bandwidth bound (the bytes a
    tick must read, weights + KV cache, over the read bandwidth of summing a 256 MiB tensor,
    measured in rounds interleaved with ticks);
  * peak resident memory (RSS) over 300 ticks, and how much of it the history holds.

Sizes are printed in binary units (helpers.tick_view.byte_size: KiB/MiB/GiB, as everywhere in
the project); the read bandwidth is a rate, printed in decimal GB/s (10^9 bytes/s), the unit
hardware specifications quote.

Run: .venv/bin/python bench/bench_clock.py [--model gemma-3-270m]
     (about a minute on 2 quiet cores; Gemma about five)
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import load_model  # noqa: E402
from helpers.clock import Clock  # noqa: E402
from helpers.embedded import DEFAULT_MODEL, EMBEDDED_MODELS  # noqa: E402
from helpers.sampling import SamplingConfig  # noqa: E402
from helpers.tick_view import byte_size  # noqa: E402
from transformers import LogitsProcessor, LogitsProcessorList  # noqa: E402

PROMPTS = {"SmolLM2-135M-Instruct": "Once upon a time, in a small village by the sea,",
           "gemma-3-270m": "从前，在海边的一个小村子里，"}
GOALS = {"SmolLM2-135M-Instruct": 1.15, "gemma-3-270m": 1.10}
CONFIG = SamplingConfig(temperature=0.8, top_k=50, top_p=0.95)
SEED = 0
N_DECODE = 40       # decode tokens per run
ROUNDS = 5          # alternating runs of each
MEMORY_TICKS = 300


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


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
    out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=1 + N_DECODE,
                            do_sample=True, temperature=CONFIG.temperature, top_k=CONFIG.top_k,
                            top_p=CONFIG.top_p, pad_token_id=lm.tokenizer.eos_token_id,
                            logits_processor=LogitsProcessorList([timer]))
    steps = [(b - a) * 1000 for a, b in zip(timer.stamps, timer.stamps[1:])]
    return steps, out[0, len(prompt_ids):].tolist()


def clock_run(lm, prompt: str) -> tuple[list[float], list[int]]:
    """Per-tick times (ms) of the decode ticks of one clock run, and its tokens."""
    clock = Clock(lm, prompt, CONFIG, seed=SEED)
    stamps = [time.perf_counter()]
    clock.run(1 + N_DECODE, on_tick=lambda record: stamps.append(time.perf_counter()))
    steps = [(b - a) * 1000 for a, b in zip(stamps[1:], stamps[2:])]  # stamps[1] ends the prefill
    return steps, clock.generated_ids


def read_ms(big: torch.Tensor) -> float:
    """Time (ms) to sum `big`: reading its bytes once, almost no arithmetic."""
    start = time.perf_counter()
    big.sum()
    return (time.perf_counter() - start) * 1000


def weight_bytes(model: torch.nn.Module) -> int:
    """Bytes of the weights, each stored tensor once (a tied embedding/unembedding is one
    matrix, and a tick reads all of it for the logits)."""
    seen = {p.data_ptr(): p.numel() * p.element_size() for p in model.parameters()}
    return sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=list(EMBEDDED_MODELS))
    name = parser.parse_args().model
    prompt, goal = PROMPTS[name], GOALS[name]
    lm = load_model(name)
    prompt_ids = lm.encode_prompt(prompt)  # what the clock reads (Gemma: <bos> first)
    print(f"{lm.name}, {torch.get_num_threads()} threads, prompt of {len(prompt_ids)} tokens, "
          f"{CONFIG}")
    clock_run(lm, prompt), generate_run(lm, prompt_ids)  # warm-up

    big = torch.ones(64 * 2**20)  # 256 MiB of float32
    clock_steps, generate_steps, reads = [], [], []
    for _ in range(ROUNDS):
        steps, clock_ids = clock_run(lm, prompt)
        clock_steps += steps
        steps, generate_ids = generate_run(lm, prompt_ids)
        generate_steps += steps
        reads += [read_ms(big) for _ in range(3)]
    del big
    same = clock_ids == generate_ids
    clock_ms, generate_ms = statistics.median(clock_steps), statistics.median(generate_steps)
    ratio = clock_ms / generate_ms
    print(f"decode, per token (median over {ROUNDS} alternating runs of {N_DECODE} tokens each):")
    print(f"  clock.tick()      {clock_ms:6.1f} ms   (fastest {min(clock_steps):.1f} ms)")
    print(f"  model.generate    {generate_ms:6.1f} ms   (fastest {min(generate_steps):.1f} ms)")
    print(f"  ratio clock / generate = {ratio:.2f}x (goal <= {goal}x): "
          f"{'OK' if ratio <= goal else 'SLOWER THAN GOAL'}")
    print(f"  fastest tick vs fastest generate step = "
          f"{min(clock_steps) / min(generate_steps):.2f}x "
          f"(less sensitive to other programs on a shared machine)")
    print(f"  same tokens as generate: {same}")
    bandwidth = 64 * 2**20 * 4 / (min(reads) / 1000)  # bytes/s, the fastest of the reads
    weights = weight_bytes(lm.model)
    kv = 2 * lm.n_layers * lm.n_kv_heads * lm.head_dim * 4 * (len(prompt_ids) + N_DECODE // 2)
    bound_ms = (weights + kv) / bandwidth * 1000
    print(f"the quiet tick (the fastest decode tick) vs the memory-bandwidth bound:")
    print(f"  a tick reads {byte_size(weights)} of weights + {byte_size(kv)} of KV cache; "
          f"memory read {bandwidth / 1e9:.1f} GB/s (fastest of {len(reads)} 256 MiB sums)")
    print(f"  bound {bound_ms:.1f} ms; quiet tick {min(clock_steps):.1f} ms = "
          f"{min(clock_steps) / bound_ms:.2f}x the bound ({1000 / min(clock_steps):.1f} tokens/s, "
          f"bound {1000 / bound_ms:.1f})")

    before = peak_rss_bytes()
    clock = Clock(lm, prompt, CONFIG, seed=SEED)
    clock.end_ids = frozenset()  # keep going for all the ticks
    start = time.perf_counter()
    clock.run(MEMORY_TICKS)
    seconds = time.perf_counter() - start
    history_bytes = sum(r.attention.numel() * r.attention.element_size() for r in clock.history)
    rng_bytes = sum(s.numel() for s in clock._rng_states)  # uint8 states: one byte each
    last = clock.history[-1]
    print(f"{MEMORY_TICKS} ticks in {seconds:.1f} s ({MEMORY_TICKS / seconds:.1f} tokens/s, "
          f"last tick {last.forward_ms:.1f} ms forward + {last.sampling_ms:.1f} ms sampling):")
    print(f"  peak RSS {byte_size(before)} before -> {byte_size(peak_rss_bytes())} after")
    print(f"  history: {byte_size(history_bytes)} of attention rows + {byte_size(rng_bytes)} of "
          f"generator states; KV cache {byte_size(last.kv_cache_bytes)} for "
          f"{last.kv_cache_len} positions")
    if not same:
        sys.exit("the clock and generate disagree on the tokens")


if __name__ == "__main__":
    main()
