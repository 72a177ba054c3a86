"""The sampler equals transformers' own logits processors, validates its settings, and draws
reproducibly from the distribution it claims."""

from __future__ import annotations

import math

import pytest
import torch
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from helpers.sampling import (
    Candidate,
    SamplingConfig,
    apply_min_p,
    apply_repetition_penalty,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    draw,
    entropy_bits,
    filtered_probs,
    greedy,
    process_logits,
    top_candidates,
)

VOCAB = 500


@pytest.fixture(params=[0, 1, 2])
def logits(request) -> torch.Tensor:
    g = torch.Generator().manual_seed(request.param)
    return torch.randn(VOCAB, generator=g) * 3


def _hf(processor, logits, input_ids=(0,)):
    return processor(torch.tensor([list(input_ids)]), logits[None].clone())[0]


def _assert_same(ours: torch.Tensor, theirs: torch.Tensor):
    assert torch.equal(torch.isinf(ours), torch.isinf(theirs)), "different tokens removed"
    finite = torch.isfinite(theirs)
    torch.testing.assert_close(ours[finite], theirs[finite], rtol=0, atol=1e-6)


@pytest.mark.parametrize("penalty", [0.5, 1.3, 2.0])
def test_repetition_penalty_equals_transformers(logits, penalty):
    previous = [3, 17, 17, 42, 499, 0]
    ours = apply_repetition_penalty(logits, previous, penalty)
    _assert_same(ours, _hf(RepetitionPenaltyLogitsProcessor(penalty), logits, previous))
    assert not torch.equal(ours, logits)
    untouched = torch.ones(VOCAB, dtype=torch.bool)
    untouched[previous] = False
    assert torch.equal(ours[untouched], logits[untouched])


@pytest.mark.parametrize("temperature", [1e-4, 0.3, 0.7, 1.5, 4.0])
def test_temperature_equals_transformers(logits, temperature):
    _assert_same(apply_temperature(logits, temperature),
                 _hf(TemperatureLogitsWarper(temperature), logits))


@pytest.mark.parametrize("k", [1, 5, 50, VOCAB, VOCAB + 10])
def test_top_k_equals_transformers(logits, k):
    ours = apply_top_k(logits, k)
    _assert_same(ours, _hf(TopKLogitsWarper(k), logits))
    assert int(torch.isfinite(ours).sum()) == min(k, VOCAB)


@pytest.mark.parametrize("p", [0.05, 0.5, 0.9, 0.999])
def test_top_p_equals_transformers(logits, p):
    ours = apply_top_p(logits, p)
    _assert_same(ours, _hf(TopPLogitsWarper(p), logits))
    kept = ours.softmax(-1)
    # the nucleus reaches p
    assert float(logits.softmax(-1)[torch.isfinite(ours)].sum()) >= p - 1e-6
    assert kept.argmax() == logits.argmax()


@pytest.mark.parametrize("min_p", [0.01, 0.1, 0.5, 0.99])
def test_min_p_equals_transformers(logits, min_p):
    ours = apply_min_p(logits, min_p)
    _assert_same(ours, _hf(MinPLogitsWarper(min_p), logits))
    probs = logits.softmax(-1)
    kept = torch.isfinite(ours)
    assert bool((probs[kept] >= min_p * probs.max() - 1e-7).all())


def test_off_settings_change_nothing(logits):
    for out in (apply_top_k(logits, None), apply_top_k(logits, 0), apply_top_p(logits, 1.0),
                apply_min_p(logits, 0.0), apply_repetition_penalty(logits, [1, 2], 1.0),
                apply_temperature(logits, 1.0), process_logits(logits, SamplingConfig())):
        assert torch.equal(out, logits)


def test_process_logits_chains_transformers_processors_in_generate_order(logits):
    config = SamplingConfig(temperature=0.7, top_k=40, top_p=0.9, min_p=0.05,
                            repetition_penalty=1.3)
    previous = [5, 6, 7, 7]
    chain = [RepetitionPenaltyLogitsProcessor(1.3), TemperatureLogitsWarper(0.7),
             TopKLogitsWarper(40), TopPLogitsWarper(0.9), MinPLogitsWarper(0.05)]
    theirs = logits[None].clone()
    for processor in chain:
        theirs = processor(torch.tensor([previous]), theirs)
    _assert_same(process_logits(logits, config, previous), theirs[0])
    probs = filtered_probs(logits, config, previous)
    torch.testing.assert_close(probs, theirs[0].softmax(-1), rtol=0, atol=1e-7)
    assert math.isclose(float(probs.sum()), 1.0, abs_tol=1e-5)


