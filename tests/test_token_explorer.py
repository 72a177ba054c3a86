"""The token explorer widget, driven the way a learner drives it: by typing and toggling."""

from __future__ import annotations

import re

import pytest

from helpers.tokens import readable_pieces, token_spans
from helpers.widgets import EXAMPLE_TEXTS, TokenExplorer


@pytest.fixture()
def explorer(tiny_gpt2_dir):
    from helpers import load_model

    return TokenExplorer(load_model(str(tiny_gpt2_dir)))


def _boxes(page: str, css: str) -> int:
    """How many elements carry the CSS class `css`."""
    return len(re.findall(rf"class='[^']*(?<![\w-]){css}(?![\w-])[^']*'", page))


def _shown_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r"color:#777'>(\d+)</span></span>", page)]


def test_typing_updates_spans_ids_and_counts(explorer):
    lm_tokenizer = explorer.tokenizer
    explorer.text.value = "The clock ticks.\n  Tick tock"
    expected = lm_tokenizer.encode("The clock ticks.\n  Tick tock", add_special_tokens=False)
    page = explorer.tokens_view.value
    assert _shown_ids(page) == expected
    assert _boxes(page, "llmclock-token") == len(expected)
    assert "·" in page and "↵" in page, "spaces and newlines are visible"
    assert explorer.counts == (28, 28, len(expected))
    assert f"<b style='color:#0072B2'>{len(expected)}</b> tokens" in explorer.summary.value
    assert str(expected) in explorer.ids_view.value

    explorer.text.value = "the"
    assert explorer.counts == (3, 3, len(lm_tokenizer.encode("the")))
    assert _shown_ids(explorer.tokens_view.value) == lm_tokenizer.encode("the")


def test_grouping_toggle_glues_byte_fragments(explorer):
    explorer.text.value = "吃 pizza"
    spans = token_spans(explorer.tokenizer, "吃 pizza")
    page = explorer.tokens_view.value
    assert _boxes(page, "llmclock-fragment") == 3, (
        "吃 is 3 single-byte tokens in the tiny vocabulary")
    assert "part of a character" in explorer.message.value
    assert explorer.counts == (7, 9, len(spans))

    explorer.grouped.value = True
    page = explorer.tokens_view.value
    pieces = readable_pieces(spans)
    assert _boxes(page, "llmclock-piece") == len(pieces) and _boxes(page, "llmclock-group") == 1
    assert ">吃<" in page and " + ".join(str(s.id) for s in spans[:3]) in page
    assert "llmclock-fragment" not in page and explorer.message.value == ""
    assert explorer.counts.tokens == len(spans), "grouping changes the view, not the token count"

    explorer.grouped.value = False
    assert _boxes(explorer.tokens_view.value, "llmclock-fragment") == 3


def test_ids_can_be_hidden(explorer):
    explorer.text.value = "the clock"
    explorer.show_ids.value = False
    assert _shown_ids(explorer.tokens_view.value) == []
    explorer.show_ids.value = True
    assert _shown_ids(explorer.tokens_view.value) == explorer.tokenizer.encode("the clock")


def test_empty_and_broken_text_give_a_message_and_keep_working(explorer):
    explorer.text.value = ""
    assert "Type some text" in explorer.message.value
    assert explorer.counts == (0, 0, 0) and explorer.tokens_view.value == ""
    assert "<b>0</b> characters" in explorer.summary.value

    explorer.text.value = "tick"
    explorer.text.value = "tick \ud800"  # a lone surrogate: not encodable as UTF-8
    assert "broken character" in explorer.message.value
    assert explorer.counts == (4, 4, len(explorer.tokenizer.encode("tick"))), "previous state kept"

    explorer.text.value = "tock"
    assert explorer.message.value == "" and explorer.counts.characters == 4


def test_examples_fill_the_text_box(explorer):
    explorer.examples.value = "Chinese"
    assert explorer.text.value == EXAMPLE_TEXTS["Chinese"]
    assert explorer.examples.value == "", (
        "ready to pick the same example again (the \"(examples)\" entry)")
    assert explorer.counts == (6, 18, 18)


def test_long_text_is_capped_but_counted(explorer):
    from helpers.widgets.token_explorer import MAX_SHOWN_TOKENS

    explorer.text.value = "a " * (MAX_SHOWN_TOKENS + 100)
    assert explorer.counts.tokens > MAX_SHOWN_TOKENS
    assert _boxes(explorer.tokens_view.value, "llmclock-token") == MAX_SHOWN_TOKENS
    assert "Showing the first" in explorer.message.value


def test_starts_with_a_text_and_displays(tiny_gpt2_dir):
    from helpers import load_model

    explorer = TokenExplorer(load_model(str(tiny_gpt2_dir)), text="我", grouped=True)
    assert _boxes(explorer.tokens_view.value, "llmclock-group") == 1
    empty = TokenExplorer(load_model(str(tiny_gpt2_dir)), text="")
    assert "Type some text" in empty.message.value
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.slow
def test_embedded_model_emoji(embedded_lm):
    explorer = TokenExplorer(embedded_lm, "I love 🍕 pizza!")
    assert explorer.counts == (15, 18, 7)
    assert _boxes(explorer.tokens_view.value, "llmclock-fragment") == 3
    explorer.grouped.value = True
    assert ">🍕<" in explorer.tokens_view.value and "15107 + 231 + 239" in explorer.tokens_view.value


@pytest.mark.slow
def test_bytes_without_a_token_are_reported(embedded_lm):
    explorer = TokenExplorer(embedded_lm, "a\x04b")   # SmolLM2 has no token for the byte 0x04
    assert explorer.counts.bytes == 3 and explorer.counts.tokens == 2
    assert "1 byte of this text has no token in the vocabulary" in explorer.message.value
    explorer.text.value = "ab"
    assert "no token" not in explorer.message.value
