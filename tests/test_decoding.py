"""helpers.decoding: beam search equals transformers' generate; penalties match their definitions;
helpers.ablation: zeroing a head removes exactly its share of the attention output (GPT-2, Llama,
Gemma 3)."""

from __future__ import annotations

import pytest
import torch

from helpers.ablation import copy_loss, heads_ablated, output_projection, token_losses
from helpers.attention import attention_weights, induction_scores, repeated_random_tokens
from helpers.chat import encode_chat
from helpers.decoding import (
    apply_frequency_penalty, apply_presence_penalty, beam_search, beam_search_steps,
    default_eos_ids, greedy_with_penalties, sequence_logprob,
)
from helpers.sampling import apply_repetition_penalty


def generate_beams(lm, ids, num_beams, max_new_tokens, length_penalty=1.0, early_stopping=False,
                   eos_ids=None):
    extra = {} if eos_ids is None else {"eos_token_id": list(eos_ids)}
    out = lm.model.generate(torch.tensor([ids]),
                            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                            num_beams=num_beams, do_sample=False, max_new_tokens=max_new_tokens,
                            length_penalty=length_penalty, early_stopping=early_stopping,
                            pad_token_id=lm.tokenizer.pad_token_id, **extra)
    return out[0, len(ids):].tolist()


def _first_greedy(lm, ids):
    with torch.no_grad():
        return int(lm.model(torch.tensor([ids])).logits[0, -1].argmax())


@pytest.mark.parametrize("num_beams, max_new_tokens", [(1, 5), (2, 1), (2, 7), (5, 4)])
@pytest.mark.parametrize("length_penalty", [1.0, 0.0, 2.0, -1.0])
def test_beam_search_equals_generate(tiny_lm, num_beams, max_new_tokens, length_penalty):
    ids = tiny_lm.encode("The clock ticks once")
    assert beam_search(tiny_lm, ids, num_beams, max_new_tokens, length_penalty) == \
        generate_beams(tiny_lm, ids, num_beams, max_new_tokens, length_penalty)


@pytest.mark.parametrize("early_stopping", [False, True, "never"])
@pytest.mark.parametrize("length_penalty", [1.0, 2.0, -0.5])
def test_beam_search_equals_generate_when_beams_finish_early(tiny_lm, early_stopping,
                                                             length_penalty):
    # The random tiny models rarely pick their real end token: make likely tokens end beams
    # (the greedy first token and one more) so the finishing rules are exercised.
    ids = tiny_lm.encode("The clock ticks once")
    eos = [_first_greedy(tiny_lm, ids), tiny_lm.encode(" the")[0]]
    search = beam_search_steps(tiny_lm, ids, 3, 8, length_penalty, early_stopping, eos)
    assert any(c.fate.startswith("finished") for s in search.steps for c in s.candidates)
    assert list(search.best) == generate_beams(tiny_lm, ids, 3, 8, length_penalty,
                                               early_stopping, eos)


def test_beam_search_accepts_text_and_defaults_to_generation_config_eos(tiny_lm):
    ids = tiny_lm.encode_prompt("The capital of France is")   # a text is read as a prompt
    assert default_eos_ids(tiny_lm) == [tiny_lm.tokenizer.eos_token_id]
    assert beam_search(tiny_lm, "The capital of France is", 2, 5) == \
        generate_beams(tiny_lm, ids, 2, 5)


def test_beam_steps_record_the_tree(tiny_lm):
    search = beam_search_steps(tiny_lm, "The clock ticks once", 3, 5)
    assert len(search.steps) == 5
    first = search.steps[0]
    assert {c.parent for c in first.candidates} == {0}           # only beam 0 counts at first
    for step in search.steps:
        scores = [c.score for c in step.candidates]
        assert scores == sorted(scores, reverse=True) and len(scores) == 6
        assert sum(c.fate == "runs on" for c in step.candidates) == 3 or step is search.steps[-1]
        for beam, score in zip(step.running, step.running_scores):
            if step is not search.steps[-1]:
                assert len(beam) == step.index + 1
                assert sequence_logprob(tiny_lm, "The clock ticks once", beam) == \
                    pytest.approx(score, abs=1e-4)
    # The best beam's score is its sum of log-probs / length ** length_penalty (1.0 here).
    total = sequence_logprob(tiny_lm, "The clock ticks once", search.best)
    assert search.best_score == pytest.approx(total / len(search.best), abs=1e-4)


