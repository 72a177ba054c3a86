"""The sampling explorer driven by simulated slider moves and clicks: the chart follows the
settings, bad values show a message and leave everything as it was."""

from __future__ import annotations

import pytest
import torch

from helpers.clock import next_token_logits
from helpers.sampling import SamplingConfig, filtered_probs, top_candidates
from helpers.widgets import SamplingExplorer
from helpers.widgets.figure_output import shown_figures

PROMPT = "The capital of France is"


@pytest.fixture
def explorer(tiny_lm):
    return SamplingExplorer(tiny_lm, PROMPT)


def shown(explorer) -> dict:
    """The distribution figure as the explorer's Output shows it (what the browser draws)."""
    (figure,) = shown_figures(explorer.plot)
    return figure


def bars(explorer):
    raw, filtered = shown(explorer)["data"]
    return list(raw["x"]), list(filtered["x"])


def expected_filtered(lm, config, prompt=PROMPT):
    ids = lm.encode_prompt(prompt)   # as the explorer reads it (Gemma: <bos> first)
    return filtered_probs(next_token_logits(lm, ids), config, ids)


def test_starts_with_the_models_own_distribution(tiny_lm, explorer):
    ids = tiny_lm.encode_prompt(PROMPT)
    with torch.no_grad():
        probs = tiny_lm.model(torch.tensor([ids])).logits[0, -1].softmax(-1)
    top = top_candidates(probs, tiny_lm.tokenizer, 10)
    raw, filtered = bars(explorer)
    assert raw == pytest.approx([c.prob for c in top], abs=1e-6)
    assert filtered == pytest.approx(raw, abs=1e-6)  # default settings change nothing
    assert "Kept <b>" in explorer.stats.value and explorer.message.value == ""


@pytest.mark.parametrize("name, value, config", [
    ("temperature", 0.5, SamplingConfig(temperature=0.5)),
    ("temperature", 1.8, SamplingConfig(temperature=1.8)),
    ("top_k", 3, SamplingConfig(top_k=3)),
    ("top_p", 0.5, SamplingConfig(top_p=0.5)),
    ("min_p", 0.2, SamplingConfig(min_p=0.2)),
    ("repetition_penalty", 2.0, SamplingConfig(repetition_penalty=2.0)),
])
def test_each_slider_reshapes_the_filtered_bars(tiny_lm, explorer, name, value, config):
    before_raw, before_filtered = bars(explorer)
    getattr(explorer, name).value = value  # what dragging the slider does
    assert explorer.config == config and explorer.last_error is None
    raw, filtered = bars(explorer)
    assert raw == before_raw  # the model's distribution does not depend on the sampler
    probs = expected_filtered(tiny_lm, config)
    top = top_candidates(probs, tiny_lm.tokenizer, 10)
    drawn = {shown(explorer)["data"][1]["customdata"][i][1]: p for i, p in enumerate(filtered) if p}
    assert drawn == pytest.approx({c.token_id: c.prob for c in top}, abs=1e-6)
    assert filtered != before_filtered


def test_temperature_zero_is_greedy_and_top_k_counts(tiny_lm, explorer):
    explorer.temperature.value = 0.0
    _, filtered = bars(explorer)
    assert sorted(p for p in filtered if p)[-1] == 1.0 and sum(1 for p in filtered if p) == 1
    assert "Kept <b>1</b>" in explorer.stats.value
    explorer.temperature.value = 1.0
    explorer.top_k.value = 4
    assert "Kept <b>4</b>" in explorer.stats.value


@pytest.mark.parametrize("name, bad, words", [
    ("top_p", 0.0, "top_p"), ("min_p", 1.0, "min_p"),
    ("repetition_penalty", 0.0, "repetition_penalty"),
])
def test_out_of_range_values_show_a_message_and_change_nothing(explorer, name, bad, words):
    explorer.top_k.value = 5
    before = (explorer.config, bars(explorer), getattr(explorer, name).value)
    getattr(explorer, name).value = bad
    assert (words in explorer.message.value
            and "Keeping the previous settings" in explorer.message.value)
    assert explorer.last_error is not None
    # the slider came back
    assert (explorer.config, bars(explorer), getattr(explorer, name).value) == before
    explorer.temperature.value = 0.7  # and it keeps working; the message goes away
    assert (explorer.config.temperature == 0.7 and explorer.config.top_k == 5
            and explorer.message.value == "")


def test_set_from_code_moves_the_sliders(explorer):
    assert explorer.set(temperature=0.3, top_k=7)
    assert explorer.temperature.value == 0.3 and explorer.top_k.value == 7
    assert not explorer.set(top_p=2.0) and "top_p" in explorer.message.value
    assert explorer.top_p.value == 1.0
    assert not explorer.set(warmth=1.0) and "Unknown" in explorer.message.value


def test_draw_outlines_a_reproducible_token(tiny_lm, explorer):
    explorer.top_k.value = 5
    explorer.draw_button.click()
    first = explorer.chosen_id
    allowed = {c.token_id for c in top_candidates(explorer.probs, tiny_lm.tokenizer, 5)}
    assert first in allowed and 3 in shown(explorer)["data"][0]["marker"]["line"]["width"]
    draws = [first] + [explorer.draw() for _ in range(9)]
    again = SamplingExplorer(tiny_lm, PROMPT, top_k=5)
    assert [again.draw() for _ in range(10)] == draws  # same seed, same draws


def test_new_prompt_and_bad_prompt(tiny_lm, explorer):
    explorer.prompt_box.value = "1 2 3"
    explorer.read_button.click()
    assert explorer.prompt_ids == tiny_lm.encode_prompt("1 2 3")
    assert torch.equal(explorer.logits, next_token_logits(tiny_lm, tiny_lm.encode_prompt("1 2 3")))
    before = (explorer.prompt, explorer.logits.clone(), bars(explorer))
    explorer.prompt_box.value = ""
    explorer.read_button.click()
    assert "empty" in explorer.message.value
    assert (explorer.prompt == before[0] and torch.equal(explorer.logits, before[1])
            and bars(explorer) == before[2])
    assert "SamplingExplorer" in repr(explorer)
