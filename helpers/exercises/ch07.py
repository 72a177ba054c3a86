"""Checks for notebook 07 · The KV cache and the speed of the clock.

Exercises 1 and 2 ask for a function of a model's shape (`model.n_layers`, `model.n_heads`,
`model.n_kv_heads`, `model.head_dim`): on SmolLM2 alone n_heads // n_kv_heads = 9 // 3 = 3 =
n_kv_heads, so `model.n_kv_heads` would pass by coincidence. The checks also run the function
on other real shapes, where every plausible slip gives a different number.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..checks import check_close, check_function, solution_of

__all__ = ["check_kv_cache_bytes", "check_times_bigger", "check_decode_bounds", "OTHER_SHAPES",
           "BANDWIDTH", "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "kv_cache_bytes": r'''
def kv_cache_bytes(model, tokens, bytes_per_number):
    return (model.n_layers * model.n_kv_heads * model.head_dim * 2   # K and V
            * bytes_per_number * tokens)
''',
    "times_bigger": r'''
def times_bigger(model):
    return model.n_heads / model.n_kv_heads   # every query head would be a KV head
''',
    "decode_bounds": r'''
bound_fp32 = 20e9 / weight_bytes            # every tick reads all the weights
bound_4bit = 20e9 / (n_params * 0.5)         # 8 times fewer bytes: 8 times the bound
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


BANDWIDTH = 20e9   # exercise 3: a laptop reading memory at 20 GB/s (decimal gigabytes)


def _shape(name: str, n_layers: int, n_heads: int, n_kv_heads: int, head_dim: int):
    return SimpleNamespace(name=name, n_layers=n_layers, n_heads=n_heads, n_kv_heads=n_kv_heads,
                           head_dim=head_dim, d_model=n_heads * head_dim)


OTHER_SHAPES = [   # published configurations; none has n_heads // n_kv_heads == n_kv_heads
    _shape("Llama-3-8B", 32, 32, 8, 128),
    _shape("Mistral-7B", 32, 32, 8, 128),
    _shape("GPT-2 (no grouping)", 12, 12, 12, 64),
    _shape("Falcon-7B (multi-query)", 32, 71, 1, 64),
    _shape("Qwen2-0.5B", 24, 14, 2, 64),
]


def _describe(model) -> str:
    name = getattr(model, "name", "the model")
    return (f"{name} ({model.n_layers} layers, {model.n_heads} query heads, {model.n_kv_heads} "
            f"KV heads of size {model.head_dim})")


def _kv_cache_bytes(model, tokens: int, bytes_per_number: int) -> int:
    return model.n_layers * model.n_kv_heads * model.head_dim * 2 * bytes_per_number * tokens


def check_kv_cache_bytes(fn, lm):
    """Exercise 1: fn(model, tokens, bytes_per_number) -> bytes of the KV cache."""
    models = [lm, *OTHER_SHAPES]
    cases = [(m, t, b) for m, t, b in zip(models, (1000, 8192, 1024, 2048, 4096, 100),
                                          (2, 2, 4, 2, 4, 2))]
    cases.append((lm, 1000, 4))
    mistakes = [
        (lambda m, t, b: m.n_layers * m.n_heads * m.head_dim * 2 * b * t,
         "You used every query head (n_heads, or d_model = n_heads × head_dim); only the KV "
         "heads have keys and values to cache: n_kv_heads."),
        (lambda m, t, b: _kv_cache_bytes(m, t, b) // 2,
         "Half the right size: the cache stores a key AND a value per position (× 2)."),
        (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * 4 * t,
         "bytes_per_number is ignored (4 typed in): use the argument."),
        (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * 2 * t,
         "bytes_per_number is ignored (2 typed in): use the argument."),
        (lambda m, t, b: _kv_cache_bytes(m, t, b) // m.n_layers,
         "That is one layer's cache: every layer keeps its own (× n_layers)."),
        (lambda m, t, b: _kv_cache_bytes(m, t, b) * 8,
         "That is bits, not bytes: bytes_per_number already counts bytes."),
        (lambda m, t, b: _kv_cache_bytes(m, 1, b),
         "That is the size per token: multiply by the number of tokens."),
        (lambda m, t, b: _kv_cache_bytes(lm, t, b),
         "It uses lm, not the model passed in: write it with model.n_layers, model.n_kv_heads, "
         "..."),
    ]
    return check_function(fn, _kv_cache_bytes, cases, "kv_cache_bytes", mistakes=mistakes,
                          describe=lambda c: f"{_describe(c[0])}, {c[1]} tokens, {c[2]} bytes "
                                             f"per number",
                          hint="layers × KV heads × head size × 2 (K and V) × bytes per number × "
                               "tokens, all taken from the model and the arguments.")


def _times_bigger(model) -> float:
    return model.n_heads / model.n_kv_heads


def check_times_bigger(fn, lm):
    """Exercise 2: fn(model) -> how many times bigger the cache would be without grouping."""
    mistakes = [
        (lambda m: m.n_kv_heads, "That is the number of KV heads. On SmolLM2 it is 3, like the "
                                 "answer, by coincidence; compare the heads with and without "
                                 "grouping instead."),
        (lambda m: m.n_heads, "That is the number of query heads: the cache grows from n_kv_heads "
                              "to n_heads KV heads; how many times is that?"),
        (lambda m: m.n_kv_heads / m.n_heads, "The ratio is upside down: without grouping the "
                                             "cache is bigger, so the answer is ≥ 1."),
        (lambda m: m.n_heads - m.n_kv_heads, "That is how many more heads, not how many times "
                                             "more: divide."),
        (lambda m: _times_bigger(lm), "It uses lm, not the model passed in (or SmolLM2's 3 typed "
                                      "in): use model.n_heads and model.n_kv_heads."),
    ]
    return check_function(fn, _times_bigger, [(lm,)] + [(m,) for m in OTHER_SHAPES],
                          "times_bigger", mistakes=mistakes,
                          describe=lambda c: _describe(c[0]),
                          hint="The cache scales with the number of KV heads. Without grouping, "
                               "every query head would be a KV head.")


def check_decode_bounds(bound_fp32, bound_4bit, lm):
    """Exercise 3: tokens/s bounds at BANDWIDTH for float32 and for 4-bit weights."""
    n_params = sum(p.numel() for p in lm.model.parameters())
    fp32_bytes = n_params * 4
    gib = 20 * 2**30
    fp32 = check_close(bound_fp32, BANDWIDTH / fp32_bytes, "the float32 bound (tokens/s)",
                       rtol=1e-3, mistakes=[
                           (fp32_bytes / BANDWIDTH, "That is seconds per token: the bound in "
                                                    "tokens/s is bandwidth / bytes per token."),
                           (gib / fp32_bytes, "20 GB/s means 20 × 10⁹ bytes/s (decimal), not "
                                              "20 × 2³⁰."),
                           (BANDWIDTH / n_params, "That counts one byte per parameter; float32 "
                                                  "is 4 bytes (weight_bytes)."),
                           (BANDWIDTH / (fp32_bytes * 8), "That divides by bits: the bandwidth "
                                                          "is in bytes per second."),
                       ],
                       hint="Every decode tick reads all the weights once: tokens/s ≤ bandwidth "
                            "/ weight_bytes.")
    if not fp32:
        return fp32
    return check_close(bound_4bit, BANDWIDTH / (n_params * 0.5), "the 4-bit bound (tokens/s)",
                       rtol=1e-3, mistakes=[
                           (BANDWIDTH / (fp32_bytes * 0.5), "weight_bytes is already float32 "
                                                            "bytes; half a byte per *parameter* "
                                                            "is n_params × 0.5."),
                           (BANDWIDTH / (n_params * 4), "4 bits is half a byte, not 4 bytes."),
                           (BANDWIDTH / (n_params * 5 / 8), "That is Q4_1's real 5 bits per "
                                                            "weight; the exercise assumes ½ byte."),
                           (gib / (n_params * 0.5), "20 GB/s means 20 × 10⁹ bytes/s, not "
                                                    "20 × 2³⁰."),
                           (bound_fp32 / 8 if isinstance(bound_fp32, (int, float)) else None,
                            "Fewer bytes per tick means *more* ticks per second: multiply."),
                       ],
                       hint="Same bandwidth, 8 times fewer bytes per tick than float32: "
                            "bandwidth / (n_params × 0.5).")
