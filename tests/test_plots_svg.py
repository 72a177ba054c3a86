"""The clock widget's SVG charts: what they draw, read back from the SVG (valid XML)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import NamedTuple

import torch

from helpers.plots.style import set_presenter_mode
from helpers.plots.svg import attention_svg, distribution_svg, svg_font_sizes

NS = {"s": "http://www.w3.org/2000/svg"}


class Cand(NamedTuple):  # the fields of helpers.sampling.Candidate
    token_id: int
    text: str
    prob: float


RAW = [Cand(5, " Paris", 0.60), Cand(7, " the", 0.25), Cand(9, "<script>", 0.10),
       Cand(11, " a", 0.05)]
FILTERED = [Cand(5, " Paris", 0.70), Cand(7, " the", 0.30)]


def bars(svg: str, kind: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f".//s:rect[@class='llmclock-bar llmclock-bar-{kind}']", NS)


def test_bars_are_proportional_to_the_probabilities():
    svg = distribution_svg(RAW, FILTERED, chosen_id=7)
    raw, filtered = bars(svg, "raw"), bars(svg, "filtered")
    assert [int(b.get("data-token-id")) for b in raw] == [5, 7, 9, 11]  # most likely first
    assert [float(b.get("data-p")) for b in raw] == [0.60, 0.25, 0.10, 0.05]
    widths = [float(b.get("width")) for b in raw]
    for width, cand in zip(widths, RAW):
        assert abs(width / widths[0] - cand.prob / 0.60) < 0.01
    # Tokens cut by the filters get a zero-width sampled-from bar, not a missing one.
    assert [float(b.get("data-p")) for b in filtered] == [0.70, 0.30, 0.0, 0.0]
    assert float(filtered[0].get("width")) > float(raw[0].get("width"))


def test_the_chosen_token_is_marked_and_only_it():
    svg = distribution_svg(RAW, FILTERED, chosen_id=7)
    outlined = [b.get("data-token-id") for b in bars(svg, "raw") + bars(svg, "filtered")
                if b.get("stroke-width") == "3"]
    assert outlined == ["7", "7"]
    marked = ET.fromstring(svg).findall(".//s:text[@class='llmclock-row-label llmclock-chosen']",
                                        NS)
    assert [t.text for t in marked] == ["▶ ·the"]
    # A chosen token outside both top lists (sampled from the tail, forced) still gets its row.
    svg = distribution_svg(RAW, FILTERED, chosen_id=42, chosen_probs=(" tail", 0.001, 0.0))
    assert bars(svg, "raw")[-1].get("data-token-id") == "42"
    assert "▶ ·tail" in svg


def test_token_text_is_escaped():
    svg = distribution_svg(RAW, FILTERED, chosen_id=9)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    ET.fromstring(svg)  # still well-formed
    svg = attention_svg(torch.full((1, 1, 2), 0.5), ["<b>", '"&'], layer=0)
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    labels = [t.text for t in ET.fromstring(svg).findall(".//s:text", NS)
              if "llmclock-token-label" in t.get("class", "")]
    assert labels == ["<b>", '"&']  # the parser unescapes what the SVG escaped


def test_presenter_mode_text_is_14px_or_larger():
    sizes = {}
    try:
        for presenter in (False, True):
            set_presenter_mode(presenter)
            svg = distribution_svg(RAW, FILTERED, chosen_id=5)
            svg += attention_svg(torch.rand(2, 2, 6), list("abcdef"), layer=1, head=0)
            sizes[presenter] = {int(px) for px in re.findall(r'font-size="(\d+)"', svg)}
            assert sizes[presenter] <= set(svg_font_sizes().values())
    finally:
        set_presenter_mode(False)
    assert min(sizes[True]) >= 14 and max(sizes[True]) > max(sizes[False])


def test_greedy_bars_carry_no_zero_labels_and_numbers_stay_inside():
    greedy = [Cand(5, " Paris", 1.0)]
    for presenter in (False, True):
        set_presenter_mode(presenter)
        try:
            svg = distribution_svg(RAW, greedy, chosen_id=5, chosen_probs=(" Paris", 0.6, 1.0))
        finally:
            set_presenter_mode(False)
        labels = [t.text for t in ET.fromstring(svg).findall(".//s:text", NS)
                  if "llmclock-p-label" in t.get("class", "")]
        assert labels == ["60.0% → 100%", "25.0%", "10.0%", "5.0%"], labels
        for t in ET.fromstring(svg).findall(".//s:text", NS):  # no number runs off the chart
            if "llmclock-p-label" in t.get("class", "") and t.get("text-anchor") == "start":
                width = len(t.text) * int(t.get("font-size")) * 0.56
                assert float(t.get("x")) + width <= 500, (t.text, t.get("x"))


def test_attention_title_names_the_reading_token_and_the_sink_can_be_hidden():
    att = torch.tensor([[[0.7, 0.1, 0.2]]])
    svg = attention_svg(att, ["The", " cat", "\n"], layer=0, head=0, reading="\n")
    title = next(t for t in ET.fromstring(svg).findall(".//s:text", NS)
                 if t.get("class") == "llmclock-attention-title")
    assert title.text == "Where '↵', read at this tick, looked"
    hidden = attention_svg(att, ["The", " cat", "\n"], layer=0, head=0, hide_first=True)
    positions = [e.get("data-pos") for e in ET.fromstring(hidden).iter()
                 if e.get("class") == "llmclock-bar"]
    assert positions == ["1", "2"] and "first token hidden (70.0% on it)" in hidden
    heights = [float(e.get("height")) for e in ET.fromstring(hidden).iter()
               if e.get("class") == "llmclock-bar"]
    assert heights[1] > heights[0] * 1.9  # the axis now ends at 0.2: 0.2 fills it


def test_empty_attention_chart_says_no_tick_yet_and_nothing_else():
    svg = attention_svg(None, [], layer=3)
    texts = [t.text for t in ET.fromstring(svg).findall(".//s:text", NS)]
    assert "no tick yet" in texts and "∅" not in svg
    assert not [e for e in ET.fromstring(svg).iter() if e.get("class") == "llmclock-bar"]


def test_attention_bars_show_one_head_or_the_mean():
    att = torch.softmax(torch.randn(2, 3, 5), -1)
    tokens = ["The", " cat", " sat", " on", " it"]

    def heights(svg, kind="llmclock-bar"):
        return [float(e.get("data-w")) for e in ET.fromstring(svg).iter() if e.get("class") == kind]

    mean_svg = attention_svg(att, tokens, layer=1)
    assert torch.allclose(torch.tensor(heights(mean_svg)), att[1].mean(0), atol=1e-5)
    assert "mean over heads" in mean_svg and "llmclock-mean-point" not in mean_svg
    head_svg = attention_svg(att, tokens, layer=1, head=2)
    assert torch.allclose(torch.tensor(heights(head_svg)), att[1, 2], atol=1e-5)
    assert torch.allclose(torch.tensor(heights(head_svg, "llmclock-mean-point")), att[1].mean(0),
                          atol=1e-5)
    assert "layer 1, head 2" in head_svg
    bars_drawn = [float(e.get("height")) for e in ET.fromstring(head_svg).iter()
                  if e.get("class") == "llmclock-bar"]
    top = max(range(5), key=lambda i: att[1, 2, i])
    assert max(bars_drawn) == bars_drawn[top]


def test_empty_distribution_says_no_tick_yet():
    svg = distribution_svg([], [])
    assert "no tick yet" in svg and not bars(svg, "raw")
