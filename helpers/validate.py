"""Checking what a learner passes in: one set of validators for every public function.

Each validator returns the checked value (normalised: a plain int, float, list of ints) or
raises `error` (ValueError unless the caller passes its own subclass, e.g. ClockError) with a
short message that says what was wrong and what to give instead. Validating first, before any
state is touched, is what keeps a clock or a search intact after bad input.

    check_whole(n, "max_new_tokens", minimum=1)
    check_number(temperature, "temperature", low=0, low_open=True)
    check_text(prompt, "prompt")                 # a str, and valid text (no lone surrogate)
    check_token_ids(lm, ids)                     # whole numbers in the vocabulary
    token_ids_of(lm, text_or_ids, "prompt")      # text -> ids, or ids checked; not empty, fits
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

__all__ = ["check_whole", "check_number", "check_text", "check_token_id", "check_token_ids",
           "token_ids_of"]


def _is_whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_whole(value, name: str, minimum: int | None = 0, maximum: int | None = None,
                hint: str = "", error: type[Exception] = ValueError) -> int:
    """A whole number (int, not bool or float) in [minimum, maximum]."""
    low = "" if minimum is None else f" >= {minimum}"
    high = "" if maximum is None else (f" <= {maximum}" if not low else f" up to {maximum}")
    if (not _is_whole(value) or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)):
        raise error(f"{name} must be a whole number{low}{high}{hint}, got {value!r}.")
    return int(value)


def check_number(value, name: str, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, hint: str = "",
                 error: type[Exception] = ValueError) -> float:
    """A finite real number (int or float, not bool, not NaN or infinite) within the bounds."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            where = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise error(f"{name} must be in {where}{hint}, got {value!r}.")
        elif low is not None:
            where = f" {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            where = f" {'<' if high_open else '<='} {high:g}"
        else:
            where = ""
        raise error(f"{name} must be a number{where}{hint}, got {value!r}.")
    return float(value)


def check_text(value, what: str = "text", error: type[Exception] = ValueError) -> str:
    """A str that is valid text: every character encodable as UTF-8 (a lone half of a
    surrogate pair, e.g. from a bad copy-paste, is not)."""
    if isinstance(value, (bytes, bytearray)):
        raise error(f"The {what} must be text (a str), got bytes: decode them first, "
                    f"e.g. data.decode('utf-8').")
    if not isinstance(value, str):
        raise error(f"The {what} must be text (a str), got {type(value).__name__}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise error(
            f"The {what} has a character that is not valid text ({value[err.start]!r} at "
            f"position {err.start}, half of a surrogate pair): retype or delete it.") from None
    return value


def check_token_id(lm, value, error: type[Exception] = ValueError) -> int:
    """One token id: a whole number from 0 to vocab_size - 1."""
    if not _is_whole(value):
        raise error(f"Token ids are whole numbers from 0 to {lm.vocab_size - 1}; "
                    f"got {value!r} (a {type(value).__name__}).")
    if not 0 <= value < lm.vocab_size:
        raise error(f"Token id {value} is out of range: token ids are whole numbers from 0 to "
                    f"{lm.vocab_size - 1}.")
    return int(value)


def check_token_ids(lm, ids, what: str = "token ids", allow_empty: bool = True,
                    error: type[Exception] = ValueError) -> list[int]:
    """A sequence of token ids (list, tuple, range, or an integer tensor/array), each a whole
    number in the vocabulary; returned as a list of ints."""
    if isinstance(ids, (str, bytes, bytearray)) or not hasattr(ids, "__iter__"):
        raise error(f"The {what} must be a list of token ids (whole numbers), "
                    f"got {type(ids).__name__}.")
    if hasattr(ids, "dtype") and hasattr(ids, "tolist"):  # a torch tensor or a numpy array
        if getattr(ids.dtype, "is_floating_point", False) or str(ids.dtype).startswith(
                ("float", "torch.float", "bool", "torch.bool", "complex", "torch.complex")):
            raise error(f"The {what} must be whole numbers, got a tensor of {ids.dtype}.")
        flat = ids.reshape(-1).tolist()
    else:
        flat = list(ids)
    checked = [check_token_id(lm, i, error) for i in flat]
    if not checked and not allow_empty:
        raise error(f"The {what} are empty: there are no tokens to read. Give some text or "
                    f"ids, e.g. lm.encode('Once upon a time').")
    return checked


def token_ids_of(lm, text_or_ids: str | Sequence[int], what: str = "text",
                 limit: int | None = None, error: type[Exception] = ValueError) -> list[int]:
    """The token ids of a text (checked as text, then encoded as a prompt: lm.encode_prompt)
    or of ids passed through (checked); never empty, and at most `limit` tokens (default: the
    model's context)."""
    if isinstance(text_or_ids, str):
        check_text(text_or_ids, what, error)
        if text_or_ids == "":
            raise error(f"The {what} is empty: give some text, e.g. 'Once upon a time'.")
        ids = lm.encode_prompt(text_or_ids)  # as the clock reads a prompt (Gemma: <bos> first)
    else:
        ids = check_token_ids(lm, text_or_ids, f"{what}'s token ids", allow_empty=False,
                              error=error)
    if not ids:
        raise error(f"The {what} has no tokens to read: give some text, e.g. 'Once upon a time'.")
    limit = lm.context_length if limit is None else limit
    if len(ids) > limit:
        raise error(f"The {what} is {len(ids)} tokens, but {lm.name} reads at most {limit} "
                    f"here: shorten it, or give a shorter text.")
    return ids
