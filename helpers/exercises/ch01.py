"""Checks for notebook 01 · Tokenization."""

from __future__ import annotations

from ..checks import check_close, check_equal, check_function, msg, solution_of
from ..tokens import merge_pair, token_bytes

__all__ = ["check_n_bytes", "check_my_merge", "check_glued", "check_tokens_per_character",
           "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "n_bytes": '''
def n_bytes(text):
    return len(text.encode("utf-8"))   # 披萨🍕: 2 x 3 bytes (Chinese) + 4 bytes (emoji)
''',
    "my_merge": '''
def my_merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)   # the pair becomes one token
            i += 2               # skip both members: no overlaps ([5, 5, 5] -> [7, 5])
        else:
            out.append(ids[i])
            i += 1
    return out
''',
    "glued": '''
whole = b"".join(token_bytes(lm, i) for i in ids).decode("utf-8")
''',
    "tokens_per_character": '''
c = text_counts(lm, "我喜欢吃披萨")
tokens_per_character = c.tokens / c.characters   # the English sentence: 6 / 20 = 0.3
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


# Texts on which every other encoding gives another count than UTF-8 (on 披萨🍕 alone, UTF-16
# with its byte-order mark gives 10 bytes too).
N_BYTES_TEXTS = ["披萨🍕", "pizza", "café", "我喜欢吃披萨", "🍕🍕🍕", "", "a\nb"]


def check_n_bytes(n_bytes, text: str = "披萨🍕"):
    """Exercise 1: n_bytes(text), the UTF-8 length of a text, on `text` and on other texts
    (ASCII, an accent, Chinese, emoji, empty), so that another encoding cannot coincide."""
    texts = [text] + [t for t in N_BYTES_TEXTS if t != text]
    mistakes = [
        (len, msg("ch01.n_bytes.characters")),
        (lambda t: len(t.encode("utf-16")), msg("ch01.n_bytes.utf16_bom")),
        (lambda t: len(t.encode("utf-16-le")), msg("ch01.n_bytes.utf16")),
        (lambda t: len(t.encode("utf-32-le")), msg("ch01.n_bytes.utf32")),
        (lambda t: len(t.encode("utf-32")), msg("ch01.n_bytes.utf32")),
        (lambda t: len(t.encode("gb18030")), msg("ch01.n_bytes.gb18030")),
        (lambda t: 3 * len(t), msg("ch01.n_bytes.three_each")),
        (lambda t: t.encode("utf-8"), msg("ch01.n_bytes.the_bytes")),
    ]
    raised = [(UnicodeError, msg("ch01.n_bytes.cannot_encode"))]
    return check_function(n_bytes, lambda t: len(t.encode("utf-8")), [(t,) for t in texts],
                          "n_bytes", mistakes=mistakes, raised=raised,
                          describe=lambda c: msg("ch01.n_bytes.case", text=repr(c[0])),
                          hint=msg("ch01.n_bytes.hint"))


MERGE_CASES = [
    ([1, 2, 3, 1, 2], (1, 2), 99), ([5, 5, 5], (5, 5), 7), ([4, 2], (2, 4), 8),
    ([], (1, 2), 3), ([1, 2], (1, 2), 9), ([3, 1, 2, 1, 2, 2], (1, 2), 6),
    # real BPE ids are 256 and up, with several digits: as text, 1256 259 contains "256 259"
    ([1256, 259, 256, 259, 7], (256, 259), 300), ([256, 2590, 256, 259], (256, 259), 301),
    ([3, 125, 6, 25, 6], (25, 6), 302), ([256, 259, 256, 259], (256, 259), 303),
    ([49151, 300, 300, 300], (300, 300), 49152),
]


def _merge_as_text(sep: str):
    """The slip: the ids joined into a string, str.replace on the pair, split back."""
    def merge(ids, pair, new_id):
        joined = sep.join(map(str, ids)).replace(sep.join(map(str, pair)), str(new_id))
        return [int(x) for x in joined.split(sep)] if joined else []
    return merge


def _merge_as_fenced_text(ids, pair, new_id):
    """The same with separators around every id: side-by-side pairs share a separator."""
    joined = "," + ",".join(map(str, ids)) + ","
    joined = joined.replace(f",{pair[0]},{pair[1]},", f",{new_id},")
    return [int(x) for x in joined.strip(",").split(",") if x]


def _overlapping_merge(ids, pair, new_id):
    out = [new_id if (a, b) == pair else a for a, b in zip(ids, ids[1:])]
    return out + ids[-1:]


def _merge_dropping_the_last(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids) - 1:  # stops one early: an unmerged last id is never copied
        if (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def check_my_merge(my_merge):
    """Exercise 2: my_merge(ids, pair, new_id) on cases that catch overlaps and the last id."""
    def run(fn):  # fresh copies: a function that changes its input must not spoil the next case
        return lambda ids, pair, new_id: fn(list(ids), pair, new_id)

    as_text = msg("ch01.my_merge.as_text")
    mistakes = [(run(_merge_as_text(sep)), as_text) for sep in (" ", ",", ", ", "-", "|")]
    mistakes += [
        (run(_merge_as_fenced_text), msg("ch01.my_merge.fenced_text")),
        (run(_overlapping_merge), msg("ch01.my_merge.overlapping")),
        (run(_merge_dropping_the_last), msg("ch01.my_merge.drops_the_last")),
    ]
    raised = [(ValueError, msg("ch01.my_merge.value_error"))]
    answer = run(my_merge) if callable(my_merge) else my_merge   # (... is still empty)
    return check_function(answer, run(merge_pair), MERGE_CASES, "my_merge", raised=raised,
                          hint=msg("ch01.my_merge.hint"), mistakes=mistakes, reveal=True,
                          describe=lambda c: f"ids={c[0]}, pair={c[1]}, new_id={c[2]}")


def check_glued(whole, lm, ids):
    """Exercise 3: the character made by joining the bytes of `ids`, then decoding once."""
    data = b"".join(token_bytes(lm, i) for i in ids)
    mistakes = [
        (data, msg("ch01.glued.still_bytes")),
        ("".join(lm.decode([i]) for i in ids), msg("ch01.glued.one_by_one")),
        ([token_bytes(lm, i) for i in ids], msg("ch01.glued.list_of_bytes")),
    ]
    return check_equal(whole, data.decode("utf-8"), msg("ch01.glued.name"), mistakes=mistakes,
                       hint=msg("ch01.glued.hint"))


def check_tokens_per_character(value, counts):
    """Exercise 4: tokens per character of a text, from its TextCounts."""
    c = counts
    mistakes = [
        (c.characters / c.tokens, msg("ch01.tokens_per_character.upside_down")),
        (c.tokens / c.bytes, msg("ch01.tokens_per_character.per_byte")),
        (c.bytes / c.characters, msg("ch01.tokens_per_character.bytes_per_character")),
        (c.bytes / c.tokens, msg("ch01.tokens_per_character.bytes_per_token")),
    ]
    return check_close(value, c.tokens / c.characters, msg("ch01.tokens_per_character.name"),
                       mistakes=mistakes, hint=msg("ch01.tokens_per_character.hint"))
