"""Distribution bars, the context HTML and the attention-over-context bars: structure checks
(the figures are also screenshot by the browser tests)."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
import torch

from helpers.plots import (
    CHOSEN_COLOR, GENERATED_COLOR, NEW_TOKEN_COLOR, PROMPT_COLOR, attention_over_context_figure,
    context_html, distribution_figure, update_attention_over_context_figure,
    update_distribution_figure,
)
from helpers.tick_view import distribution_rows, readable_token


class Cand(NamedTuple):  # the fields of helpers.sampling.Candidate
    token_id: int
    text: str
    prob: float


RAW = [Cand(5, " Paris", 0.60), Cand(7, " the", 0.25), Cand(9, "\n", 0.10), Cand(11, " a", 0.05)]
FILTERED = [Cand(5, " Paris", 0.70), Cand(7, " the", 0.30), Cand(3, "zz", 0.0), Cand(4, "yy", 0.0)]


def test_rows_merge_sort_and_mark_cut_tokens():
    rows = distribution_rows(RAW, FILTERED)
    assert [r.token_id for r in rows] == [5, 7, 9, 11]  # sorted by raw prob; zero fillers dropped
    assert [r.label for r in rows] == ["·Paris", "·the", "↵", "·a"]
    assert [r.filtered for r in rows] == [0.70, 0.30, 0.0, 0.0]  # cut by the filters -> 0
    # A full-length filtered list without zeros: a raw-only token's filtered probability is
    # unknown (it may be small but not 0), so no bar rather than a false 0.
    full = [Cand(7, " the", 0.4), Cand(8, " one", 0.3), Cand(9, "\n", 0.2), Cand(11, " a", 0.1)]
    rows = distribution_rows(RAW, full)
    assert [r.token_id for r in rows] == [5, 7, 9, 11, 8]
    assert rows[0].filtered is None and rows[-1].raw is None and rows[-1].filtered == 0.3


def test_figure_bars_labels_and_chosen_marker():
    fig = distribution_figure(RAW, FILTERED, chosen_id=7)
    raw, filt = fig.data
    assert raw.orientation == filt.orientation == "h" and fig.layout.barmode == "group"
    assert list(raw.x) == [0.60, 0.25, 0.10, 0.05] and list(filt.x) == [0.70, 0.30, 0.0, 0.0]
    # the chosen row's labels start with an en space (clear of its 3 px outline)
    assert [t.strip() for t in raw.text] == ["60.0%", "25.0%", "10.0%", "5.0%"]
    assert list(raw.marker.line.width) == [0, 3, 0, 0] and raw.marker.line.color == CHOSEN_COLOR
    assert "▶" in fig.layout.yaxis.ticktext[1] and "▶" not in fig.layout.yaxis.ticktext[0]
    assert fig.layout.yaxis.autorange == "reversed"  # most likely on top
    assert fig.layout.annotations[0].text == "chosen" and fig.layout.annotations[0].y == 1
    assert fig.layout.title.text and fig.layout.xaxis.title.text == "probability"


def test_chosen_token_outside_the_lists_gets_its_own_row():
    fig = distribution_figure(RAW, FILTERED, chosen_id=99, chosen_probs=("<odd>", 0.001, 0.002))
    assert len(fig.data[0].x) == 5 and fig.data[0].x[-1] == 0.001
    assert "&lt;odd&gt;" in fig.layout.yaxis.ticktext[-1]  # escaped: plotly would read it as a tag


def test_update_in_place_keeps_the_same_figure():
    fig = distribution_figure(RAW, FILTERED, chosen_id=5)
    traces = fig.data
    update_distribution_figure(fig, RAW[:2], [Cand(7, " the", 1.0), Cand(1, "q", 0.0)], chosen_id=7)
    assert fig.data[0] is traces[0]  # same trace objects: updated, not re-created
    assert list(fig.data[1].x) == [0.0, 1.0] and list(fig.data[0].marker.line.width) == [0, 3]
    assert fig.layout.annotations[0].y == 1 and len(fig.layout.yaxis.tickvals) == 2
    update_distribution_figure(fig, RAW, FILTERED, chosen_id=None)
    assert fig.layout.annotations[0].visible is False and 3 not in fig.data[0].marker.line.width


def test_context_html_sets_prompt_generated_and_newest_apart():
    tokens = ["Hi", " there", "\n", "<b>", " you"]
    page = context_html(tokens, n_prompt=2, token_ids=[1, 2, 3, 4, 5],
                        probs=[None, None, 0.5, 0.25, 0.125])
    assert page.count(PROMPT_COLOR) == 2 + 1  # two prompt tokens + the legend
    assert page.count("llmclock-generated-token") == 2 and page.count("llmclock-new-token") == 1
    assert page.index("llmclock-new-token") > page.index("&lt;b&gt;")  # the newest is the last
    assert NEW_TOKEN_COLOR in page and GENERATED_COLOR in page
    # whitespace visible, newline still breaks the line
    assert "↵</span><br>" in page and "·" in page
    assert "<b>" not in page  # token text is escaped, never read as a tag
    assert "id 5 · p = 12.5%" in page and "position 0 (prompt) · id 1'" in page
    # Nothing generated yet: no token is marked newest.
    assert "llmclock-new-token" not in context_html(tokens[:2], n_prompt=2)


def test_attention_over_context_head_and_mean():
    torch.manual_seed(0)
    att = torch.softmax(torch.randn(3, 4, 6), dim=-1).half()
    tokens = ["a", " b", " c", "\n", " e", " f", " later"]
    fig = attention_over_context_figure(att, tokens, layer=1, head=2)
    bars, mean = fig.data
    assert torch.allclose(torch.tensor(bars.y), att[1, 2].float(), atol=1e-6)
    assert torch.allclose(torch.tensor(mean.y), att[1].float().mean(0), atol=1e-6)
    assert (list(fig.layout.xaxis.ticktext[:4]) == ["a", "·b", "·c", "↵"]
            and "<b>" in fig.layout.xaxis.ticktext[-1])
    assert "layer 1" in fig.layout.title.text and "head 2" in fig.layout.title.text
    update_attention_over_context_figure(fig, att[:, :, :4], tokens, layer=0, head=None)
    assert fig.data[0] is bars and len(bars.y) == 4 and mean.visible is False
    assert torch.allclose(torch.tensor(bars.y), att[0, :, :4].float().mean(0), atol=1e-6)
    assert "mean over heads" in fig.layout.title.text
    with pytest.raises(ValueError, match="head must be in 0..3"):
        attention_over_context_figure(att, tokens, layer=0, head=4)


def test_short_filtered_list_means_the_rest_was_cut():
    # top_candidates leaves zeros out: a filtered list shorter than the raw one is complete.
    rows = distribution_rows(RAW, [Cand(5, " Paris", 1.0)])
    assert [r.filtered for r in rows] == [1.0, 0.0, 0.0, 0.0]


def test_tick_table_and_attention_over_ticks_follow_the_clock(tiny_lm):
    from helpers.clock import Clock
    from helpers.plots import attention_over_ticks_figure, tick_table_html
    from helpers.sampling import SamplingConfig

    clock = Clock(tiny_lm, "The clock ticks", SamplingConfig(temperature=0.0))
    clock.run(5)
    clock.rewind(1)
    clock.force(clock.history[-1].top_raw[2].token_id)
    clock.tick()
    table = tick_table_html(clock.history, tiny_lm)
    assert table.count("<tr>") == 1 + 5 and "<b>FORCED</b>" in table and "prefill" in table
    n_prompt = len(clock.prompt_ids)
    assert (f"{n_prompt} new, {n_prompt} in context" in table
            and f"1 new, {n_prompt + 4} in context" in table)

    fig = attention_over_ticks_figure(clock.history, clock.tokens)
    z = fig.data[0].z
    assert len(z) == 5 and len(z[0]) == n_prompt + 4
    for r, row in zip(clock.history, z):
        values = [v for v in row if v is not None]
        assert len(values) == r.context_len  # nothing drawn for positions that did not exist yet
        assert values == pytest.approx(r.attention.float().mean(dim=(0, 1)).tolist(), abs=1e-4)
        assert sum(values) == pytest.approx(1.0, abs=1e-2)  # a softmax row
    one = attention_over_ticks_figure(clock.history, clock.tokens, layer=1, head=0)
    assert one.data[0].z[2][: clock.history[2].context_len] == pytest.approx(
        clock.history[2].attention[1, 0].float().tolist(), abs=1e-4)
    assert "layer 1, head 0" in one.layout.title.text
    with pytest.raises(ValueError, match="run the clock first"):
        attention_over_ticks_figure([], clock.tokens)


def test_byte_fragments_show_their_bytes(tiny_lm):
    from helpers.tokens import visible

    ids = tiny_lm.encode("我")  # not in the tiny vocabulary: three single-byte tokens
    labels = [visible(readable_token(tiny_lm.decode([i]), i, tiny_lm)) for i in ids]
    assert labels == ["⟨e6⟩", "⟨88⟩", "⟨91⟩"]
    assert readable_token(" the", 5, tiny_lm) == " the" and readable_token("�") == "�"


def test_context_html_glues_byte_tokens_into_characters(tiny_lm):
    ids = tiny_lm.encode("The 我") + tiny_lm.encode("吃")[:1]  # the last character is unfinished
    tokens = [tiny_lm.decode([i]) for i in ids]
    n_whole = len(tiny_lm.encode("The "))
    page = context_html(tokens, n_prompt=n_whole + 3, token_ids=ids, tokenizer=tiny_lm)
    assert (">我</span>" in page and "data-tokens='3'" in page
            and "3 byte tokens, one character" in page)
    assert "⟨e5⟩" in page and "�" not in page  # an unfinished character stays in hex bytes
    assert page.count("llmclock-new-token") == 1 and "underline dotted" in page
    # Without a tokenizer every token is its own box, as decoded.
    assert context_html(tokens, n_prompt=n_whole + 3).count("data-tokens='1'") == len(ids)


def test_context_html_styles_parse_as_written():
    from html.parser import HTMLParser

    styles = []

    class Styles(HTMLParser):
        def handle_starttag(self, tag, attrs):
            styles.extend(value for name, value in attrs if name == "style")

    Styles().feed(context_html(["a", " b"], n_prompt=1, font_px=23))
    outer = styles[0]  # quotes inside the font list must not end the attribute early
    assert "font-size:23px" in outer and "monospace" in outer


def test_chosen_label_sits_right_of_its_percent_label():
    from helpers.sampling import Candidate

    raw = [Candidate(1, "a", 0.6), Candidate(2, "b", 0.3)]
    filt = [Candidate(1, "a", 0.9), Candidate(2, "b", 0.1)]
    normal = distribution_figure(raw, filt, chosen_id=1)
    chosen = normal.layout.annotations[0]  # right of its % label, never on it
    assert chosen.text == "chosen" and chosen.xshift >= 0.6 * 14 * len("60.0% → 90.0%")


def test_long_text_keeps_its_start_and_its_newest_token():
    tokens = ["The", " capital"] + [f" w{i}" for i in range(200)]
    page = context_html(tokens, n_prompt=2, fit=(2, 40), reading=200, forced=[150, 201])
    left_out = int(re.search(r"… (\d+) tokens …", page).group(1))
    drawn = len(re.findall(r"data-tokens='1'", page))
    assert drawn + left_out == len(tokens) and drawn < 40
    assert ">The</span>" in page and "w199</span>" in page  # the start and the newest token
    assert page.count("llmclock-reading-token") == 1 and page.count("llmclock-forced-token") == 1
    assert "… " not in context_html(tokens[:6], n_prompt=2, fit=(2, 40))  # short: all of it
