"""helpers.attribution: the residual writes sum to the stream, and the logit's shares (frozen
final-norm scale) sum to the model's own logit, for RMSNorm (Llama, Gemma 3) and LayerNorm
(GPT-2)."""

from __future__ import annotations

import pytest
import torch

from helpers.attribution import logit_attribution, residual_writes
from helpers.embeddings import residual_stream

TEXT = "The capital of France is"


def _logits(lm, text):
    with torch.no_grad():
        return lm.model(torch.tensor([lm.encode_prompt(text)])).logits[0, -1]


def test_the_writes_add_up_to_the_stream_block_by_block(any_family_lm):
    writes = residual_writes(any_family_lm, TEXT)
    stream = residual_stream(any_family_lm, TEXT)
    torch.testing.assert_close(writes.embedding, stream[0])
    for n in range(any_family_lm.n_layers):
        torch.testing.assert_close(stream[n] + writes.attention[n] + writes.mlp[n], stream[n + 1],
                                   atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(writes.final, stream[-1])


@pytest.fixture
def norm_with_bias(any_family_lm):
    """GPT-2's final LayerNorm starts with a zero bias; give it one for the test, then restore."""
    from helpers.embeddings import final_norm

    bias = getattr(final_norm(any_family_lm), "bias", None)
    if bias is None:
        yield any_family_lm
        return
    saved = bias.detach().clone()
    with torch.no_grad():
        bias.copy_(torch.randn(bias.shape, generator=torch.Generator().manual_seed(0)))
    try:
        yield any_family_lm
    finally:
        with torch.no_grad():
            bias.copy_(saved)


def test_the_shares_sum_to_the_models_own_logit(norm_with_bias):
    any_family_lm = norm_with_bias
    logits = _logits(any_family_lm, TEXT)
    # any token: the least likely one that is a word of its own (not a byte fragment)
    words = (any_family_lm.decode([i]) for i in logits.argsort().tolist())
    target = next(w for w in words if len(any_family_lm.encode(w)) == 1)
    parts = logit_attribution(any_family_lm, TEXT, target)
    assert parts.logit == pytest.approx(float(logits[parts.target_id]), abs=1e-5)
    assert parts.total == pytest.approx(parts.logit, abs=1e-4)
    assert parts.attention.shape == parts.mlp.shape == (any_family_lm.n_layers,)
    if any_family_lm.family == "gpt2":
        assert parts.norm_bias != 0.0   # LayerNorm's bias is a part of its own
    else:
        assert parts.norm_bias == 0.0


def test_a_share_is_the_frozen_linear_map_of_its_write(any_family_lm):
    """Block 1's MLP share by hand: scale, norm weight, (centering for GPT-2), unembedding row."""
    parts = logit_attribution(any_family_lm, TEXT, any_family_lm.decode([5]))
    c = residual_writes(any_family_lm, TEXT).mlp[1, -1]
    from helpers.anatomy import anatomy

    if any_family_lm.family == "gpt2":
        c = c - c.mean()
    w = anatomy(any_family_lm).final_norm.weight   # Gemma 3: 1 + the stored weight
    row = any_family_lm.model.get_output_embeddings().weight[5].detach()
    assert float(parts.mlp[1]) == pytest.approx(float((w * c * parts.scale) @ row), rel=1e-4)


def test_bad_target_gives_a_clear_message(any_family_lm):
    with pytest.raises(ValueError, match="not one"):
        logit_attribution(any_family_lm, TEXT, " Paris is lovely")
    with pytest.raises(ValueError, match="empty"):
        logit_attribution(any_family_lm, "", " Paris")


@pytest.mark.slow
def test_attribution_on_the_embedded_model(embedded_lm):
    parts = logit_attribution(embedded_lm, TEXT, " Paris")
    model_logit = float(_logits(embedded_lm, TEXT)[parts.target_id])
    assert parts.logit == pytest.approx(model_logit, abs=1e-4)
    assert parts.total == pytest.approx(parts.logit, abs=1e-3)
    assert parts.norm_bias == 0.0 and parts.attention.shape == (30,)


def test_attribution_bars_show_every_share(any_family_lm):
    from helpers.plots.attribution import attribution_bars

    parts = logit_attribution(any_family_lm, TEXT, any_family_lm.decode([5]))
    fig = attribution_bars(parts)
    names = [trace.name for trace in fig.data]
    assert names == ["embedding / bias", "attention", "MLP"]
    assert list(fig.data[1].y) == pytest.approx(parts.attention.tolist())
    assert list(fig.data[2].y) == pytest.approx(parts.mlp.tolist())
    assert sum(sum(trace.y) for trace in fig.data) == pytest.approx(parts.total, abs=1e-4)
