"""Is Chinese drawn with a CJK font? Two CJK characters and a code point no font has are drawn
on a canvas in the page's font: without a CJK font all three come out as the same
missing-glyph box."""

from __future__ import annotations

_DRAW_JS = """(font) => { const draw = (text) => { const canvas = document.createElement('canvas');
    canvas.width = 120; canvas.height = 40; const c = canvas.getContext('2d');
    c.font = '28px ' + font; c.fillText(text, 4, 30);
    return Array.from(c.getImageData(0, 0, 120, 40).data).join(','); };
  return [draw('我'), draw('喜'), draw('\\u{10FFFD}')]; }"""


def cjk_drawn(page, selector: str) -> bool:
    """True when the font of the element at `selector` draws 我 and 喜 as glyphs of their own."""
    font = page.evaluate("(s) => getComputedStyle(document.querySelector(s)).fontFamily", selector)
    return len(set(page.evaluate(_DRAW_JS, font))) == 3