def test_one_beam_is_greedy(tiny_lm):
    ids = tiny_lm.encode("The clock")
    assert beam_search(tiny_lm, ids, 1, 6, eos_ids=[]) == greedy_with_penalties(tiny_lm, ids, 6)


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_beams=0), "num_beams"), (dict(max_new_tokens=0), "max_new_tokens"),
    (dict(early_stopping="yes"), "early_stopping"), (dict(max_new_tokens=500), "context"),
    (dict(length_penalty="1"), "length_penalty"),
])
def test_beam_search_bad_input_names_the_fix(tiny_lm, kwargs, message):
    settings = dict(num_beams=2, max_new_tokens=3) | kwargs
    with pytest.raises(ValueError, match=message):
        beam_search(tiny_lm, "The clock", **settings)
    with pytest.raises(ValueError, match="empty"):
        beam_search(tiny_lm, "", 2, 3)


@pytest.mark.slow
@pytest.mark.parametrize("num_beams, max_new_tokens, length_penalty", [(3, 8, 1.0), (2, 6, 0.0)])
def test_beam_search_equals_generate_on_the_embedded_model(embedded_lm, num_beams, max_new_tokens,
                                                           length_penalty):
    ids = embedded_lm.encode("The capital of France is")
    assert beam_search(embedded_lm, ids, num_beams, max_new_tokens, length_penalty) == \
        generate_beams(embedded_lm, ids, num_beams, max_new_tokens, length_penalty)


@pytest.mark.slow
def test_beam_search_on_a_chat_prompt_finishes_at_end_of_turn(embedded_lm):
    _, ids = encode_chat(embedded_lm.tokenizer, "What is the capital of France?")
    mine = beam_search(embedded_lm, ids, 2, 20)
    assert mine == generate_beams(embedded_lm, ids, 2, 20)
    assert mine[-1] == 2   # <|im_end|>: the beam finished by ending its turn


# ---------------------------------------------------------------- penalties

def test_frequency_and_presence_penalties_follow_their_definitions():
    logits = torch.tensor([2.0, -1.0, 0.5, 3.0, 0.0])
    previous = [3, 3, 1, 3, 7, -1]      # 7 and -1 are outside the vocabulary: ignored
    counts = torch.tensor([0.0, 1.0, 0.0, 3.0, 0.0])
    assert torch.equal(apply_frequency_penalty(logits, previous, 0.5), logits - 0.5 * counts)
    assert torch.equal(apply_presence_penalty(logits, previous, 0.5),
                       logits - 0.5 * (counts > 0).float())
    assert torch.equal(apply_frequency_penalty(logits, [], 2.0), logits)
    with pytest.raises(ValueError, match="1-D"):
        apply_presence_penalty(logits[None], previous, 1.0)
    # Bad input gets a message naming what to give, not a silent int() or a raw error.
    for bad_ids in ([3, 1.5], [True], [b"\x03"]):
        with pytest.raises(ValueError, match="whole number"):
            apply_frequency_penalty(logits, bad_ids, 0.5)
    for bad_penalty in (float("nan"), float("inf"), 1e9, "0.5", True):
        with pytest.raises(ValueError, match="presence_penalty"):
            apply_presence_penalty(logits, previous, bad_penalty)
        with pytest.raises(ValueError, match="frequency_penalty"):
            apply_frequency_penalty(logits, previous, bad_penalty)