def test_original_logits_are_never_modified(logits):
    before = logits.clone()
    process_logits(logits, SamplingConfig(temperature=0.5, top_k=3, top_p=0.5, min_p=0.2,
                                          repetition_penalty=2.0), [1, 2, 3])
    assert torch.equal(logits, before)


@pytest.mark.parametrize("kwargs, words", [
    (dict(temperature=-0.1), "temperature"), (dict(temperature=float("nan")), "temperature"),
    (dict(temperature="hot"), "temperature"), (dict(top_k=-1), "top_k"), (dict(top_k=2.5), "top_k"),
    (dict(top_k=True), "top_k"), (dict(top_p=0.0), "top_p"), (dict(top_p=1.01), "top_p"),
    (dict(min_p=1.0), "min_p"), (dict(min_p=-0.1), "min_p"),
    (dict(repetition_penalty=0.0), "repetition_penalty"),
    (dict(repetition_penalty=-1.0), "repetition_penalty"),
])
def test_config_rejects_out_of_range_values_with_the_valid_range(kwargs, words):
    with pytest.raises(ValueError, match=words) as err:
        SamplingConfig(**kwargs)
    assert any(s in str(err.value) for s in (">=", ">", "[", "("))  # names the valid range


def test_functions_reject_bad_arguments(logits):
    with pytest.raises(ValueError, match="greedy"):
        apply_temperature(logits, 0)
    with pytest.raises(ValueError, match="top_p"):
        apply_top_p(logits, 0)
    with pytest.raises(ValueError, match="min_p"):
        apply_min_p(logits, 1.5)
    with pytest.raises(ValueError, match="top_k"):
        apply_top_k(logits, -3)
    with pytest.raises(ValueError, match="1-D"):
        process_logits(logits[None], SamplingConfig())


def test_greedy_is_argmax_and_temperature_zero_is_one_hot(logits):
    assert greedy(logits) == int(logits.argmax())
    config = SamplingConfig(temperature=0)
    assert config.is_greedy and not SamplingConfig(temperature=1e-4).is_greedy
    probs = filtered_probs(logits, config)
    assert probs[greedy(logits)] == 1.0 and probs.sum() == 1.0
    # Greedy still applies the repetition penalty, like generate(do_sample=False).
    best = greedy(logits)
    penalised = filtered_probs(logits, SamplingConfig(temperature=0, repetition_penalty=100.0),
                               [best])
    assert int(penalised.argmax()) != best


@pytest.mark.parametrize("temperature", [1e-4, 1e-12, 1e-40])
def test_tiny_temperature_is_stable_and_tends_to_greedy(logits, temperature):
    probs = filtered_probs(logits, SamplingConfig(temperature=temperature))
    assert torch.isfinite(probs).all()
    assert float(probs[greedy(logits)]) > 0.999


def test_draw_is_reproducible_with_a_seeded_generator(logits):
    probs = filtered_probs(logits, SamplingConfig(temperature=1.5))
    first = [draw(probs, torch.Generator().manual_seed(7)) for _ in range(3)]
    g = torch.Generator().manual_seed(7)
    run_a = [draw(probs, g) for _ in range(20)]
    g = torch.Generator().manual_seed(7)
    run_b = [draw(probs, g) for _ in range(20)]
    assert first == [run_a[0]] * 3 and run_a == run_b
    assert len(set(run_a)) > 1  # and it does vary from draw to draw


def test_draw_only_picks_tokens_that_survived_the_filters(logits):
    probs = filtered_probs(logits, SamplingConfig(top_k=3))
    g = torch.Generator().manual_seed(0)
    allowed = set(torch.topk(logits, 3).indices.tolist())
    assert {draw(probs, g) for _ in range(200)} <= allowed


def test_1000_draws_follow_the_probabilities():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    g = torch.Generator().manual_seed(0)
    counts = torch.bincount(torch.tensor([draw(probs, g) for _ in range(1000)]), minlength=4)
    freq = counts.double() / 1000
    # 4 standard deviations of a binomial proportion: fails by chance about once in 10^4 runs
    assert bool(((freq - probs.double()).abs()
                 <= 4 * (probs.double() * (1 - probs.double()) / 1000).sqrt()).all()), freq


