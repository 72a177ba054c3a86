"""Checks for notebook 01 · Tokenization."""

from __future__ import annotations

from ..checks import check_close, check_equal, check_function
from ..tokens import merge_pair, token_bytes

__all__ = ["check_n_bytes", "check_my_merge", "check_glued", "check_tokens_per_character"]


def check_n_bytes(n_bytes, text: str = "披萨🍕"):
    """Exercise 1: the UTF-8 length of `text`, never printed by the check."""
    mistakes = [
        (len(text), "That counts characters; a Chinese character takes 3 bytes and this emoji 4."),
        (len(text.encode("utf-16-le")), "That is UTF-16; the question is about UTF-8."),
        (3 * len(text), "Not every character is 3 bytes: the emoji takes 4."),
    ]
    return check_equal(n_bytes, len(text.encode("utf-8")), "number of bytes", mistakes=mistakes,
                       hint="Turn the text into bytes with .encode('utf-8'), then take len().")


MERGE_CASES = [([1, 2, 3, 1, 2], (1, 2), 99), ([5, 5, 5], (5, 5), 7), ([4, 2], (2, 4), 8),
               ([], (1, 2), 3), ([1, 2], (1, 2), 9), ([3, 1, 2, 1, 2, 2], (1, 2), 6)]


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

    mistakes = [
        (run(_overlapping_merge), "After a merge, jump past both ids (i += 2): [5, 5, 5] with "
                                  "the pair (5, 5) gives [7, 5], not two overlapping merges."),
        (run(_merge_dropping_the_last), "The last id goes missing: when it is not part of a "
                                        "merged pair, it must still be copied."),
    ]
    return check_function(run(my_merge), run(merge_pair), MERGE_CASES, "my_merge",
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
