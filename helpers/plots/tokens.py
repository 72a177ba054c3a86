"""Tokens drawn for a slide: coloured spans with ids, counts, a BPE training curve.

    HTML(token_spans_html(token_spans(lm, "I love 🍕")))          # one box per token, id below
    HTML(token_spans_html(readable_pieces(lm, "我喜欢吃披萨")))    # byte fragments glued back
    text_counts_figure({"English": text_counts(lm, "..."), "Chinese": text_counts(lm, "...")})
"""

from __future__ import annotations

import html
import re
from typing import Mapping, Sequence

import plotly.graph_objects as go

from ..tokens import BPE, Piece, TextCounts, TokenSpan, show_bytes, visible
from .style import GENERATED_COLOR, PALETTE, PROMPT_COLOR, base_layout, font_size

__all__ = ["token_spans_html", "bpe_steps_html", "merges_table_html", "text_counts_figure",
           "bpe_training_figure"]

# Two light tints that alternate, so neighbouring tokens are told apart (blue/orange is safe
# for the common colour-vision deficiencies); byte fragments get a dashed vermillion outline.
_BACKGROUNDS = (PROMPT_COLOR, GENERATED_COLOR)
_FRAGMENT_OUTLINE = PALETTE["vermillion"]
_GROUP_OUTLINE = PALETTE["purple"]
_MUTED = "#777"


_HEX_FRAGMENT = re.compile(r"(⟨[0-9a-f]{2}(?: [0-9a-f]{2})*⟩)")


def _label_html(text: str) -> str:
    """Visible whitespace in a muted colour; hex byte fragments ⟨e6 88⟩ (from show_bytes) in
    vermillion."""
    if text == "":
        return f"<span style='color:{_MUTED}'>∅</span>"
    out = []
    for part in _HEX_FRAGMENT.split(text):
        if _HEX_FRAGMENT.fullmatch(part):
            out.append(f"<span style='color:{_FRAGMENT_OUTLINE};font-size:0.8em'>{part}</span>")
            continue
        for ch in visible(part) if part else "":
            out.append(f"<span style='color:{_MUTED}'>{ch}</span>" if ch in "·↵⇥␍"
                       else html.escape(ch))
    return "".join(out)


def _box(label: str, under: str, title: str, background: str, outline: str, css: str,
         font_px: int) -> str:
    return (
        f"<span class='{css}' title='{html.escape(title, quote=True)}' style='display:inline-block;"
        f"vertical-align:top;text-align:center;background:{background};{outline}border-radius:4px;"
        f"padding:2px 4px;margin:2px 2px;font-size:{font_px}px;line-height:1.3;"
        f"font-family:monospace'>"
        f"{label}<br><span style='font-size:{max(10, font_px * 0.62):.0f}px;color:{_MUTED}'>"
        f"{html.escape(under)}</span>"
        f"</span>"
    )


def token_spans_html(items: Sequence[TokenSpan] | Sequence[Piece], show_ids: bool = True,
                     font_px: int | None = None) -> str:
    """One coloured box per token (or readable piece) with its id underneath and details on hover.

    Spaces show as ·, newlines as ↵ (and start a new line, as in the text), bytes that are only
    part of a character as ⟨e6 88⟩ with a dashed outline. Pieces made of several tokens get a
    solid outline and list all their ids.
    """
    size = font_px or font_size("body") + 3
    if not items:
        return (f"<div style='color:{_MUTED};font-size:{size}px'>"
                f"(no tokens: the text is empty)</div>")
    boxes = []
    for n, item in enumerate(items):
        background = _BACKGROUNDS[n % 2]
        if isinstance(item, TokenSpan):
            title = (f"token {item.index} · id {item.id} · vocabulary string {item.token!r} · "
                     f"bytes {item.bytes.hex(' ')}")
            outline, css = "", "llmclock-token"
            if item.is_fragment:
                title += " · only part of a character: its bytes need a neighbour to decode"
                outline, css = (f"outline:2px dashed {_FRAGMENT_OUTLINE};outline-offset:-2px;",
                                "llmclock-token llmclock-fragment")
            under = str(item.id) if show_ids else ""
            text, ends_line = item.text, item.bytes.endswith(b"\n")
        else:
            ids = " + ".join(str(i) for i in item.token_ids)
            title = f"{len(item.token_ids)} token{'s' if item.is_group else ''}: ids {ids}"
            outline, css = "", "llmclock-piece"
            if item.is_group:
                title += (f" · bytes {item.text.encode('utf-8').hex(' ')}"
                          f" · glued back into whole characters")
                outline, css = (f"outline:2px solid {_GROUP_OUTLINE};outline-offset:-2px;",
                                "llmclock-piece llmclock-group")
            under = ids if show_ids else ""
            text, ends_line = item.text, item.text.endswith("\n")
        boxes.append(_box(_label_html(text), under, title, background, outline, css, size))
        if ends_line:
            boxes.append("<br>")
    return f"<div class='llmclock-tokens' style='line-height:2.2'>{''.join(boxes)}</div>"


