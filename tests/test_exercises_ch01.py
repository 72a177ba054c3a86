"""Notebook 01's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import pytest

from helpers.exercises import ch01
from helpers.tokens import TextCounts, merge_pair, token_bytes

TEXT = "披萨🍕"


def test_n_bytes():
    assert ch01.check_n_bytes(len(TEXT.encode("utf-8")))
    for wrong, slip in [(len(TEXT), "counts characters"), (len(TEXT.encode("utf-16-le")), "UTF-16"),
                        (9, "emoji takes 4"), (11, "one too many"), (..., "still empty"),
                        ("10", "It is a str")]:
        result = ch01.check_n_bytes(wrong)
        assert not result and slip in result.message, (wrong, result.message)
        assert " 10" not in result.message.replace("'10'", ""), "the answer is never printed"


def my_merge(ids, pair, new_id):   # the worked solution of the notebook
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def no_skip(ids, pair, new_id):     # forgets to jump past the pair: overlapping merges
    out = []
    for i in range(len(ids)):
        out.append(new_id if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair else ids[i])
    return out


def drops_last(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids) - 1:
        if (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def in_place(ids, pair, new_id):    # changes ids and returns nothing
    ids[:] = merge_pair(ids, pair, new_id)


def test_my_merge():
    assert ch01.check_my_merge(my_merge)
    assert ch01.check_my_merge(merge_pair)
    for wrong, slip in [(no_skip, "jump past both ids"), (drops_last, "last id goes missing"),
                        (in_place, "returned None"), (lambda ids, pair, new_id: ids, "expected"),
                        (lambda ids: ids, "TypeError")]:
        result = ch01.check_my_merge(wrong)
        assert not result and slip in result.message, (wrong, result.message)


@pytest.fixture(scope="module")
def lm(tiny_llama_dir):
    from helpers import load_model

    return load_model(str(tiny_llama_dir))


def test_glued(lm):
    ids = lm.encode("我")
    assert len(ids) > 1
    data = b"".join(token_bytes(lm, i) for i in ids)
    assert ch01.check_glued(data.decode("utf-8"), lm, ids)
    alone = "".join(lm.decode([i]) for i in ids)
    for wrong, slip in [(data, "still bytes"), (alone, "alone gives"),
                        ([token_bytes(lm, i) for i in ids], "b''.join"), ("我 ", "not it")]:
        result = ch01.check_glued(wrong, lm, ids)
        assert not result and slip in result.message, (wrong, result.message)


def test_tokens_per_character():
    c = TextCounts(characters=6, bytes=18, tokens=15)   # 我喜欢吃披萨 in SmolLM2's tokenizer
    assert ch01.check_tokens_per_character(c.tokens / c.characters, c)
    for wrong, slip in [(c.characters / c.tokens, "Upside down"), (c.tokens / c.bytes, "per byte"),
                        (c.bytes / c.characters, "bytes per character"),
                        (c.bytes / c.tokens, "bytes per token")]:
        result = ch01.check_tokens_per_character(wrong, c)
        assert not result and slip in result.message, (wrong, result.message)
