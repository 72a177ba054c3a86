"""Notebook 07's exercise checks: worked solutions pass, real slips fail with their message,
including the ones that coincide on SmolLM2 (9 query heads / 3 KV heads = 3 = n_kv_heads)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from helpers.exercises import ch07
from exercise_language import assert_answers_speak, assert_every_mistake_speaks

# SmolLM2-135M's shape, without loading it
SMOL = SimpleNamespace(name="SmolLM2-135M", n_layers=30, n_heads=9, n_kv_heads=3, head_dim=64,
                       d_model=576)


def kv_cache_bytes(model, tokens, bytes_per_number):   # the worked solution
    return model.n_layers * model.n_kv_heads * model.head_dim * 2 * bytes_per_number * tokens


def test_kv_cache_bytes_solution_passes():
    assert ch07.check_kv_cache_bytes(kv_cache_bytes, SMOL)
    assert ch07.check_kv_cache_bytes(
        lambda m, t, b: 2 * t * b * m.n_layers * m.n_kv_heads * m.head_dim, SMOL)


@pytest.mark.parametrize("wrong, slip", [
    (lambda m, t, b: m.n_layers * m.n_heads * m.head_dim * 2 * b * t, "every query head"),
    (lambda m, t, b: m.n_layers * m.d_model * 2 * b * t, "every query head"),
    (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * b * t, "a key AND a value"),
    (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * 4 * t, "(4 typed in)"),
    (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * 2 * t, "(2 typed in)"),
    (lambda m, t, b: m.n_kv_heads * m.head_dim * 2 * b * t, "one layer's cache"),
    (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * b * t * 8, "bits, not bytes"),
    (lambda m, t, b: m.n_layers * m.n_kv_heads * m.head_dim * 2 * b, "per token"),
    (lambda m, t, b: kv_cache_bytes(SMOL, t, b), "uses lm"),
    (lambda m, t, b: 30 * 3 * 64 * 2 * 2 * 1000, "Wrong for"),          # the number typed in
    (lambda m, t: kv_cache_bytes(m, t, 2), "TypeError"),
    (lambda m, t, b: None, "returned None"),
    (kv_cache_bytes(SMOL, 1000, 2), "should be a function"),
    (..., "still empty"),
])
def test_kv_cache_bytes_slips(wrong, slip):
    result = ch07.check_kv_cache_bytes(wrong, SMOL)
    assert not result and slip in result.message, result.message


def times_bigger(model):   # the worked solution
    return model.n_heads // model.n_kv_heads


@pytest.mark.parametrize("right", [times_bigger, lambda m: m.n_heads / m.n_kv_heads])
def test_times_bigger_solutions_pass(right):
    assert ch07.check_times_bigger(right, SMOL)


@pytest.mark.parametrize("wrong, slip", [
    (lambda m: m.n_kv_heads, "by coincidence"),
    (lambda m: m.n_heads, "number of query heads"),
    (lambda m: m.n_kv_heads / m.n_heads, "upside down"),
    (lambda m: m.n_heads - m.n_kv_heads, "how many more heads"),
    (lambda m: SMOL.n_heads // SMOL.n_kv_heads, "uses lm"),
    (lambda m: 3, "uses lm"),
    (lambda: 3, "TypeError"),
])
def test_times_bigger_slips(wrong, slip):
    if slip in ("by coincidence", "uses lm"):
        assert wrong(SMOL) == times_bigger(SMOL), "right on SmolLM2 alone"
    result = ch07.check_times_bigger(wrong, SMOL)
    assert not result and slip in result.message, result.message


@pytest.fixture(scope="module")
def fake_lm():
    torch.manual_seed(0)
    return SimpleNamespace(model=torch.nn.Sequential(torch.nn.Linear(1000, 1000),
                                                     torch.nn.Linear(1000, 35)))


def test_decode_bounds(fake_lm):
    n_params = sum(p.numel() for p in fake_lm.model.parameters())
    weight_bytes = n_params * 4
    right_fp32, right_4bit = 20e9 / weight_bytes, 20e9 / (weight_bytes / 4 * 0.5)
    assert ch07.check_decode_bounds(right_fp32, right_4bit, fake_lm)
    for fp32, slip in [(weight_bytes / 20e9, "seconds per token"),
                       (20 * 2**30 / weight_bytes, "decimal"),
                       (20e9 / n_params, "one byte per parameter"),
                       (20e9 / weight_bytes / 8, "divides by bits"),
                       (None, "still empty")]:
        result = ch07.check_decode_bounds(fp32, right_4bit, fake_lm)
        assert not result and slip in result.message, result.message
    for four_bit, slip in [(20e9 / (weight_bytes * 0.5), "already float32 bytes"),
                           (20e9 / (n_params * 4), "not 4 bytes"),
                           (20e9 / (n_params * 5 / 8), "5 bits"),
                           (20 * 2**30 / (n_params * 0.5), "not 20 × 2³⁰"),
                           (right_fp32 / 8, "multiply"),
                           (right_4bit * 1.1, "Largest difference")]:
        result = ch07.check_decode_bounds(right_fp32, four_bit, fake_lm)
        assert not result and slip in result.message, result.message
        assert f"{right_4bit:.0f}" not in result.message


def test_the_other_shapes_break_the_coincidences():
    for m in ch07.OTHER_SHAPES:
        assert m.n_heads // m.n_kv_heads != m.n_kv_heads
        assert m.n_heads % m.n_kv_heads == 0 or m.n_kv_heads == 1


@pytest.mark.parametrize("name", ["kv_cache_bytes", "times_bigger", "decode_bounds",
                                  "decode_bounds_4bit"])
def test_every_mistake_in_chinese(name, fake_lm):
    right_fp32 = 20e9 / (sum(p.numel() for p in fake_lm.model.parameters()) * 4)
    calls = {"kv_cache_bytes": lambda check, answer: check(answer, SMOL),
             "times_bigger": lambda check, answer: check(answer, SMOL),
             "decode_bounds": lambda check, answer: check(answer, 1.0, fake_lm),
             "decode_bounds_4bit": lambda check, answer: check(right_fp32, answer, fake_lm)}
    check = getattr(ch07, f"check_{name.removesuffix('_4bit')}")
    assert assert_every_mistake_speaks("zh", check, calls[name])


def test_the_other_shapes_are_named_in_chinese():
    def head_dim_64(model, tokens, bytes_per_number):   # wrong for Llama-3-8B's 128
        return model.n_layers * model.n_kv_heads * 64 * 2 * bytes_per_number * tokens

    def falcon_wrong(model):
        return 70.0 if model.n_kv_heads == 1 else model.n_heads / model.n_kv_heads
    assert_answers_speak("zh", ch07.check_kv_cache_bytes, lambda check, fn: check(fn, SMOL),
                         [head_dim_64])
    assert_answers_speak("zh", ch07.check_times_bigger, lambda check, fn: check(fn, SMOL),
                         [falcon_wrong, lambda model: 3])
    from helpers.exercises.zh import ch07 as ch07_zh

    result = ch07_zh.check_times_bigger(falcon_wrong, SMOL)
    assert "Falcon-7B（多查询）" in result.message and "multi-query" not in result.message
