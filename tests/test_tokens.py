"""The from-scratch BPE and the token spans of real tokenizers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.tokens import (
    BPE, WORD_PATTERN, byte_level_alphabet, readable_pieces, show_bytes, text_counts, token_bytes,
    token_spans, train_bpe, visible,
)

TRAINING_TEXT = (Path(__file__).resolve().parent.parent / "data"
                 / "bpe_training_text.txt").read_text(encoding="utf-8")
HARD_TEXTS = [
    "我喜欢吃披萨",
    "I love 🍕 pizza! 👩‍👩‍👧 families, café, naïve",
    " leading space\n\nnewlines\ttab   runs of spaces  ",
    "Numbers: 12345 and 3.14159; CAPS, Caps, caps.",
    "x",
]
# Texts the pre-tokenization pattern must cover character for character (issue 9: "_" was lost).
ROUND_TRIP_TEXTS = HARD_TEXTS + [
    "snake_case x_y __init__ _private a_ _",
    "def f(x_1, *args):\n\treturn {'k': x_1 ** 2}  # comment\n",
    "for (int i = 0; i < n; ++i) { a[i] = b[i] >> 2; }",
    "\ttab\t\tdouble\t",
    "Здравствуй, мир! Γειά σου. مرحبا שלום こんにちは 안녕하세요 नमस्ते",
    "emoji 👍🏽 🇫🇷 ❤️ 🍕🍕",
    "control \x00 \x04 \x07 \x1b[31m \x7f \x1f end",
    "spaces     runs\n\n\n\nnewlines \r\n crlf   \n  ",
    "Ⅻ ½ ² x² 3.14e-10 -0 1,000,000",
    "don't it's we're I'll they've I'm he'd 'quoted'",
    "",
]


def test_visible_keeps_its_behaviour():
    assert visible(" the\n") == "·the↵"
    assert visible("") == "∅"
    assert visible("a\tb\r") == "a⇥b␍"


# --- from-scratch BPE ------------------------------------------------------------------

def test_wikipedia_example_by_hand():
    # "aaabdaaabac": 'aa' occurs 4 times -> 256; then (256,'a') and ('a','b') tie at 2 and the
    # first seen wins -> 257 = 'aaa'; then (257,'b') -> 258 = 'aaab'. Same as minbpe's test.
    bpe = train_bpe("aaabdaaabac", vocab_size=259, pattern=None)
    assert [(m.left, m.right, m.new_id, m.count) for m in bpe.merges] == [
        (97, 97, 256, 4), (256, 97, 257, 2), (257, 98, 258, 2)]
    assert [m.token for m in bpe.merges] == [b"aa", b"aaa", b"aaab"]
    assert bpe.encode("aaabdaaabac") == [258, ord("d"), 258, ord("a"), ord("c")]
    assert bpe.decode([258, 100, 258, 97, 99]) == "aaabdaaabac"


def test_training_stops_when_no_pair_repeats():
    bpe = train_bpe("abcd", vocab_size=300)
    assert bpe.merges == [] and bpe.encode("abcd") == [97, 98, 99, 100]


@pytest.fixture(scope="module")
def trained() -> BPE:
    return train_bpe(TRAINING_TEXT, vocab_size=400)


@pytest.mark.parametrize("text", ROUND_TRIP_TEXTS)
def test_word_pattern_chunks_cover_the_whole_text(text):
    assert "".join(re.findall(WORD_PATTERN, text)) == text


def test_underscores_survive_the_round_trip(trained):  # issue 9: was 'snakecase xy'
    assert trained.decode(trained.encode("snake_case x_y")) == "snake_case x_y"


@pytest.mark.parametrize("text", ROUND_TRIP_TEXTS + [TRAINING_TEXT])
def test_round_trip_any_utf8(trained, text):
    assert trained.decode(trained.encode(text)) == text
    assert train_bpe(TRAINING_TEXT[:500], 300, pattern=None).decode(
        train_bpe(TRAINING_TEXT[:500], 300, pattern=None).encode(text)) == text


def test_merges_shrink_the_token_count(trained):
    assert len(trained.merges) == 400 - 256
    steps = trained.encode_steps(TRAINING_TEXT)
    lengths = [len(s) for s in steps]
    assert lengths[0] == len(TRAINING_TEXT.encode("utf-8"))
    assert all(b < a for a, b in zip(lengths, lengths[1:])), (
        "every merge must remove at least one token")
    assert steps[-1] == trained.encode(TRAINING_TEXT), "step-by-step and direct encoding agree"
    # each merge was counted on the text as it was then: the recorded count is what it removed
    assert [a - b for a, b in zip(lengths, lengths[1:])] == [m.count for m in trained.merges]
    assert lengths[-1] < 0.45 * lengths[0]


def test_merges_stay_inside_words(trained):
    # the default pattern splits before a space, so no token spans 'word word'
    assert not any(b" " in m.token.strip(b" ") for m in trained.merges)
    assert any(m.token == b" the" for m in trained.merges)


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match="at least 256"):
        train_bpe("abc", 100)
    with pytest.raises(ValueError, match="non-empty"):
        train_bpe("", 300)
    with pytest.raises(ValueError, match="not in this BPE"):
        BPE().decode([999])


# --- token spans -----------------------------------------------------------------------

def test_byte_level_alphabet_is_gpt2s():
    table = byte_level_alphabet()
    assert len(set(table.values())) == 256
    assert table[ord(" ")] == "Ġ" and table[ord("\n")] == "Ċ" and table[ord("a")] == "a"
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    assert set(table.values()) == set(ByteLevel.alphabet())
    assert table == bytes_to_unicode()


def test_show_bytes_marks_fragments():
    assert show_bytes("我".encode()) == "我"
    assert show_bytes(b" \xf0\x9f") == " ⟨f0 9f⟩"
    assert show_bytes(b"\x91") == "⟨91⟩"


def _check_spans(tokenizer, text):
    spans = token_spans(tokenizer, text)
    assert [s.id for s in spans] == tokenizer.encode(text, add_special_tokens=False)
    assert [s.token for s in spans] == tokenizer.convert_ids_to_tokens([s.id for s in spans])
    assert b"".join(s.bytes for s in spans) == text.encode("utf-8")
    pieces = readable_pieces(spans)
    assert "".join(p.text for p in pieces) == text
    assert [i for p in pieces for i in p.token_ids] == [s.id for s in spans]
    for p in pieces:  # every piece is exactly what the tokenizer itself decodes for its ids
        assert tokenizer.decode(list(p.token_ids)) == p.text
    for s in spans:
        if not s.is_fragment:
            assert s.text == s.bytes.decode("utf-8")
    return spans, pieces


@pytest.fixture(scope="module")
def tiny_tokenizer(tiny_gpt2_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_gpt2_dir)


@pytest.mark.parametrize("text", HARD_TEXTS)
def test_tiny_tokenizer_spans_rebuild_the_text(tiny_tokenizer, text):
    _check_spans(tiny_tokenizer, text)


def test_tiny_tokenizer_fragments_are_grouped(tiny_tokenizer):
    # the tiny vocabulary never saw Chinese: every character is 3 single-byte tokens
    spans, pieces = _check_spans(tiny_tokenizer, "我喜欢吃披萨")
    assert len(spans) == 18 and all(s.is_fragment for s in spans)
    assert [p.text for p in pieces] == list("我喜欢吃披萨")
    assert all(len(p.token_ids) == 3 for p in pieces)
    assert text_counts(tiny_tokenizer, "我喜欢吃披萨") == (6, 18, 18)


def test_empty_text():
    assert token_spans(object(), "") == [] and readable_pieces([]) == []


def test_readable_pieces_of_nothing_is_explained():
    for bad in (None, "some text"):
        with pytest.raises(TypeError, match=r"token_spans\(lm, text\)"):
            readable_pieces(bad)


@pytest.mark.slow
def test_embedded_tokenizer_splits_chinese_and_emoji_into_byte_fragments(embedded_lm):
    spans, pieces = _check_spans(embedded_lm.tokenizer, "我喜欢吃披萨")
    assert len(spans) == 15 and all(s.is_fragment for s in spans)
    assert spans[0].token == "æĪ" and spans[0].bytes == "我".encode()[:2]
    assert [p.text for p in pieces] == list("我喜欢吃披萨")
    assert pieces[0].token_ids == (spans[0].id, spans[1].id)
    assert text_counts(embedded_lm, "我喜欢吃披萨") == (6, 18, 15)

    spans, pieces = _check_spans(embedded_lm.tokenizer, "I love 🍕 pizza!")
    assert [s.token for s in spans] == ["I", "Ġlove", "ĠðŁ", "į", "ķ", "Ġpizza", "!"]
    assert [s.is_fragment for s in spans] == [False, False, True, True, True, False, False]
    assert [p.text for p in pieces] == ["I", " love", " 🍕", " pizza", "!"]
    assert pieces[2].is_group and pieces[2].token_indices == (2, 3, 4)
    assert text_counts(embedded_lm, "I love 🍕 pizza!") == (15, 18, 7)


@pytest.mark.slow
@pytest.mark.parametrize("text", HARD_TEXTS)
def test_embedded_tokenizer_spans_rebuild_the_text(embedded_lm, text):
    spans, _ = _check_spans(embedded_lm.tokenizer, text)
    for s in spans:  # whole tokens: the tokenizer's own character offsets point at their text
        if not s.is_fragment:
            assert text[s.start:s.end] == s.text


@pytest.mark.slow
def test_special_tokens_are_their_own_text(embedded_lm):
    tok = embedded_lm.tokenizer
    assert token_bytes(embedded_lm, tok.eos_token_id) == tok.eos_token.encode()
    spans = token_spans(embedded_lm, "<|im_start|>user")
    assert spans[0].token == "<|im_start|>" and spans[0].text == "<|im_start|>"


# --- figures ------------------------------------------------------------------------------

def test_token_spans_html_shows_ids_whitespace_and_fragments(tiny_tokenizer):
    from helpers.plots import token_spans_html

    spans = token_spans(tiny_tokenizer, "a b\n我")
    page = token_spans_html(spans)
    assert page.count("class='llmclock-token") - page.count("class='llmclock-tokens'") == len(spans)
    for s in spans:
        assert f">{s.id}</span>" in page
    assert "·" in page and "↵" in page and "<br>" in page
    assert page.count("llmclock-fragment") == 3 and "⟨e6⟩" in page
    assert "#DCEBF7" in page and "#FCEBD0" in page, "alternating backgrounds"
    pieces_page = token_spans_html(readable_pieces(spans))
    assert pieces_page.count("llmclock-group") == 1 and ">我<" in pieces_page
    escaped = token_spans_html(token_spans(tiny_tokenizer, "<b>"))
    assert "<b>" not in escaped and "&lt;" in escaped and "&gt;" in escaped
    assert "empty" in token_spans_html([])


def test_counts_and_training_figures(tiny_tokenizer, trained):
    from helpers.plots import bpe_training_figure, text_counts_figure

    fig = text_counts_figure({"English": text_counts(tiny_tokenizer, "the clock"),
                              "Chinese": text_counts(tiny_tokenizer, "我喜欢")})
    assert [t.name for t in fig.data] == ["characters", "bytes", "tokens"]
    assert list(fig.data[1].y) == [9, 9] and fig.layout.title.text
    fig = bpe_training_figure(trained, TRAINING_TEXT[:400])
    assert (fig.data[0].y[0] == len(TRAINING_TEXT[:400].encode())
            and len(fig.data[0].y) == len(trained.merges) + 1)
    assert fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    labels = fig.layout.annotations
    assert labels and all(a.text.startswith("merge ") for a in labels)
    assert labels[-1].xanchor == "right" and labels[0].xanchor == "left", (
        "the label at the right edge points left")
    with pytest.raises(ValueError, match="at least one"):
        text_counts_figure({})


def test_merges_table(trained):
    from helpers.plots import merges_table_html

    page = merges_table_html(trained, first=5)
    assert page.count("<tr>") == 6
    first = trained.merges[0]
    assert (f"({first.left})" in page and f"({first.new_id})" in page
            and f"<td style='padding:2px 10px;border-bottom:1px solid #eee;"
                f"font-family:monospace'>{first.count}</td>" in page)


@pytest.fixture(scope="module")
def sentencepiece_tokenizer():
    """A Llama-2/TinyLlama-style tokenizer: '▁' for spaces, a dummy prefix, <0xNN> byte fallback."""
    import json

    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>", fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(),
                                     decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<unk>", "<s>", "</s>"],
                                  show_progress=False)
    tok.train_from_iterator([TRAINING_TEXT.replace("我喜欢吃披萨", "")], trainer=trainer)
    spec = json.loads(tok.to_str())
    for b in range(256):  # the byte tokens live in the model's vocabulary, as in Llama 2
        spec["model"]["vocab"].setdefault(f"<0x{b:02X}>", len(spec["model"]["vocab"]))
    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
                                   unk_token="<unk>", bos_token="<s>", eos_token="</s>")


def test_sentencepiece_byte_fallback_and_dummy_prefix(sentencepiece_tokenizer):
    text = "我喜欢 pizza 🍕"
    spans = token_spans(sentencepiece_tokenizer, text)
    assert spans[0].token == "▁" and spans[0].bytes == b"", (
        "the dummy-prefix space is not part of the text")
    assert spans[2].token == "<0xE5>" and spans[2].bytes == b"\xe5" and spans[2].is_fragment
    assert b"".join(s.bytes for s in spans) == text.encode("utf-8")
    pieces = readable_pieces(spans)
    assert "".join(p.text for p in pieces) == text
    assert [p.text for p in pieces if p.is_group] == ["喜", "欢"]
    for sample in ["The clock ticks.", "é", "  two  spaces\nnew"]:
        assert "".join(p.text for p in readable_pieces(sentencepiece_tokenizer, sample)) == sample


def test_bpe_steps_html(trained):
    from helpers.plots import bpe_steps_html

    sentence = "The clock ticks."
    page = bpe_steps_html(trained, sentence, steps=(0, 1, -1))
    steps = trained.encode_steps(sentence)
    assert f"after <b>0</b> merges · <b>{len(sentence)}</b> tokens" in page
    assert f"after <b>{len(trained.merges)}</b> merges · <b>{len(steps[-1])}</b> tokens" in page
    assert page.count("class='llmclock-token'") == len(steps[0]) + len(steps[1]) + len(steps[-1])
    assert "made by merge 1" in page, "the token the first merge made is outlined"
    with pytest.raises(ValueError, match="out of range"):
        bpe_steps_html(trained, sentence, steps=(10_000,))
