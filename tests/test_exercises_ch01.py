"""Notebook 01's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import pytest

from helpers.exercises import ch01
from helpers.tokens import TextCounts, merge_pair, token_bytes
from exercise_language import assert_every_mistake_speaks

TEXT = "披萨🍕"


def solution(name: str) -> dict:
    """The names a worked solution of helpers/exercises/ch01.py defines, run on its own."""
    namespace: dict = {}
    exec(ch01.SOLUTIONS[name], namespace)
    return namespace


def test_n_bytes():
    assert ch01.check_n_bytes(solution("n_bytes")["n_bytes"])
    assert ch01.check_n_bytes(lambda text: len(bytes(text, "utf-8")))
    assert ch01.check_n_bytes(lambda text: len(text.encode()))
    for wrong, slip in [(len, "counts characters"),
                        (lambda t: len(t.encode("utf-16")), "byte-order mark"),
                        (lambda t: len(t.encode("utf-16-le")), "UTF-16"),
                        (lambda t: len(t.encode("utf-32")), "UTF-32"),
                        (lambda t: len(t.encode("gb18030")), "GB18030"),
                        (lambda t: len(t.encode("gbk")), "cannot write every character"),
                        (lambda t: 3 * len(t), "emoji takes 4"),
                        (lambda t: t.encode("utf-8"), "bytes themselves"),
                        (lambda t: len(t.encode("utf-8")) + 1, "Wrong for"),
                        (10, "should be a function"), (..., "still empty"),
                        (lambda t: None, "returned None")]:
        result = ch01.check_n_bytes(wrong)
        assert not result and slip in result.message, (wrong, result.message)
        assert "10" not in result.message, "the answer for 披萨🍕 is never printed"


def test_utf16_coincides_on_the_default_text_only():
    assert len(TEXT.encode("utf-16")) == len(TEXT.encode("utf-8"))
    assert any(len(t.encode("utf-16")) != len(t.encode("utf-8")) for t in ch01.N_BYTES_TEXTS)


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


def as_text(ids, pair, new_id):   # ids joined into a string: merges across two ids
    joined = " ".join(map(str, ids)).replace(f"{pair[0]} {pair[1]}", str(new_id))
    return [int(x) for x in joined.split()]


def as_text_commas(ids, pair, new_id):
    text = ",".join(str(i) for i in ids).replace(",".join(str(i) for i in pair), str(new_id))
    return [int(x) for x in text.split(",")] if text else []


def as_fenced_text(ids, pair, new_id):   # ",1,2," fences: side-by-side pairs share a comma
    text = ("," + ",".join(map(str, ids)) + ",").replace(f",{pair[0]},{pair[1]},", f",{new_id},")
    return [int(x) for x in text.split(",") if x]


def as_text_split_on_space(ids, pair, new_id):   # int('') on an empty list
    joined = " ".join(map(str, ids)).replace(f"{pair[0]} {pair[1]}", str(new_id))
    return [int(x) for x in joined.split(" ")]


def test_my_merge():
    assert ch01.check_my_merge(my_merge)
    assert ch01.check_my_merge(solution("my_merge")["my_merge"])
    assert ch01.check_my_merge(merge_pair)
    assert ch01.check_my_merge(lambda ids, pair, new_id: tuple(my_merge(ids, pair, new_id)))
    assert any(p[0] >= 256 and n > 999 for _, p, n in ch01.MERGE_CASES), "real BPE ids"
    for wrong, slip in [(no_skip, "jump past both ids"), (drops_last, "last id goes missing"),
                        (in_place, "returned None"), (lambda ids, pair, new_id: ids, "expected"),
                        (lambda ids: ids, "TypeError"), (as_text, "treats the ids as text"),
                        (as_text_commas, "treats the ids as text"),
                        (as_fenced_text, "share a separator"),
                        (as_text_split_on_space, "joined the ids into a string")]:
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


@pytest.mark.parametrize("name", ["n_bytes", "my_merge", "glued", "tokens_per_character"])
def test_every_mistake_in_chinese(name, lm):
    ids, counts = lm.encode("我"), TextCounts(characters=6, bytes=18, tokens=15)
    calls = {"n_bytes": lambda check, answer: check(answer),
             "my_merge": lambda check, answer: check(answer),
             "glued": lambda check, answer: check(answer, lm, ids),
             "tokens_per_character": lambda check, answer: check(answer, counts)}
    assert assert_every_mistake_speaks("zh", getattr(ch01, f"check_{name}"), calls[name])
