"""Checks for notebook 07 · The KV cache and the speed of the clock.

Exercises 1 and 2 ask for a function of a model's shape (`model.n_layers`, `model.n_heads`,
`model.n_kv_heads`, `model.head_dim`): on SmolLM2 alone n_heads // n_kv_heads = 9 // 3 = 3 =
n_kv_heads, so `model.n_kv_heads` would pass by coincidence. The checks also run the function
on other real shapes, where every plausible slip gives a different number.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..checks import check_close, check_function, msg, solution_of

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
    _shape(msg("ch07.shape.gpt2"), 12, 12, 12, 64),        # GPT-2, no grouping
    _shape(msg("ch07.shape.falcon"), 32, 71, 1, 64),       # Falcon-7B, multi-query
    _shape("Qwen2-0.5B", 24, 14, 2, 64),
]


def _describe(model):
    name = getattr(model, "name", None) or msg("ch07.the_model")
    return msg("ch07.model", name=name, n_layers=model.n_layers, n_heads=model.n_heads,
               n_kv_heads=model.n_kv_heads, head_dim=model.head_dim)


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
         msg("ch07.kv_cache_bytes.query_heads")),
        (lambda m, t, b: _kv_cache_bytes(m, t, b) // 2, msg("ch07.kv_cache_bytes.half")),
        (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * 4 * t,
         msg("ch07.kv_cache_bytes.typed_in", n=4)),
        (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * 2 * t,
         msg("ch07.kv_cache_bytes.typed_in", n=2)),
        (lambda m, t, b: _kv_cache_bytes(m, t, b) // m.n_layers,
         msg("ch07.kv_cache_bytes.one_layer")),
        (lambda m, t, b: _kv_cache_bytes(m, t, b) * 8, msg("ch07.kv_cache_bytes.bits")),
        (lambda m, t, b: _kv_cache_bytes(m, 1, b), msg("ch07.kv_cache_bytes.per_token")),
        (lambda m, t, b: _kv_cache_bytes(lm, t, b), msg("ch07.kv_cache_bytes.uses_lm")),
    ]
    return check_function(fn, _kv_cache_bytes, cases, "kv_cache_bytes", mistakes=mistakes,
                          describe=lambda c: msg("ch07.kv_cache_bytes.case",
                                                 model=_describe(c[0]), tokens=c[1],
                                                 bytes_per_number=c[2]),
                          hint=msg("ch07.kv_cache_bytes.hint"))


def _times_bigger(model) -> float:
    return model.n_heads / model.n_kv_heads


def check_times_bigger(fn, lm):
    """Exercise 2: fn(model) -> how many times bigger the cache would be without grouping."""
    mistakes = [
        (lambda m: m.n_kv_heads, msg("ch07.times_bigger.kv_heads")),
        (lambda m: m.n_heads, msg("ch07.times_bigger.query_heads")),
        (lambda m: m.n_kv_heads / m.n_heads, msg("ch07.times_bigger.upside_down")),
        (lambda m: m.n_heads - m.n_kv_heads, msg("ch07.times_bigger.difference")),
        (lambda m: _times_bigger(lm), msg("ch07.times_bigger.uses_lm")),
    ]
    return check_function(fn, _times_bigger, [(lm,)] + [(m,) for m in OTHER_SHAPES],
                          "times_bigger", mistakes=mistakes,
                          describe=lambda c: _describe(c[0]),
                          hint=msg("ch07.times_bigger.hint"))


def check_decode_bounds(bound_fp32, bound_4bit, lm):
    """Exercise 3: tokens/s bounds at BANDWIDTH for float32 and for 4-bit weights."""
    n_params = sum(p.numel() for p in lm.model.parameters())
    fp32_bytes = n_params * 4
    gib = 20 * 2**30
    fp32 = check_close(bound_fp32, BANDWIDTH / fp32_bytes, msg("ch07.decode_bounds.fp32"),
                       rtol=1e-3, mistakes=[
                           (fp32_bytes / BANDWIDTH, msg("ch07.decode_bounds.seconds")),
                           (gib / fp32_bytes, msg("ch07.decode_bounds.gib")),
                           (BANDWIDTH / n_params, msg("ch07.decode_bounds.one_byte")),
                           (BANDWIDTH / (fp32_bytes * 8), msg("ch07.decode_bounds.bits")),
                       ],
                       hint=msg("ch07.decode_bounds.fp32_hint"))
    if not fp32:
        return fp32
    return check_close(bound_4bit, BANDWIDTH / (n_params * 0.5), msg("ch07.decode_bounds.4bit"),
                       rtol=1e-3, mistakes=[
                           (BANDWIDTH / (fp32_bytes * 0.5), msg("ch07.decode_bounds.fp32_bytes")),
                           (BANDWIDTH / (n_params * 4), msg("ch07.decode_bounds.4_bytes")),
                           (BANDWIDTH / (n_params * 5 / 8), msg("ch07.decode_bounds.q4_1")),
                           (gib / (n_params * 0.5), msg("ch07.decode_bounds.gib")),
                           (bound_fp32 / 8 if isinstance(bound_fp32, (int, float)) else None,
                            msg("ch07.decode_bounds.divided")),
                       ],
                       hint=msg("ch07.decode_bounds.4bit_hint"))