def bpe_steps_html(bpe: BPE, text: str, steps: Sequence[int] = (0, 1, 2, 5, 20, 50, 100, -1),
                   font_px: int | None = None) -> str:
    """The ids of `text` after a few numbers of merges, one row of token boxes per step.

    A step of -1 means all the merges. Tokens made by the merge of that very step are outlined.
    """
    size = font_px or font_size("body")
    all_steps = bpe.encode_steps(text)
    vocab = bpe.vocab
    rows = []
    for step in steps:
        n = len(bpe.merges) if step == -1 else step
        if not 0 <= n <= len(bpe.merges):
            raise ValueError(f"step {step} is out of range: "
                             f"this BPE learned {len(bpe.merges)} merges.")
        newest = bpe.merges[n - 1].new_id if n else None
        boxes = []
        for k, token_id in enumerate(all_steps[n]):
            fresh = token_id == newest
            outline = f"outline:2px solid {_GROUP_OUTLINE};outline-offset:-2px;" if fresh else ""
            title = (f"id {token_id} · bytes {vocab[token_id].hex(' ')}"
                     + (f" · made by merge {n}" if fresh else ""))
            boxes.append(_box(_label_html(show_bytes(vocab[token_id])), str(token_id), title,
                              _BACKGROUNDS[k % 2], outline, "llmclock-token", size))
        label = (f"<div style='font-size:{size}px;color:#333;margin-top:6px'>"
                 f"after <b>{n}</b> merge{'s' if n != 1 else ''}"
                 f" · <b>{len(all_steps[n])}</b> tokens</div>")
        rows.append(label + "".join(boxes))
    return f"<div class='llmclock-bpe-steps' style='line-height:2.2'>{''.join(rows)}</div>"


def merges_table_html(bpe: BPE, first: int = 12) -> str:
    """The first learned merges as a table: step, the pair, the new token, how often the pair
    occurred."""
    vocab = bpe.vocab
    cell = "style='padding:2px 10px;border-bottom:1px solid #eee;font-family:monospace'"

    def shown(token_id: int) -> str:
        return _label_html(show_bytes(vocab[token_id]))

    rows = "".join(
        f"<tr><td {cell}>{n + 1}</td>"
        f"<td {cell}>{shown(m.left)} ({m.left}) + {shown(m.right)} ({m.right})</td>"
        f"<td {cell}><b>{shown(m.new_id)}</b> ({m.new_id})</td><td {cell}>{m.count}</td></tr>"
        for n, m in enumerate(bpe.merges[:first]))
    head = "".join(f"<th style='text-align:left;padding:2px 10px'>{h}</th>"
                   for h in ("merge", "pair (ids)", "new token (id)", "times seen"))
    return (f"<table class='llmclock-merges' "
            f"style='font-size:{font_size('body')}px;border-collapse:collapse'>"
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")


def text_counts_figure(counts: TextCounts | Mapping[str, TextCounts],
                       title: str = "How long is the text?") -> go.Figure:
    """Grouped bars: characters, UTF-8 bytes and tokens, for one text or several labelled texts."""
    by_label = {"text": counts} if isinstance(counts, TextCounts) else dict(counts)
    if not by_label:
        raise ValueError("Give at least one text's counts, "
                         "e.g. {'English': text_counts(lm, 'Hello')}.")
    fig = go.Figure(layout=base_layout(title, yaxis_title="count", height=380, barmode="group",
                                       legend=dict(orientation="h", y=1.02, yanchor="bottom",
                                                   x=1, xanchor="right")))
    colours = {"characters": PALETTE["sky"], "bytes": PALETTE["orange"], "tokens": PALETTE["blue"]}
    labels = list(by_label)
    for kind, colour in colours.items():
        values = [getattr(c, kind) for c in by_label.values()]
        fig.add_bar(name=kind, x=labels, y=values, marker_color=colour, text=values,
                    textposition="outside", hovertemplate="%{x}: %{y} " + kind + "<extra></extra>")
    fig.update_yaxes(rangemode="tozero")
    return fig


def bpe_training_figure(bpe: BPE, text: str, annotate: int = 5) -> go.Figure:
    """Token count of `text` after 0, 1, 2, ... merges; a few merges (the token they made) on the
    curve."""
    lengths = [len(step) for step in bpe.encode_steps(text)]
    fig = go.Figure(layout=base_layout("Each merge makes the text shorter", "merges learned",
                                       "tokens in the text", height=400))
    hover = ["start: raw bytes"] + [
        f"merge {i + 1}: {visible(m.token.decode('utf-8', errors='replace'))!s} "
        f"(seen {m.count}×)"
        for i, m in enumerate(bpe.merges)]
    fig.add_scatter(x=list(range(len(lengths))), y=lengths, mode="lines",
                    line=dict(color=PALETTE["blue"], width=3), text=hover,
                    hovertemplate="%{text}<br>%{y} tokens<extra></extra>", name="tokens")
    # label a few merges spread along the curve (the first ones, then ever later ones)
    steps = sorted({s for s in (1, 20, 60, 150, len(bpe.merges))
                    if 1 <= s <= len(bpe.merges)})[:annotate]
    for step in steps:
        m = bpe.merges[step - 1]
        # near the right edge the label goes left of its point, so it is not cut off
        near_right_edge = step > 0.8 * len(bpe.merges)
        fig.add_annotation(x=step, y=lengths[step],
                           text=(f"merge {step}: "
                                 f"'{visible(m.token.decode('utf-8', errors='replace'))}'"),
                           showarrow=True, arrowhead=2, ax=-25 if near_right_edge else 25, ay=-35,
                           xanchor="right" if near_right_edge else "left",
                           font=dict(size=font_size("body")), bgcolor="rgba(255,255,255,0.8)")
    fig.update_yaxes(range=[0, 1.15 * lengths[0]])  # room above the curve for the labels
    return fig
