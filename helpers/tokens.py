"""Tokens for display and for teaching."""

from __future__ import annotations

__all__ = ["visible"]

# Whitespace drawn as visible glyphs, so " the" and "the" look different on a slide.
_VISIBLE = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}


def visible(text: str) -> str:
    """Make spaces, newlines and tabs visible: ' the\\n' -> '·the↵'. Empty -> '∅'."""
    if text == "":
        return "∅"
    return "".join(_VISIBLE.get(ch, ch) for ch in text)