def test_greedy_with_penalties_applies_each_penalty_every_tick(tiny_lm):
    ids = tiny_lm.encode("The clock ticks")
    new = greedy_with_penalties(tiny_lm, ids, 6, repetition_penalty=1.5, frequency_penalty=0.7,
                                presence_penalty=0.3)
    # Recompute tick by tick without a cache, from the definitions.
    expected = []
    for _ in range(6):
        with torch.no_grad():
            logits = tiny_lm.model(torch.tensor([ids + expected])).logits[0, -1]
        logits = apply_repetition_penalty(logits, ids + expected, 1.5)
        counts = torch.bincount(torch.tensor(expected, dtype=torch.long), minlength=len(logits))
        logits = logits - 0.7 * counts - 0.3 * (counts > 0).float()
        expected.append(int(logits.argmax()))
    assert new == expected
    assert greedy_with_penalties(tiny_lm, ids, 4) == beam_search(tiny_lm, ids, 1, 4, eos_ids=[])


# ---------------------------------------------------------------- ablation

def test_ablating_a_head_removes_exactly_its_slice(any_family_lm):
    lm = any_family_lm
    ids = torch.tensor([lm.encode("The clock ticks once for every token")])
    proj, d = output_projection(lm, 1), lm.head_dim
    seen = {}
    keep_input = proj.register_forward_pre_hook(lambda m, args: seen.__setitem__("x", args[0]))
    keep_output = proj.register_forward_hook(lambda m, args, out: seen.__setitem__("y", out))
    try:
        with torch.no_grad():
            lm.model(ids)
            clean_input, clean_output = seen["x"].clone(), seen["y"].clone()
            with heads_ablated(lm, [(1, 1)]):
                lm.model(ids)
            zeroed = clean_input.clone()
            zeroed[..., 1 * d:2 * d] = 0
            expected = proj(zeroed)
    finally:
        keep_input.remove(), keep_output.remove()
    # Layer 1 is the last: its input is unchanged, its output lacks exactly head 1's share.
    assert torch.allclose(seen["y"], expected, atol=1e-6)
    assert not torch.allclose(seen["y"], clean_output, atol=1e-6)
    assert not proj._forward_pre_hooks   # the ablation hook is gone after the with


def test_ablation_changes_only_later_layers_and_is_undone(any_family_lm):
    lm = any_family_lm
    ids = repeated_random_tokens(lm, 8)
    clean = token_losses(lm, ids)
    with heads_ablated(lm, [(lm.n_layers - 1, 0)]):
        ablated = token_losses(lm, ids)
    assert not torch.allclose(clean, ablated)
    assert torch.equal(token_losses(lm, ids), clean)
    with pytest.raises(ValueError, match="head must be"):
        with heads_ablated(lm, [(0, lm.n_heads)]):
            pass
    with pytest.raises(ValueError, match="repeated twice"):
        copy_loss(lm, ids[:-1])


@pytest.mark.slow
def test_induction_heads_carry_the_copy_on_the_embedded_model(embedded_lm):
    lm = embedded_lm
    ids = repeated_random_tokens(lm, 20)
    scores = induction_scores(attention_weights(lm, ids), 20).flatten()
    top = [divmod(int(i), lm.n_heads) for i in torch.topk(scores, 3).indices]
    clean = copy_loss(lm, ids)
    with heads_ablated(lm, top):
        without_induction = copy_loss(lm, ids)
    generator = torch.Generator().manual_seed(0)
    random_sets = [[divmod(int(i), lm.n_heads)
                    for i in torch.randperm(lm.n_layers * lm.n_heads, generator=generator)[:3]]
                   for _ in range(3)]
    random_losses = []
    for heads in random_sets:
        with heads_ablated(lm, heads):
            random_losses.append(copy_loss(lm, ids))
    assert without_induction > clean + 2.0
    assert max(random_losses) < clean + 1.0


def test_beam_tree_figure_draws_every_candidate(tiny_lm):
    from helpers.plots.beams import beam_tree_figure

    ids = tiny_lm.encode("The clock ticks once")
    eos = [_first_greedy(tiny_lm, ids)]
    search = beam_search_steps(tiny_lm, ids, 2, 4, eos_ids=eos)
    fig = beam_tree_figure(search, tiny_lm.tokenizer)
    markers = [t for t in fig.data if t.mode == "markers+text"]
    assert sum(len(t.x) for t in markers) == sum(len(s.candidates) for s in search.steps)
    fates = {c.fate for s in search.steps for c in s.candidates}
    assert {t.name for t in markers} == fates
