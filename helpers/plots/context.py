"""The text so far as HTML: prompt, generated tokens and the newest one, token by token.

    HTML(context_html(clock.tokens, len(clock.prompt_ids), token_ids=clock.ids, tokenizer=lm))

`context_html` sets the prompt apart (blue background), the generated tokens (orange) and
the newest token (bold, strong orange); each token is its own box, so the token boundaries
are visible, and whitespace is drawn as faint glyphs (· for a space, ↵ plus a real line
break for a newline) so the text stays readable. Byte tokens that only together make a
character are drawn as that character, underlined (helpers.tick_view.context_pieces).
Hovering a token shows its position, id and probability.
"""

from __future__ import annotations

import html
from typing import Sequence

from ..i18n import messages
from ..tick_view import context_pieces, percent_label
from ..tokens import visible
from .style import (
    FILTERED_COLOR,
    GENERATED_COLOR,
    MONO_FONT,
    NEW_TOKEN_COLOR,
    PALETTE,
    PROMPT_COLOR,
    font_size,
)

__all__ = ["context_html", "token_span_html"]

_WHITESPACE_COLOR = "#9a9a9a"


def _visible_html(text: str) -> str:
    """Token text as HTML: whitespace as faint glyphs, a newline also breaks the line."""
    if text == "":
        return "<span style='opacity:0.5'>∅</span>"
    parts = []
    for ch in text:
        if ch in " \t\r\n":
            # Faded, not grey: stays visible on every background (including the newest token's).
            parts.append(f"<span style='opacity:0.5'>{visible(ch)}</span>")
            if ch == "\n":
                parts.append("<br>")
        else:
            parts.append(html.escape(ch))
    return "".join(parts)


def token_span_html(
    text: str,
    background: str,
    title: str = "",
    bold: bool = False,
    css_class: str = "",
    n_tokens: int = 1,
    reading: bool = False,
    forced: bool = False,
) -> str:
    """One token (or one character made of n_tokens byte tokens, underlined) as an inline box;
    <wbr> after it lets long text wrap between tokens. reading: the token the model reads at
    this tick (a dashed blue frame); forced: chosen by force, not by the sampler (a wavy
    vermillion underline)."""
    weight = "font-weight:700;" if bold else ""
    outline = f"outline:2px solid {PALETTE['vermillion']};" if bold else ""
    if reading:
        outline = f"outline:2px dashed {FILTERED_COLOR};outline-offset:1px;"
    group = "text-decoration:underline dotted;text-underline-offset:4px;" if n_tokens > 1 else ""
    if forced:
        group = (f"text-decoration:underline wavy {PALETTE['vermillion']};"
                 "text-underline-offset:4px;")
    cls = f" class='{css_class}'" if css_class else ""
    return (
        f"<span{cls} data-tokens='{n_tokens}' title='{html.escape(title, quote=True)}' "
        f"style='background:{background};{weight}{outline}{group}border-radius:3px;"
        "padding:1px 1px;margin:0 1px;'>"
        f"{_visible_html(text)}</span><wbr>"
    )


def _cost(text: str, line_chars: int) -> float:
    """Room a token box takes, in characters: its text plus its frame; a newline ends the line."""
    return len(text) + 0.6 + text.count("\n") * line_chars


def _elide(pieces: list, fit: tuple[int, int]) -> tuple[list, list, int]:
    """(head, tail, positions left out): the start of the text and its end within `fit`
    (lines, characters per line), the middle left out. Everything when it fits."""
    lines, line_chars = fit
    budget = lines * line_chars
    costs = [_cost(text, line_chars) for _, text in pieces]
    if sum(costs) <= budget:
        return pieces, [], 0
    budget -= 12  # the '… 123 tokens …' box
    head_budget = min(budget / 3, line_chars * 0.8)  # the prompt's start: under one line
    head, used = [], 0.0
    for piece, cost in zip(pieces, costs):
        if used + cost > head_budget and head:
            break
        head.append(piece)
        used += cost
    tail, used_tail = [], 0.0
    for piece, cost in zip(reversed(pieces[len(head):]), reversed(costs[len(head):])):
        if used + used_tail + cost > budget and tail:
            break
        tail.insert(0, piece)
        used_tail += cost
    left_out = sum(len(p) for p, _ in pieces[len(head): len(pieces) - len(tail)])
    return head, tail, left_out


