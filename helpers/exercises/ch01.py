"""Checks for notebook 01 · Tokenization."""

from __future__ import annotations

from ..checks import check_close, check_equal, check_function, solution_of
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
        (len, "That counts characters; a Chinese character takes 3 bytes and this emoji 4."),
        (lambda t: len(t.encode("utf-16")), "That is UTF-16 with its 2-byte byte-order mark: on "
                                            "披萨🍕 it happens to give the UTF-8 count too, but not "
                                            "on 'pizza'. The question is about UTF-8."),
        (lambda t: len(t.encode("utf-16-le")), "That is UTF-16; the question is about UTF-8."),
        (lambda t: len(t.encode("utf-32-le")), "That is UTF-32 (4 bytes for every character); "
                                               "the question is about UTF-8."),
        (lambda t: len(t.encode("utf-32")), "That is UTF-32 (4 bytes for every character); "
                                            "the question is about UTF-8."),
        (lambda t: len(t.encode("gb18030")), "That is GB18030, a Chinese encoding (2 bytes per "
                                             "Chinese character); the question is about UTF-8."),
        (lambda t: 3 * len(t), "Not every character is 3 bytes: the emoji takes 4, 'a' takes 1."),
        (lambda t: t.encode("utf-8"), "Those are the bytes themselves: len() counts them."),
    ]
    raised = [(UnicodeError, "That encoding cannot write every character (the emoji, or 萨): "
                             "UTF-8 can; use .encode('utf-8').")]
    return check_function(n_bytes, lambda t: len(t.encode("utf-8")), [(t,) for t in texts],
                          "n_bytes", mistakes=mistakes, raised=raised,
                          describe=lambda c: f"the text {c[0]!r}",
                          hint="Turn the text into bytes with .encode('utf-8'), then take len().")


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

    as_text = ("That treats the ids as text: joined into a string, the ids 1256, 259 contain the "
               "characters of the pair (256, 259), so str.replace merges across two ids. Real BPE "
               "ids are 256 and up, with several digits: compare the ids as numbers, pair by pair.")
    mistakes = [(run(_merge_as_text(sep)), as_text) for sep in (" ", ",", ", ", "-", "|")]
    mistakes += [
        (run(_merge_as_fenced_text), "That treats the ids as text with separators around them: "
                                     "two pairs side by side share a separator, so str.replace "
                                     "misses the second one. Compare the ids as numbers, pair by "
                                     "pair."),
        (run(_overlapping_merge), "After a merge, jump past both ids (i += 2): [5, 5, 5] with "
                                  "the pair (5, 5) gives [7, 5], not two overlapping merges."),
        (run(_merge_dropping_the_last), "The last id goes missing: when it is not part of a "
                                        "merged pair, it must still be copied."),
    ]
    raised = [(ValueError, "If you joined the ids into a string: int('') fails on an empty list, "
                           "and as text 1256, 259 contains the pair (256, 259). Compare the ids "
                           "as numbers, pair by pair.")]
    return check_function(run(my_merge), run(merge_pair), MERGE_CASES, "my_merge", raised=raised,
                          hint="Walk with an index i; if ids[i], ids[i+1] is the pair, append "
                               "new_id and jump by 2, else append ids[i] and move by 1.",
                          mistakes=mistakes, reveal=True,
                          describe=lambda c: f"ids={c[0]}, pair={c[1]}, new_id={c[2]}")


def check_glued(whole, lm, ids):
    """Exercise 3: the character made by joining the bytes of `ids`, then decoding once."""
    data = b"".join(token_bytes(lm, i) for i in ids)
    mistakes = [
        (data, "Those are still bytes: .decode('utf-8') turns them into text."),
        ("".join(lm.decode([i]) for i in ids), "Decoding each token alone gives '�': join the "
                                               "bytes first, then decode once."),
        ([token_bytes(lm, i) for i in ids], "That is a list of each token's bytes: glue them "
                                            "with b''.join(...) and decode."),
    ]
    return check_equal(whole, data.decode("utf-8"), "the glued character", mistakes=mistakes,
                       hint='token_bytes(lm, i) gives the bytes of one token; b"".join(...) '
                            'glues bytes together; .decode("utf-8") makes text.')


def check_tokens_per_character(value, counts):
    """Exercise 4: tokens per character of a text, from its TextCounts."""
    c = counts
    mistakes = [
        (c.characters / c.tokens, "Upside down: that is characters per token."),
        (c.tokens / c.bytes, "That is per byte; the question is per character."),
        (c.bytes / c.characters, "That is bytes per character; count tokens."),
        (c.bytes / c.tokens, "That is bytes per token; the question is tokens per character."),
    ]
    return check_close(value, c.tokens / c.characters, "tokens per character", mistakes=mistakes,
                       hint="Divide the number of tokens by the number of characters.")
