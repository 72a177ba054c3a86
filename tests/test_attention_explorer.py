"""AttentionExplorer driven like a learner would: set the widgets' values, check the figures."""

from __future__ import annotations

import pytest
import torch

from helpers.attention import attention_weights
from helpers.widgets.attention_explorer import MEAN, AttentionExplorer
from helpers.widgets.figure_output import shown_figures

TEXT = "The capital of France is Paris."


def _shown(explorer):
    """The heatmap and the bars as the Output shows them (what the browser draws)."""
    heatmap, bars = shown_figures(explorer.figures)
    return heatmap, bars


def _shown_bars(explorer, trace: int = 0):
    return _shown(explorer)[1]["data"][trace]["y"]


def _assert_heatmap_shows(explorer, expected):
    z = _shown(explorer)[0]["data"][0]["z"]
    T = expected.shape[0]
    assert len(z) == T
    for i in range(T):
        assert all(v is None for v in z[i][i + 1:])  # the future stays blank
        assert list(z[i][: i + 1]) == pytest.approx(expected[i, : i + 1].tolist())


@pytest.fixture
def explorer(tiny_lm):
    return AttentionExplorer(tiny_lm, TEXT)


def test_starts_on_the_text_with_the_last_token_as_query(explorer, tiny_lm):
    w = attention_weights(tiny_lm, TEXT)
    T = len(tiny_lm.encode_prompt(TEXT))   # Gemma: <bos> first
    assert explorer.weights.shape == w.shape and len(explorer.tokens) == T
    assert explorer.query.value == T - 1 and len(explorer.query.options) == T
    _assert_heatmap_shows(explorer, w[0, 0])
    assert list(_shown_bars(explorer)) == pytest.approx(w[0, 0, T - 1].tolist())
    assert explorer.message.value == ""
    assert "layer 0, head 0" in explorer.heatmap.layout.title.text


def test_layer_head_and_query_selectors_update_the_figures_shown(explorer, tiny_lm):
    w = attention_weights(tiny_lm, TEXT)
    heatmap, bars = explorer.heatmap, explorer.bars
    explorer.layer.value = 1
    _assert_heatmap_shows(explorer, w[1, 0])
    assert "layer 1, head 0" in heatmap.layout.title.text
    explorer.head.value = 3
    _assert_heatmap_shows(explorer, w[1, 3])
    explorer.query.value = 2
    assert list(_shown_bars(explorer)) == pytest.approx(w[1, 3, 2, :3].tolist())
    shown_heatmap, shown_bars = _shown(explorer)
    assert "token 2" in shown_bars["layout"]["title"]["text"]
    row = shown_heatmap["layout"]["shapes"][0]
    assert row["y0"] == 1.5 and row["y1"] == 2.5  # query row outlined
    line = shown_bars["data"][1]
    assert line["visible"] and line["name"] == "mean over heads"   # the comparison line, labelled
    assert list(line["y"]) == pytest.approx(w[1, :, 2, :3].mean(0).tolist())
    explorer.head.value = MEAN
    _assert_heatmap_shows(explorer, w[1].mean(0))
    assert list(_shown_bars(explorer)) == pytest.approx(w[1, :, 2, :3].mean(0).tolist())
    assert "mean over heads" in _shown(explorer)[0]["layout"]["title"]["text"]
    assert explorer.heatmap is heatmap and explorer.bars is bars  # same figures, updated in place
    assert len(explorer.figures.outputs) == 2  # shown again, not appended


def test_new_text_reruns_the_model(explorer, tiny_lm):
    explorer.query.value = 1
    explorer.text.value = "A tick is one forward pass"
    w = attention_weights(tiny_lm, "A tick is one forward pass")
    assert torch.equal(explorer.weights, w)
    assert explorer.query.value == w.shape[-1] - 1 and len(explorer.query.options) == w.shape[-1]
    _assert_heatmap_shows(explorer, w[0, 0])


@pytest.mark.parametrize("bad, words", [("", "empty"), ("tick " * 80, "shorten")])
def test_bad_text_gives_a_message_and_keeps_the_state(explorer, tiny_lm, bad, words):
    explorer.layer.value = 1
    before = (explorer.ids, explorer.weights, list(explorer.heatmap.data[0].z),
              explorer.query.value)
    explorer.text.value = bad
    assert words in explorer.message.value and "previous text" in explorer.message.value
    assert explorer.ids is before[0] and explorer.weights is before[1]
    assert list(explorer.heatmap.data[0].z) == before[2] and explorer.query.value == before[3]
    explorer.head.value = 2  # still works afterwards
    _assert_heatmap_shows(explorer, attention_weights(tiny_lm, TEXT)[1, 2])
    explorer.text.value = TEXT
    assert explorer.message.value == ""


def test_starting_with_an_empty_text_is_a_message_not_an_error(tiny_lm):
    explorer = AttentionExplorer(tiny_lm, "")
    assert "empty" in explorer.message.value and explorer.ids == []
    explorer.layer.value = 1  # selectors do not crash with nothing loaded
    explorer.text.value = TEXT
    assert explorer.ids == tiny_lm.encode_prompt(TEXT) and explorer.message.value == ""


def test_the_explorer_caps_the_text_length(explorer):
    explorer.max_tokens = 5
    before = explorer.weights
    explorer.text.value = "one two three four five six seven"
    assert "at most 5" in explorer.message.value and "shorten" in explorer.message.value
    assert explorer.weights is before


def test_displays_as_a_widget_with_a_short_text_fallback(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("AttentionExplorer(") and len(bundle["text/plain"]) < 100