def context_html(
    tokens: Sequence[str],
    n_prompt: int,
    token_ids: Sequence[int] | None = None,
    probs: Sequence[float | None] | None = None,
    highlight_newest: bool = True,
    font_px: int | None = None,
    tokenizer=None,
    reading: int | None = None,
    forced: Sequence[int] = (),
    fit: tuple[int, int] | None = None,
    legend: bool = True,
    lang: str = "en",
) -> str:
    """The text so far: prompt tokens, then generated ones, the newest highlighted.

    tokens: decoded text of every position (prompt first); n_prompt: how many are prompt.
    token_ids / probs: optional, same length as tokens, shown when hovering a token (probs of
    prompt positions are ignored: the prompt was given, not chosen).
    tokenizer (or the LoadedModel), with token_ids: byte tokens that together make a character
    are drawn as that character, underlined, instead of as '�' pieces.
    reading: the position the model reads at this tick (framed in dashed blue); forced:
    positions chosen by force (wavy underline).
    fit=(lines, characters per line): when the text is longer, its middle is left out
    ('… 40 tokens …') so that the prompt's start and the newest token both stay in view.
    lang: the language of the legend and the hover texts (helpers.i18n).
    """
    t = messages(lang)
    size = font_px or font_size("body") + 2
    spans = []
    last = len(tokens) - 1
    forced = set(forced)
    pieces = context_pieces(tokens, token_ids, n_prompt, tokenizer)
    head, tail, left_out = _elide(pieces, fit) if fit else (pieces, [], 0)
    for piece in head + [None] + tail:
        if piece is None:
            if left_out:
                spans.append(
                    f"<span class='llmclock-elided' title='{html.escape(t('text.elided_tip'))}' "
                    f"style='color:#555;font-style:italic;margin:0 4px'>"
                    f"{html.escape(t('text.elided', n=left_out))}</span><wbr>"
                )
            continue
        positions, text = piece
        first = positions[0]
        is_prompt = first < n_prompt
        newest = highlight_newest and last in positions and not is_prompt
        is_reading = reading is not None and reading in positions
        is_forced = any(p in forced for p in positions)
        where = (t("text.position", pos=first) if len(positions) == 1
                 else t("text.positions", first=first, last=positions[-1]))
        title = where + (t("text.prompt_mark") if is_prompt else "")
        if token_ids is not None:
            title += " · id " + ", ".join(str(token_ids[p]) for p in positions)
        if len(positions) > 1:
            title += t("text.one_character", n=len(positions))
        if probs is not None and not is_prompt:
            shown = [percent_label(probs[p]) for p in positions if probs[p] is not None]
            if shown:
                title += " · p = " + ", ".join(shown)
        if is_forced:
            title += t("text.forced_mark")
        if is_reading:
            title += t("text.reading_mark")
        background = NEW_TOKEN_COLOR if newest else (PROMPT_COLOR if is_prompt else GENERATED_COLOR)
        css = (
            "llmclock-new-token"
            if newest
            else ("llmclock-prompt-token" if is_prompt else "llmclock-generated-token")
        )
        # The marks first: the kind of token stays the last class (tests match on it).
        css = "llmclock-reading-token " * is_reading + "llmclock-forced-token " * is_forced + css
        spans.append(
            token_span_html(
                text, background, title, bold=newest, css_class=css, n_tokens=len(positions),
                reading=is_reading, forced=is_forced,
            )
        )
    if not tokens:
        spans.append(f"<span style='color:{_WHITESPACE_COLOR}'>{t('text.no_text')}</span>")
    key = ""
    if legend:
        box = "padding:0 4px;border-radius:3px"
        marks = []
        if reading is not None:
            marks.append(f"<span style='outline:2px dashed {FILTERED_COLOR};{box}'>"
                         f"{t('text.read')}</span>")
        if forced:
            marks.append(f"<span style='text-decoration:underline wavy {PALETTE['vermillion']};"
                         f"{box}'>{t('text.forced')}</span>")
        if tokenizer is not None and any(len(p) > 1 for p, _ in pieces):
            marks.append("<span style='text-decoration:underline dotted'>"
                         f"{t('text.byte_tokens')}</span>")
        key = (
            f"<div class='llmclock-legend' style='font-size:{max(size - 4, 13)}px;color:#555;"
            "line-height:1.5;margin-bottom:2px;white-space:nowrap;overflow:hidden'>"
            f"<span style='background:{PROMPT_COLOR};{box}'>{t('text.prompt')}</span> "
            f"<span style='background:{GENERATED_COLOR};{box}'>{t('text.generated')}</span> "
            f"<span style='background:{NEW_TOKEN_COLOR};{box};font-weight:700'>"
            f"{t('text.newest')}</span> "
            + " ".join(marks)
            + f" &nbsp;·&nbsp;{t('text.space')} ↵&nbsp;{t('text.new_line')}</div>"
        )
    return (
        f"<div class='llmclock-context' style='font-family:{MONO_FONT};font-size:{size}px;"
        "line-height:1.75;"
        f"white-space:normal;word-break:break-word'>{key}{''.join(spans)}</div>"
    )