def test_entropy_bits():
    assert entropy_bits(torch.tensor([1.0, 0.0, 0.0])) == 0.0
    assert math.isclose(entropy_bits(torch.full((8,), 1 / 8)), 3.0, rel_tol=1e-9)
    assert math.isclose(entropy_bits(torch.tensor([0.5, 0.25, 0.25])), 1.5, rel_tol=1e-9)


class _Tokenizer:
    def batch_decode(self, ids):
        return [f"<{i[0]}>" for i in ids]


def test_top_candidates_are_sorted_and_skip_removed_tokens(logits):
    probs = filtered_probs(logits, SamplingConfig(top_k=4))
    top = top_candidates(probs, _Tokenizer(), k=10)
    assert len(top) == 4 and all(isinstance(c, Candidate) for c in top)
    assert [c.token_id for c in top] == torch.topk(logits, 4).indices.tolist()
    assert (top[0].text == f"<{top[0].token_id}>"
            and top[0].prob == pytest.approx(float(probs.max())))
    raw = top_candidates(logits.softmax(-1), _Tokenizer(), k=10)
    assert len(raw) == 10 and [c.prob for c in raw] == sorted((c.prob for c in raw), reverse=True)


def test_setting_names_follow_the_config_and_unknown_names_are_named():
    from helpers.sampling import SETTING_NAMES, check_setting_names

    assert SETTING_NAMES == ("temperature", "top_k", "top_p", "min_p", "repetition_penalty")
    check_setting_names({"temperature": 0.5})
    with pytest.raises(TypeError, match=r"Unknown setting\(s\) \['temprature'\]"):
        check_setting_names({"temprature": 0.5})


@pytest.mark.parametrize("temperature", [1e-46, 1e-300, 5e-324])
def test_temperatures_below_float32_are_exact_one_hot_on_the_argmax(logits, temperature):
    # float32 cannot hold T (it rounds to 0): without care every probability is NaN.
    for config in (SamplingConfig(temperature=temperature),
                   SamplingConfig(temperature=temperature, top_k=5, top_p=0.9, min_p=0.1,
                                  repetition_penalty=1.2)):
        probs = filtered_probs(logits, config, [0, 1])
        assert torch.isfinite(probs).all()
        assert probs.sum() == 1 and probs.max() == 1
        assert int(probs.argmax()) == int(process_logits(logits, SamplingConfig(
            temperature=0, repetition_penalty=config.repetition_penalty), [0, 1]).argmax())
        assert draw(probs, torch.Generator().manual_seed(0)) == int(probs.argmax())


def test_tiny_temperature_shares_the_probability_between_tied_best_tokens():
    tied = torch.tensor([1.0, 3.0, 3.0, 2.9999, -5.0])
    for temperature in (1e-46, 5e-324):
        assert (filtered_probs(tied, SamplingConfig(temperature=temperature)).tolist()
                == [0, 0.5, 0.5, 0, 0])


def test_draw_is_an_exponential_race_over_the_vocabulary(logits):
    # torch.multinomial(p, 1) is argmax(p / q) with q ~ Exp(1) drawn for every entry (the
    # Gumbel-max trick), not a single uniform number: the docstring of draw says so.
    probs = filtered_probs(logits, SamplingConfig(temperature=1.5))
    for seed in range(20):
        q = torch.empty_like(probs).exponential_(1, generator=torch.Generator().manual_seed(seed))
        assert draw(probs, torch.Generator().manual_seed(seed)) == int((probs / q).argmax())
    # ... and the generator moves on by the same amount whichever token wins
    states = []
    for p in (probs, torch.nn.functional.one_hot(torch.tensor(3), probs.numel()).float()):
        g = torch.Generator().manual_seed(5)
        draw(p, g)
        states.append(g.get_state())
    assert torch.equal(states[0], states[1])


def test_repetition_penalty_lowers_the_logit_but_can_raise_the_probability():
    logits = torch.tensor([2.0, 2.0, 0.0])
    penalised = apply_repetition_penalty(logits, [0, 1, 2], 2.0)
    assert (penalised <= logits).all()
    assert penalised.softmax(-1)[2] > logits.softmax(-1)[2]  # token 2's logit stayed, others fell
    shifted = apply_repetition_penalty(logits - 3.0, [0, 1, 2], 2.0)  # same softmax before ...
    assert not torch.allclose(shifted.softmax(-1), penalised.softmax(-1))  # ... not after
