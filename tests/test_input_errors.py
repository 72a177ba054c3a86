"""Odd input gets a short clear message naming the fix, everywhere and before anything changes:
lone surrogates, bad token ids and drafts, beam-search settings, extreme penalties, model names
and configs that do not match their weights."""

from __future__ import annotations

import math
import time

import pytest
import torch

from helpers.clock import Clock
from helpers.sampling import SamplingConfig

SURROGATE = "Hello \ud800 there"


def test_lone_surrogates_get_a_clear_message_everywhere(tiny_lm, chat_lm):
    from helpers import speculative
    from helpers.decoding import beam_search, sequence_logprob
    from helpers.scoring import perplexity

    clock = Clock(tiny_lm, "The clock")
    calls = [
        lambda: clock.force("\ud800"),
        lambda: Clock(chat_lm, "Hi", chat=True, system_prompt=SURROGATE),
        lambda: perplexity(tiny_lm, SURROGATE),
        lambda: beam_search(tiny_lm, SURROGATE, 2, 2),
        lambda: sequence_logprob(tiny_lm, SURROGATE, [1]),
        lambda: speculative.generate_speculatively(tiny_lm, SURROGATE, 3),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="half of a surrogate pair"):
            call()
    assert clock.next_forced is None


@pytest.mark.parametrize("ids, words", [
    ([10**9], "out of range"), ([-1], "out of range"), ([3, True], "a bool"),
    ([1.0, 2.0], "a float"), (b"hi", "bytes|got bytes"), (torch.tensor([1.5]), "whole numbers"),
])
def test_bad_token_ids_are_refused_everywhere(tiny_lm, ids, words):
    from helpers import speculative
    from helpers.clock import next_token_logits
    from helpers.decoding import beam_search, sequence_logprob
    from helpers.scoring import token_logprobs

    calls = [
        lambda: beam_search(tiny_lm, ids, 2, 2),
        lambda: speculative.generate_speculatively(tiny_lm, ids, 3),
        lambda: token_logprobs(tiny_lm, ids),
        lambda: next_token_logits(tiny_lm, ids),
        lambda: sequence_logprob(tiny_lm, [1, 2], ids),
        lambda: beam_search(tiny_lm, [1, 2], 2, 2, eos_ids=ids),
    ]
    for call in calls:
        with pytest.raises(ValueError, match=words):
            call()


def test_a_draft_of_bad_ids_is_refused(tiny_lm):
    from helpers import speculative

    for drafted in ([10**9], [True], [1.5]):
        with pytest.raises(ValueError, match="The draft proposed"):
            speculative.generate_speculatively(tiny_lm, "The clock ticks", 5,
                                               draft=lambda c, k, d=drafted: d)
    with pytest.raises(ValueError, match="draft must be a function"):
        speculative.generate_speculatively(tiny_lm, "The clock", 5, draft=[1, 2])


def test_beam_search_settings_that_used_to_pass_silently(tiny_lm):
    from helpers.decoding import beam_search

    with pytest.raises(ValueError, match="eos_ids lists all"):
        beam_search(tiny_lm, "The clock", 2, 2, eos_ids=range(tiny_lm.vocab_size))
    for bad in (math.nan, math.inf):
        with pytest.raises(ValueError, match="length_penalty must be a number"):
            beam_search(tiny_lm, "The clock", 2, 2, length_penalty=bad)


@pytest.mark.parametrize("penalty", [1e-39, 1e-300, 5e-324, 1e39])
def test_an_extreme_repetition_penalty_is_refused_before_sampling(tiny_lm, penalty):
    with pytest.raises(ValueError, match=r"repetition_penalty must be in \[0.001, 1000\]"):
        SamplingConfig(temperature=1.0, repetition_penalty=penalty)
    # At the limits the distribution stays finite.
    for limit in (1e-3, 1e3):
        clock = Clock(tiny_lm, "The clock ticks the clock ticks",
                      SamplingConfig(temperature=1.0, repetition_penalty=limit))
        record = clock.tick()
        assert math.isfinite(record.entropy_bits) and 0 < record.prob <= 1


def test_the_cli_answers_an_extreme_repetition_penalty_in_one_line(tmp_path):
    import subprocess
    import sys

    from conftest import REPO

    result = subprocess.run(
        [sys.executable, "-m", "helpers", "trace", "--prompt", "Hi", "--ticks", "2",
         "--repetition-penalty", "1e-39", "--out", str(tmp_path / "t.html")],
        capture_output=True, text=True, cwd=REPO, timeout=300)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "repetition_penalty must be in [0.001, 1000]" in result.stderr


# ------------------------------------------------------- names and configs, before loading

def _edited_copy(src, dst, **changes):
    import json
    import shutil

    shutil.copytree(src, dst)
    config = json.loads((dst / "config.json").read_text())
    config.update(changes)
    (dst / "config.json").write_text(json.dumps(config))
    return dst


@pytest.mark.parametrize("name, words", [
    ("x" * 300, "300 characters long"), ("a/" + "x" * 300, "302 characters long"),
    (3, "got int"), ("bad\ud800", "surrogate"), ("   ", "not a model name"),
])
def test_odd_model_names_get_a_clear_message(name, words):
    from helpers import ModelLoadError, load_model

    with pytest.raises(ModelLoadError, match=words):
        load_model(name)


@pytest.mark.parametrize("family, changes, words", [
    ("llama", {"hidden_size": -64}, "hidden_size must be a whole number >= 1"),
    ("llama", {"num_hidden_layers": 10**6}, "says 1000000 layers"),
    ("llama", {"intermediate_size": 256}, r"mlp.gate_proj.weight is \[128, 64\] in the"),
    ("llama", {"num_hidden_layers": 3}, "they lack 9 of the 30 tensors"),
    ("gpt2", {"n_layer": 1}, "tensors the config does not describe"),
    ("llama", {"num_key_value_heads": 3}, "cannot share 3 key/value heads"),
    ("gpt2", {"vocab_size": 10**9, "n_embd": 4096}, "GiB in float32"),
])
def test_a_config_that_does_not_match_its_weights_is_refused_at_once(
        tiny_llama_dir, tiny_gpt2_dir, tmp_path, family, changes, words):
    from helpers import ModelLoadError, load_model

    src = tiny_llama_dir if family == "llama" else tiny_gpt2_dir
    folder = _edited_copy(src, tmp_path / "edited", **changes)
    start = time.perf_counter()
    with pytest.raises(ModelLoadError, match=words):
        load_model(str(folder))
    assert time.perf_counter() - start < 120  # not "still loading after 90 s" (generous)


def test_a_missing_tokenizer_is_named_in_a_whole_sentence(tiny_llama_dir, tmp_path):
    import shutil

    from helpers import ModelLoadError, load_model

    folder = tmp_path / "no-tokenizer"
    shutil.copytree(tiny_llama_dir, folder)
    for path in folder.iterdir():
        if "token" in path.name or "special" in path.name:
            path.unlink()
    with pytest.raises(ModelLoadError) as err:
        load_model(str(folder))
    message = str(err.value)
    assert "has no tokenizer" in message and message.endswith("save_pretrained(folder).")
