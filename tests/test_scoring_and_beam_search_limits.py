"""Scoring and beam search on long inputs: read in chunks equal to one pass, within bounds on beams
and KV cache, and a tiny scoring temperature that gives the limit, not NaN."""

from __future__ import annotations

import math

import pytest
import torch


def _fed_lengths(lm):
    """Record the number of positions of every forward pass of lm.model."""
    seen = []
    hook = lm.model.register_forward_pre_hook(
        lambda m, args, kwargs: seen.append(kwargs.get("input_ids", args[0] if args else None)
                                            .shape[-1]), with_kwargs=True)
    return seen, hook


def test_long_texts_are_scored_in_chunks_equal_to_one_pass(tiny_lm, monkeypatch):
    import helpers.scoring as scoring

    text = "The clock ticks once for every token. A tick is one forward pass."
    ids = tiny_lm.encode(text)
    assert len(ids) > 12
    whole = scoring.token_logprobs(tiny_lm, ids)  # one pass: fewer tokens than a chunk
    with torch.no_grad():
        logits = tiny_lm.model(torch.tensor([ids])).logits[0, :-1]
    expected = torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
    torch.testing.assert_close(whole.logprobs, expected)
    monkeypatch.setattr(scoring, "SCORE_CHUNK", 5)
    seen, hook = _fed_lengths(tiny_lm)
    try:
        chunked = scoring.token_logprobs(tiny_lm, ids)
    finally:
        hook.remove()
    assert max(seen) == 5 and sum(seen) == len(ids) - 1  # the last token is never fed
    torch.testing.assert_close(chunked.logprobs, whole.logprobs, atol=1e-5, rtol=1e-5)


def test_a_tiny_scoring_temperature_gives_the_limit_not_nan(tiny_lm):
    from helpers.scoring import perplexity, token_logprobs

    text = "The capital of France is Paris."
    ids = tiny_lm.encode_prompt(text)   # as scoring reads a text (Gemma: <bos> first)
    scores = token_logprobs(tiny_lm, text, temperature=1e-300)
    assert not torch.isnan(scores.logprobs).any()
    with torch.no_grad():
        best = tiny_lm.model(torch.tensor([ids])).logits[0, :-1].argmax(-1)
    hit = best == torch.tensor(ids[1:])
    assert torch.equal(scores.logprobs == 0, hit) and torch.isinf(scores.logprobs[~hit]).all()
    assert perplexity(tiny_lm, text, temperature=1e-300) == (1.0 if hit.all() else math.inf)


def test_beam_search_reads_a_long_prompt_once_in_chunks(tiny_lm, monkeypatch):
    import helpers.clock as clock_module
    from helpers.decoding import beam_search

    ids = tiny_lm.encode("The clock ticks once for every token. A tick is")
    expected = beam_search(tiny_lm, ids, 3, 5)
    monkeypatch.setattr(clock_module, "PREFILL_CHUNK", 4)
    seen, hook = _fed_lengths(tiny_lm)
    try:
        assert beam_search(tiny_lm, ids, 3, 5) == expected
    finally:
        hook.remove()
    assert max(seen) == 4  # never B copies of the whole prompt at once


def test_beam_search_bounds_beams_and_cache(tiny_lm, monkeypatch):
    import helpers.decoding as decoding

    with pytest.raises(ValueError, match="num_beams must be a whole number >= 1 up to 64"):
        decoding.beam_search(tiny_lm, "The clock", 65, 2)
    monkeypatch.setattr(decoding, "BEAM_CACHE_BYTES", 10**5)
    per = decoding.kv_bytes_per_position(tiny_lm)
    assert per == 2 * tiny_lm.n_layers * tiny_lm.n_kv_heads * tiny_lm.head_dim * 4
    bound = r"\d [KMG]iB of KV cache.*at most 97.7 KiB: use fewer beams"  # 10**5 bytes
    with pytest.raises(ValueError, match=bound):
        decoding.beam_search(tiny_lm, "The clock", 20, 20)
