"""Speculative decoding gives plain greedy's tokens, whatever the drafts, in fewer passes."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.chat import encode_chat
from helpers.speculative import generate_speculatively, model_draft, prompt_lookup_draft

TINY_PROMPT = "The capital of France is Paris. The capital of"


def plain(lm, prompt, n, **kw):
    return generate_speculatively(lm, prompt, n, draft_len=0, **kw)


def hf_greedy(lm, prompt, n, stop_at_end=False):
    # ids as they are, a text as generate_speculatively reads it (Gemma: <bos> first)
    ids = torch.tensor([prompt if isinstance(prompt, list) else lm.encode_prompt(prompt)])
    # min_new_tokens keeps generate going through end-of-text tokens, like stop_at_end=False
    out = lm.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=n,
                            min_new_tokens=None if stop_at_end else n, do_sample=False,
                            pad_token_id=lm.tokenizer.eos_token_id)
    return out[0, ids.shape[1]:].tolist()


def oracle(truth, prompt_len, wrong=False, vocab=None):
    """A draft function that knows the greedy continuation (or always proposes a wrong token)."""
    def draft(context, k):
        done = len(context) - prompt_len
        guess = truth[done:done + k]
        return [(t + 1) % vocab for t in guess] if wrong else guess
    return draft


def test_prompt_lookup_copies_the_latest_match():
    ids = [1, 2, 3, 9, 1, 2, 4, 5, 1, 2]
    assert prompt_lookup_draft(ids, 2) == [4, 5]           # latest "1 2", not the first
    assert prompt_lookup_draft(ids, 10) == [4, 5, 1, 2]     # stops at the end of the context
    assert prompt_lookup_draft([7, 8, 9], 3) == []          # nothing repeats
    assert prompt_lookup_draft([5, 6, 5, 6, 7, 5, 6], 2, max_ngram=3) == [7, 5]
    assert prompt_lookup_draft([4, 4, 4], 3) == [4]         # overlapping match: one token follows


@pytest.mark.parametrize("k", [1, 3, 5])
def test_equals_plain_greedy_and_generate_on_tiny_models(any_family_lm, k):
    n = 16
    base = plain(any_family_lm, TINY_PROMPT, n, stop_at_end=False)
    assert base.forward_passes == n and base.drafted == 0
    assert base.new_ids == hf_greedy(any_family_lm, TINY_PROMPT, n)
    spec = generate_speculatively(any_family_lm, TINY_PROMPT, n, draft_len=k, stop_at_end=False)
    assert spec.new_ids == base.new_ids
    assert spec.forward_passes == n - spec.accepted      # each accepted draft saved one pass


def test_always_right_and_always_wrong_drafts(tiny_lm):
    n, k = 18, 4
    prompt_len = len(tiny_lm.encode_prompt(TINY_PROMPT))
    truth = plain(tiny_lm, TINY_PROMPT, n, stop_at_end=False).new_ids
    right = generate_speculatively(tiny_lm, TINY_PROMPT, n, draft_len=k, stop_at_end=False,
                                   draft=oracle(truth, prompt_len))
    assert right.new_ids == truth
    # prefill, then every pass accepts k drafts and adds its own token: k + 1 tokens per pass
    assert right.forward_passes == 1 + math.ceil((n - 1) / (k + 1))
    assert all(s.accepted == len(s.drafted) for s in right.steps)
    wrong = generate_speculatively(
        tiny_lm, TINY_PROMPT, n, draft_len=k, stop_at_end=False,
        draft=oracle(truth, prompt_len, wrong=True, vocab=tiny_lm.vocab_size))
    assert wrong.new_ids == truth
    assert wrong.accepted == 0 and wrong.forward_passes == n and wrong.drafted > 0


def test_draft_model_of_the_same_tokenizer(tiny_gpt2_dir, tiny_llama_dir):
    from helpers import load_model

    target, small = load_model(str(tiny_gpt2_dir)), load_model(str(tiny_llama_dir))
    result = generate_speculatively(target, TINY_PROMPT, 12, draft_len=3, stop_at_end=False,
                                    draft=model_draft(small, target))
    assert result.new_ids == plain(target, TINY_PROMPT, 12, stop_at_end=False).new_ids
    assert result.drafted > 0


def test_stops_after_end_of_text_like_plain_greedy(tiny_lm):
    prompt_len = len(tiny_lm.encode_prompt(TINY_PROMPT))
    eos = tiny_lm.tokenizer.eos_token_id
    truth = plain(tiny_lm, TINY_PROMPT, 6, stop_at_end=False).new_ids

    def draft(context, k):   # right for 3 tokens, then proposes end of text, then more
        return (truth[:3] + [eos, 5, 6])[len(context) - prompt_len:][:k]

    forced = generate_speculatively(tiny_lm, TINY_PROMPT, 20, draft_len=5, draft=draft)
    assert forced.new_ids == plain(tiny_lm, TINY_PROMPT, 20).new_ids
    assert len(forced.new_ids) <= 20


def test_bad_input_gets_a_clear_message(tiny_lm):
    with pytest.raises(ValueError, match="draft_len"):
        generate_speculatively(tiny_lm, "Hello", 5, draft_len=-1)
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate_speculatively(tiny_lm, "Hello", 0)
    with pytest.raises(ValueError, match="empty"):
        generate_speculatively(tiny_lm, "", 5)
    with pytest.raises(ValueError, match="outside"):
        generate_speculatively(tiny_lm, "Hello", 5, draft=lambda ids, k: [10**9])


def test_context_full_stops_cleanly(tiny_lm):
    prompt = tiny_lm.encode(TINY_PROMPT * 10)[: tiny_lm.context_length - 3]
    result = generate_speculatively(tiny_lm, prompt, 10, draft_len=4, stop_at_end=False)
    assert len(prompt) + len(result.new_ids) == tiny_lm.context_length
    assert result.stop_reason == "context full"
    assert result.new_ids == plain(tiny_lm, prompt, 10, stop_at_end=False).new_ids


REPEAT = ("Repeat this text word for word:\n\nA language model writes one token per tick. "
          "Each tick reads the context, runs thirty layers of attention and MLP, and turns the "
          "last vector into a probability for every token in the vocabulary.")


@pytest.mark.slow
def test_embedded_model_same_tokens_fewer_passes(embedded_lm):
    lm = embedded_lm
    prompt = encode_chat(lm.tokenizer, REPEAT)[1]   # ids: the chat template around REPEAT
    base = plain(lm, prompt, 40)
    assert base.stop_reason == "end of text"
    assert base.new_ids == hf_greedy(lm, prompt, 40, stop_at_end=True)
    for k in (2, 5, 8):
        spec = generate_speculatively(lm, prompt, 40, draft_len=k)
        assert spec.new_ids == base.new_ids, k
        # the model copies the quoted text, so most drafts are right: deterministic counts
        assert spec.forward_passes <= base.forward_passes / 2, spec.stats
    prose = "Once upon a time, in a small village by the sea, there lived"
    spec = generate_speculatively(lm, prose, 24, draft_len=4)
    assert spec.new_ids == plain(lm, prose, 24).new_ids
