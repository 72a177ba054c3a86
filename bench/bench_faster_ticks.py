"""Benchmark: faster ticks, measured in one run on the embedded model.

  * batching: milliseconds per decode tick and tokens per second for B = 1, 2, 4, 8, 16;
  * speculative decoding with prompt-lookup drafts vs plain greedy (the same code with
    draft_len=0), on a repetitive prompt (the model quotes a text) and on free prose: tokens
    per second, forward passes per token, and the ratio; the outputs must be identical;
  * the same prompts through transformers' own generate: greedy, and greedy with
    prompt_lookup_num_tokens=k (its prompt-lookup decoding), same tokens required;
  * int8 dynamic quantization (torch.ao.quantization.quantize_dynamic): decode speed vs
    float32, and whether torch warns about it (it is on its way out of torch).

Runs alternate and medians are reported, so a busy moment on a shared machine hits every
variant alike. Goal: speculative >= 1.5x plain greedy on the repetitive prompt.

Run: .venv/bin/python bench/bench_faster_ticks.py        (a few minutes on 2 shared cores)
"""
from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers import load_model  # noqa: E402
from helpers.batching import greedy_batch  # noqa: E402
from helpers.chat import encode_chat  # noqa: E402
from helpers.speculative import generate_speculatively  # noqa: E402

K = 5               # draft length
ROUNDS = 3          # alternating runs of each variant
GOAL = 1.5
BATCH_PROMPTS = [
    "The capital of France is", "Once upon a time", "def add(a, b):", "My favourite food is",
    "The clock of a language model ticks", "Water boils at", "In 1969, the first",
    "A list of fruits: apple,", "The best way to learn is", "Dear Sir or Madam,",
    "Photosynthesis is the process", "import numpy as np\n", "The largest planet is",
    "Rain falls when", "Breakfast: eggs,", "A haiku about the sea:",
]
QUOTE = ("Repeat this text word for word:\n\nA language model writes one token per tick. Each "
         "tick reads the context, runs thirty layers of attention and MLP, and turns the last "
         "vector into a probability for every token in the vocabulary.")
PROSE = "Write a short story about a lighthouse keeper."


def chat(lm, message: str) -> list[int]:
    return encode_chat(lm.tokenizer, message)[1]   # the ids of the chat template around it


def bench_batching(lm) -> None:
    print("batching: one greedy decode tick for B prompts (median of 6 ticks, best of 2 runs)")
    greedy_batch(lm, BATCH_PROMPTS[:1], 3)
    base = None
    for b in (1, 2, 4, 8, 16):
        ms = min(statistics.median(greedy_batch(lm, BATCH_PROMPTS[:b], 7).tick_ms[1:])
                 for _ in range(2))
        base = base or ms
        print(f"  B = {b:2d}: {ms:7.1f} ms per tick ({ms / base:4.2f}x B = 1), "
              f"{b * 1000 / ms:6.1f} tokens/s ({b * base / ms:4.1f}x)")


def hf_generate(lm, prompt: str | list[int], n_new: int,
                lookup: int | None = None) -> tuple[list[int], float]:
    ids = torch.tensor([prompt if isinstance(prompt, list) else lm.encode(prompt)])
    extra = {"prompt_lookup_num_tokens": lookup} if lookup else {}
    start = time.perf_counter()
    out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                            max_new_tokens=n_new, pad_token_id=lm.tokenizer.pad_token_id, **extra)
    return out[0, ids.shape[1]:].tolist(), time.perf_counter() - start


def bench_speculative(lm) -> bool:
    ok = True
    for name, prompt, n_new in [("repetitive", chat(lm, QUOTE), 64),
                                ("prose", chat(lm, PROSE), 48)]:
        generate_speculatively(lm, prompt, 4, draft_len=0)   # warm-up
        times: dict[str, list[float]] = {"plain": [], "speculative": [], "hf greedy": [],
                                         "hf prompt lookup": []}
        tokens: dict[str, list[int]] = {}
        for _ in range(ROUNDS):
            plain = generate_speculatively(lm, prompt, n_new, draft_len=0)
            spec = generate_speculatively(lm, prompt, n_new, draft_len=K)
            n = len(plain.new_ids)
            tokens["plain"], tokens["speculative"] = plain.new_ids, spec.new_ids
            times["plain"].append(plain.seconds / n)
            times["speculative"].append(spec.seconds / len(spec.new_ids))
            tokens["hf greedy"], seconds = hf_generate(lm, prompt, n)
            times["hf greedy"].append(seconds / n)
            tokens["hf prompt lookup"], seconds = hf_generate(lm, prompt, n, lookup=K)
            times["hf prompt lookup"].append(seconds / n)
        same = all(t == tokens["plain"] for t in tokens.values())
        rate = {k: 1 / statistics.median(v) for k, v in times.items()}
        print(f"{name} prompt: {n} tokens, forward passes per token: plain "
              f"{plain.passes_per_token:.2f}, speculative (k = {K}) {spec.passes_per_token:.2f} "
              f"({spec.accepted} of {spec.drafted} drafts accepted)")
        for k, v in rate.items():
            print(f"  {k:17} {v:6.1f} tokens/s  ({v / rate['plain']:.2f}x plain greedy)")
        print(f"  identical tokens across all four: {same}")
        ok &= same
        if name == "repetitive":
            ratio = rate["speculative"] / rate["plain"]
            print(f"  speculative / plain = {ratio:.2f}x (goal >= {GOAL}x): "
                  f"{'OK' if ratio >= GOAL else 'BELOW GOAL'}")
    return ok


def bench_int8(lm) -> None:
    prompt = "The capital of France is"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        int8 = copy.copy(lm)
        int8.model = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(lm.model), {torch.nn.Linear}, dtype=torch.qint8)
        generate_speculatively(int8, prompt, 2, draft_len=0)
    notes = sorted({str(w.message).splitlines()[0][:90] for w in caught})
    times = {"fp32": [], "int8 dynamic": []}
    for _ in range(ROUNDS):
        for name, model in (("fp32", lm), ("int8 dynamic", int8)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                run = generate_speculatively(model, prompt, 12, draft_len=0, stop_at_end=False)
            times[name].append(run.seconds / len(run.new_ids))
    fp32 = statistics.median(times["fp32"])
    print("int8 dynamic quantization (torch.ao.quantization.quantize_dynamic, Linear layers):")
    for name, v in times.items():
        print(f"  {name:13} {1 / statistics.median(v):6.1f} tokens/s "
              f"({fp32 / statistics.median(v):.2f}x fp32)")
    print(f"  torch's notices when using it: {notes or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args()   # no options: --help describes the run, and an unknown option fails
    lm = load_model()
    print(f"{lm.name}, {torch.get_num_threads()} torch thread(s); timings are wall-clock on "
          f"this machine (noisy when it is shared)")
    bench_batching(lm)
    same = bench_speculative(lm)
    bench_int8(lm)
    if not same:
        sys.exit("speculative decoding and greedy decoding disagree on the tokens")


if __name__ == "__main__":
    main()
