"""Notebook 04's exercise checks: worked solutions pass, real slips fail with their message,
including slips that SmolLM2's own numbers would let through (eps = 1e-5 on large vectors)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from helpers.attribution import logit_attribution, residual_writes
from helpers.embeddings import final_norm, residual_stream
from helpers.exercises import ch04
from exercise_language import assert_every_mistake_speaks

TEXT = "The capital of France is"


@pytest.fixture
def block0(tiny_llama):  # RMSNorm: the Llama family
    norm = tiny_llama.model.model.layers[0].input_layernorm
    return residual_stream(tiny_llama, TEXT)[0], norm.weight.detach(), norm.variance_epsilon


def test_rms_norm_solution_passes(block0):
    def mine(x, weight, eps):
        return weight * x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)
    assert ch04.check_rms_norm(mine, *block0)
    assert ch04.check_rms_norm(lambda x, w, e: w * x * torch.rsqrt((x * x).mean(-1, True) + e),
                               *block0)


@pytest.mark.parametrize("wrong, slip", [
    (lambda x, w, e: x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + e), "weight is missing"),
    (lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(-1, keepdim=True)), "eps is missing"),
    (lambda x, w, e: w * x / (torch.sqrt(x.pow(2).mean(-1, keepdim=True)) + e), "inside the"),
    (lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(0, keepdim=True) + e), "dim 0"),
    (lambda x, w, e: w * x / torch.sqrt(x.pow(2).sum(-1, keepdim=True) + e), "take the mean"),
    (lambda x, w, e: w * x / (x.pow(2).mean(-1, keepdim=True) + e), "square root is missing"),
    (lambda x, w, e: w * (x - x.mean(-1, keepdim=True))
     / torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + e), "LayerNorm"),
    (lambda x, w, e: ..., "still empty"),
    (lambda x, w, e: x.norm(), "Wrong for"),
])
def test_rms_norm_slips(block0, wrong, slip):
    result = ch04.check_rms_norm(wrong, *block0)
    assert not result and slip in result.message, result.message


@pytest.mark.slow
def test_rms_norm_without_eps_fails_on_the_embedded_model(embedded_lm):
    """eps = 1e-5 changes SmolLM2's normed embeddings by under 0.1%: named all the same."""
    norm = embedded_lm.model.model.layers[0].input_layernorm
    x = residual_stream(embedded_lm, TEXT)[0]
    with torch.no_grad():
        no_eps = norm.weight * x / torch.sqrt(x.pow(2).mean(-1, keepdim=True))
        assert torch.allclose(no_eps, norm(x), rtol=1e-3, atol=0)
    result = ch04.check_rms_norm(lambda x, w, e: w * x / torch.sqrt(x.pow(2).mean(-1, True)),
                                 x, norm.weight.detach(), norm.variance_epsilon)
    assert not result and "eps is missing" in result.message


GATE = torch.randn(5, 16, generator=torch.Generator().manual_seed(1)) * 3


def test_silu_solutions_pass():
    assert ch04.check_silu(lambda z: z * torch.sigmoid(z), GATE)
    assert ch04.check_silu(lambda z: z / (1 + torch.exp(-z)), GATE)


@pytest.mark.parametrize("wrong, slip", [
    (torch.sigmoid, "sigmoid alone"), (torch.relu, "ReLU"),
    (lambda z: z * torch.sigmoid(-z), "flipped"),
    (F.gelu, "GELU"), (lambda z: z * torch.tanh(z), "tanh"), (F.softplus, "softplus"),
    (lambda z: ..., "still empty"),
    (GATE * torch.sigmoid(GATE), "should be a function"),
])
def test_silu_slips(wrong, slip):
    result = ch04.check_silu(wrong, GATE)
    assert not result and slip in result.message, result.message


def _top(lm, vector, normed=True):
    with torch.no_grad():
        return int(lm.model.get_output_embeddings()(final_norm(lm)(vector) if normed else vector)
                   .argmax())


@pytest.mark.slow
def test_top_after_solution_passes(embedded_lm):
    stream = residual_stream(embedded_lm, TEXT)
    assert ch04.check_top_after(lambda n: _top(embedded_lm, stream[n, -1]), embedded_lm, stream)
    assert ch04.check_top_after(
        lambda n: embedded_lm.model.lm_head(final_norm(embedded_lm)(stream[n, -1])).argmax(),
        embedded_lm, stream)   # a 0-d tensor is fine


@pytest.mark.parametrize("mutation, slip", [
    ("no norm", "final norm is missing"), ("next", "Off by one"), ("previous", "Off by one"),
    ("first position", "first position"), ("always last", "always the last"),
])
@pytest.mark.slow
def test_top_after_slips(embedded_lm, mutation, slip):
    stream = residual_stream(embedded_lm, TEXT)
    wrong = {
        "no norm": lambda n: _top(embedded_lm, stream[n, -1], normed=False),
        "next": lambda n: _top(embedded_lm, stream[min(n + 1, 30), -1]),
        "previous": lambda n: _top(embedded_lm, stream[n - 1, -1]),
        "first position": lambda n: _top(embedded_lm, stream[n, 0]),
        "always last": lambda n: _top(embedded_lm, stream[-1, -1]),
    }[mutation]
    result = ch04.check_top_after(wrong, embedded_lm, stream)
    assert not result and slip in result.message, result.message


@pytest.fixture
def share_parts(tiny_llama):  # the notebook's share has no centering: the Llama family
    target = tiny_llama.decode([7])
    parts = logit_attribution(tiny_llama, TEXT, target)
    weight = final_norm(tiny_llama).weight.detach()
    row = tiny_llama.model.get_output_embeddings().weight[parts.target_id].detach()
    return parts, residual_writes(tiny_llama, TEXT), weight, row


def test_share_solution_passes(share_parts):
    parts, writes, weight, row = share_parts
    assert ch04.check_share(lambda c, w, s, r: (w * c * s) @ r, *share_parts)
    assert ch04.check_share(lambda c, w, s, r: torch.dot(c * w, r) * s, *share_parts)


@pytest.mark.parametrize("mutation, slip", [
    ("no scale", "frozen scale"), ("no weight", "weight is missing"), ("bare", "Both"),
    ("own rms", "its own rms"), ("divided", "Divided by the scale"), ("empty", "still empty"),
])
def test_share_slips(share_parts, mutation, slip):
    parts, writes, weight, row = share_parts
    wrong = {
        "no scale": lambda c, w, s, r: (w * c) @ r,
        "no weight": lambda c, w, s, r: (c * s) @ r,   # right on the tiny model: its weight is 1
        "bare": lambda c, w, s, r: c @ r,
        "own rms": lambda c, w, s, r: (w * c * torch.rsqrt(c.pow(2).mean() + 1e-5)) @ r,
        "divided": lambda c, w, s, r: (w * c / s) @ r,
        "empty": lambda c, w, s, r: ...,
    }[mutation]
    result = ch04.check_share(wrong, *share_parts)
    assert not result and slip in result.message, result.message


@pytest.mark.parametrize("name", ["rms_norm", "silu", "top_after", "share"])
def test_every_mistake_in_chinese(name, block0, share_parts, tiny_llama):
    stream = residual_stream(tiny_llama, TEXT)
    calls = {"rms_norm": lambda check, answer: check(answer, *block0),
             "silu": lambda check, answer: check(answer, torch.linspace(-3, 3, 7)),
             "top_after": lambda check, answer: check(answer, tiny_llama, stream),
             "share": lambda check, answer: check(answer, *share_parts)}
    assert assert_every_mistake_speaks("zh", getattr(ch04, f"check_{name}"), calls[name])
