"""Batched greedy decoding with left padding gives each prompt what it gets alone."""

from __future__ import annotations

import pytest
import torch

from helpers.batching import greedy_batch, left_pad, position_ids
from helpers.speculative import generate_speculatively

PROMPTS = ["The capital of France is", "A tick", "Attention looks back over the context; the",
           "1 2 3"]


def test_left_padding_and_mask(tiny_lm):
    ids, mask = left_pad(tiny_lm, ["The clock", "The capital of France is"])
    # read as prompts, as the clock reads them (Gemma: <bos> first)
    short, long_ = (tiny_lm.encode_prompt(t) for t in ("The clock", "The capital of France is"))
    pad = len(long_) - len(short)
    assert ids.shape == mask.shape == (2, len(long_))
    assert ids[0, pad:].tolist() == short and ids[1].tolist() == long_
    assert mask[0].tolist() == [0] * pad + [1] * len(short) and mask[1].all()
    assert position_ids(mask)[0, pad:].tolist() == list(range(len(short)))


def test_batched_equals_alone_on_tiny_models(any_family_lm):
    batch = greedy_batch(any_family_lm, PROMPTS, 8, keep_logits=True)
    for i, prompt in enumerate(PROMPTS):
        alone = greedy_batch(any_family_lm, [prompt], 8, keep_logits=True)
        assert batch.new_ids[i] == alone.new_ids[0]
        plain = generate_speculatively(any_family_lm, prompt, 8, draft_len=0, stop_at_end=False)
        assert batch.new_ids[i] == plain.new_ids
        # float32 rounding differs between batched and single products: close, not equal
        assert torch.allclose(batch.logits[i], alone.logits[0], atol=1e-4, rtol=1e-4)


def test_padding_matters_when_positions_are_wrong(tiny_gpt2_dir):
    """A check that can fail: without the mask, the padded prompt's logits change."""
    from helpers import load_model

    lm = load_model(str(tiny_gpt2_dir))
    ids, mask = left_pad(lm, PROMPTS[:2])
    with torch.inference_mode():
        right = lm.model(input_ids=ids, attention_mask=mask, position_ids=position_ids(mask)).logits
        wrong = lm.model(input_ids=ids).logits
    assert not torch.allclose(right[1, -1], wrong[1, -1], atol=1e-3)


def test_bad_input(tiny_lm):
    with pytest.raises(ValueError, match="list of prompts"):
        left_pad(tiny_lm, "one string")
    with pytest.raises(ValueError, match="empty"):
        greedy_batch(tiny_lm, ["Hi", ""], 3)
    with pytest.raises(ValueError, match="context"):
        greedy_batch(tiny_lm, ["Hi"], tiny_lm.context_length)


@pytest.mark.slow
def test_batched_equals_alone_on_embedded_model(embedded_lm):
    lm = embedded_lm
    batch = greedy_batch(lm, PROMPTS, 10, keep_logits=True)
    assert len(batch.tick_ms) == 10
    for i, prompt in enumerate(PROMPTS):
        alone = greedy_batch(lm, [prompt], 10, keep_logits=True)
        assert batch.new_ids[i] == alone.new_ids[0]
        assert (batch.logits[i] - alone.logits[0]).abs().max() < 1e-3
