"""The clock widget's two per-tick charts as inline SVG, drawn in Python.

    HTML(distribution_svg(record.top_raw, record.top_filtered, chosen_id=record.token_id))
    HTML(attention_svg(record.attention, tokens, layer=15, head=None))

Why not plotly here: a plotly FigureWidget's 4.6 MiB front-end module must load within
anywidget's hard 2 s limit, which a busy classroom server misses, and then the chart never
draws. An SVG string in an `ipywidgets.HTML` is a few KiB per tick, needs no JavaScript and
draws wherever HTML does (JupyterLab, Notebook 7, Voila, VS Code, Colab).

Same look as the plotly figures (helpers/plots/style.py): Okabe-Ito colours, presenter
mode text 14 px or larger. Every bar carries its numbers as data attributes (data-token-id,
data-p, data-pos), so tests read what is drawn. Token text is escaped.
"""

from __future__ import annotations

import html
import math
from typing import Sequence

from ..i18n import messages
from ..tick_view import (
    AXIS_LABEL_CHARS, PERCENT_AXIS, TITLE_TOKEN_CHARS, WEIGHT_AXIS, CandidateLike, axis_percent,
    axis_weight, chosen_tuple, distribution_rows, label_room, percent_label, row_text, short,
    thin_labels,
)
from .attention_over_context import attention_title, attention_weights_of
from .style import CHOSEN_COLOR, FILTERED_COLOR, FONT_FAMILY, PALETTE, RAW_COLOR, presenter_mode

__all__ = ["distribution_svg", "attention_svg", "svg_font_sizes"]

_GRID = "#e5e5e5"
_INK = "#222"


def svg_font_sizes() -> dict[str, int]:
    """px sizes of the charts' text: title, labels (tokens), numbers (% labels, axis ticks);
    larger in presenter mode (helpers.plots.set_presenter_mode)."""
    if presenter_mode():
        return dict(title=19, label=18, number=17)
    return dict(title=15, label=14, number=13)


def _text_px(text: str, px: int) -> float:
    """About how wide `text` is drawn at px (a sans-serif's mean advance)."""
    return len(text) * px * 0.56


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _text(x, y, text: str, px: int, anchor: str = "start", **attrs) -> str:
    extra = "".join(f' {k.rstrip("_").replace("_", "-")}="{v}"' for k, v in attrs.items())
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{px}" text-anchor="{anchor}" '
        f'dominant-baseline="central"{extra}>{text}</text>'
    )


def _svg(width: int, height: int, css: str, body: list[str], title: str) -> str:
    return (
        f'<svg class="{css}" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}" '
        f"style=\"font-family:{_esc(FONT_FAMILY)};fill:{_INK};max-width:100%;display:block\">"
        + "".join(body)
        + "</svg>"
    )


def distribution_svg(
    top_raw: Sequence[CandidateLike],
    top_filtered: Sequence[CandidateLike],
    chosen_id: int | None = None,
    chosen_probs: tuple[str, float | None, float | None] | None = None,
    tokenizer=None,
    title: str | None = None,
    width: int = 500,
    height: int = 300,
    lang: str = "en",
    pending: bytes = b"",
    forced: bool = False,
) -> str:
    """Overlaid horizontal bars per candidate: raw probability (grey, wide) and the sampled-from
    probability (blue, thin on top), one 'raw → sampled-from' label per row, the chosen token's
    row outlined in vermillion and marked '▶' (forced=True: its label also says 'forced').
    Rows as in helpers.tick_view.distribution_rows (most likely first); as many as fit the
    height (the chosen row always stays). A fixed 0-100% axis.
    lang: the language of the title and legend (helpers.i18n); pending: the bytes of an
    unfinished character at the end of the context, so that a byte fragment that completes it
    is labelled with that character."""
    t = messages(lang)
    title = t("chart.distribution") if title is None else title
    px = svg_font_sizes()
    rows = distribution_rows(top_raw, top_filtered, chosen_tuple(chosen_id, chosen_probs),
                             tokenizer, pending=pending, forced=forced)
    top, bottom, left, right = px["title"] + 22, px["number"] + 12, 7 * px["label"] + 10, 8
    plot_w, plot_h = width - left - right, height - top - bottom
    fit = max(1, int(plot_h // (px["label"] * 1.35)))
    if len(rows) > fit:
        keep = rows[:fit]
        chosen = next((r for r in rows if r.token_id == chosen_id), None)
        if chosen is not None and chosen not in keep:
            keep = keep[: fit - 1] + [chosen]
        rows = keep
    scale = plot_w / 1.6  # 0..100% over 1/1.6 of the width: the rest holds the % labels
    body = [
        _text(4, px["title"] / 2 + 4, _esc(title), px["title"], font_weight="600"),
        # The legend beside the title, as coloured squares.
        _text(
            width - right, px["title"] / 2 + 4,
            f'<tspan fill="{RAW_COLOR}">■</tspan> {_esc(t("chart.raw"))}  '
            f'<tspan fill="{FILTERED_COLOR}">■</tspan> {_esc(t("chart.sampled"))}',
            px["number"], "end",
        ),
    ]
    for p in PERCENT_AXIS:  # grid and axis labels
        x = left + p * scale
        body.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" '
                    f'stroke="{_GRID if p else "#888"}" stroke-width="1"/>')
        body.append(_text(x, height - bottom / 2, axis_percent(p), px["number"], "middle",
                          fill="#555"))
    if not rows:
        body.append(_text(left + 8, top + plot_h / 2, _esc(t("chart.no_tick")), px["label"],
                          fill=CHOSEN_COLOR, class_="llmclock-empty"))
    row_h = plot_h / max(len(rows), 1)
    row_h = min(row_h, px["label"] * 2.2)  # few rows: do not blow them up
    for i, r in enumerate(rows):
        y = top + i * row_h
        mid = y + row_h / 2
        chosen = r.token_id == chosen_id
        outline = f' stroke="{CHOSEN_COLOR}" stroke-width="3"' if chosen else ""
        for kind, p, thick, colour in (
            ("raw", r.raw, 0.8, RAW_COLOR),
            ("filtered", r.filtered, 0.42, FILTERED_COLOR),
        ):
            if p is None:
                continue
            h = row_h * thick
            body.append(
                f'<rect class="llmclock-bar llmclock-bar-{kind}" data-token-id="{r.token_id}" '
                f'data-p="{p:.6g}" x="{left}" y="{mid - h / 2:.1f}" width="{p * scale:.1f}" '
                f'height="{h:.1f}" fill="{colour}"{outline}/>'
            )
        label = _esc(short(r.label, 12))
        body.append(
            _text(left - 6, mid, f"▶ {label}" if chosen else label, px["label"], "end",
                  class_="llmclock-row-label" + (" llmclock-chosen" if chosen else ""),
                  fill=CHOSEN_COLOR if chosen else _INK,
                  font_weight="700" if chosen else "400")
        )
        longer = max(r.raw or 0.0, r.filtered or 0.0)
        number = row_text(r, lang)
        x = left + longer * scale + (8 if chosen else 5)
        if x + _text_px(number, px["number"]) > width - right:  # no room: inside the bar's end
            body.append(_text(left + longer * scale - 6, mid, _esc(number), px["number"], "end",
                              fill="white", font_weight="700", class_="llmclock-p-label"))
        else:
            body.append(_text(x, mid, _esc(number), px["number"], class_="llmclock-p-label"))
    return _svg(width, height, "llmclock-distribution-svg", body, title)


def _nice_top(value: float) -> float:
    """The y axis's top: 1.0, or the next tenth above `value` (at least 0.1)."""
    return min(1.0, max(0.1, math.ceil(round(value * 10, 5)) / 10))


def attention_svg(
    attention,
    tokens: Sequence[str],
    layer: int = 0,
    head: int | None = None,
    width: int = 560,
    height: int = 300,
    reading: str | None = None,
    hide_first: bool = False,
    lang: str = "en",
) -> str:
    """Bars: the attention weight of the newest position on each context position, for one
    layer's head (then the mean over heads is drawn as an orange line to compare) or the mean
    over heads. Token labels under the bars (as many as fit), the newest one in bold.

    reading: the text of the token read at this tick (the newest position), named in the title.
    hide_first: leave out position 0, the attention sink (most heads park their unused weight
    there), and scale the axis to the rest. attention=None: no tick yet (an empty chart).
    lang: the language of the texts (helpers.i18n)."""
    t = messages(lang)
    px = svg_font_sizes()
    if attention is None:
        chosen, mean, labels = [], [], []
    else:
        chosen, mean, labels = attention_weights_of(attention, tokens, layer, head)
    shown_reading = None if reading is None else short(reading, TITLE_TOKEN_CHARS)
    title = attention_title(layer, head, compact=True, reading=shown_reading, lang=lang)
    which = (t("chart.layer_mean", layer=layer) if head is None
             else t("chart.layer_head", layer=layer, head=head))
    first = 1 if hide_first and len(chosen) > 1 else 0
    if first:
        which += t("chart.first_hidden", p=percent_label(chosen[0]))
    label_chars = AXIS_LABEL_CHARS[presenter_mode()]
    top, left, right = px["title"] + px["number"] + 30, px["number"] * 2 + 12, 10
    bottom = int(px["label"] * (0.62 * label_chars * 0.77 + 1.2)) + 8  # rotated labels' height
    plot_w, plot_h = width - left - right, height - top - bottom
    positions = list(range(first, len(chosen)))
    n = len(positions)
    slot = plot_w / max(n, 1)
    y_top = _nice_top(max((chosen[i] for i in positions), default=1.0)) if first else 1.0
    body = [
        _text(4, px["title"] / 2 + 4, _esc(title), px["title"], font_weight="600",
              class_="llmclock-attention-title"),
        _text(4, px["title"] + px["number"] / 2 + 12, _esc(which), px["number"], fill="#555"),
    ]
    for v in WEIGHT_AXIS:
        y = top + plot_h * (1 - v)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                    f'stroke="{_GRID if v else "#888"}" stroke-width="1"/>')
        body.append(_text(left - 5, y, axis_weight(v * y_top), px["number"], "end",
                          fill="#555"))
    if not n:
        body.append(_text(left + 8, top + plot_h / 2, _esc(t("chart.no_tick")), px["label"],
                          fill=CHOSEN_COLOR, class_="llmclock-empty"))

    def y_of(weight: float) -> float:
        return top + plot_h * (1 - max(0.0, min(1.0, weight / y_top)))

    for k, i in enumerate(positions):
        wgt = chosen[i]
        h = top + plot_h - y_of(wgt)
        body.append(
            f'<rect class="llmclock-bar" data-pos="{i}" data-w="{wgt:.6g}" '
            f'x="{left + k * slot + slot * 0.1:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{slot * 0.8:.1f}" height="{h:.1f}" fill="{FILTERED_COLOR}">'
            f"<title>{_esc(t('chart.position', pos=i))}: {_esc(labels[i])}: {wgt:.3f}"
            "</title></rect>"
        )
    if head is not None and n:
        xy = [(left + (k + 0.5) * slot, y_of(mean[i])) for k, i in enumerate(positions)]
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
        body.append(f'<polyline class="llmclock-mean" points="{points}" fill="none" '
                    f'stroke="{PALETTE["orange"]}" stroke-width="2"/>')
        body += [
            f'<circle class="llmclock-mean-point" data-pos="{i}" data-w="{mean[i]:.6g}" '
            f'cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{PALETTE["orange"]}"/>'
            for (x, y), i in zip(xy, positions)
        ]
    if head is not None:  # the legend, inside the plot at the top right (like plotly's)
        legend_w = px["number"] * 14
        body.append(f'<rect x="{width - right - legend_w - 6}" y="{top + 2}" '
                    f'width="{legend_w + 6}" height="{px["number"] + 8}" '
                    'fill="white" fill-opacity="0.85"/>')
        body.append(_text(width - right, top + px["number"] / 2 + 6,
                          f'<tspan fill="{FILTERED_COLOR}">■</tspan> '
                          f'{_esc(t("chart.this_head"))}  '
                          f'<tspan fill="{PALETTE["orange"]}">●</tspan> '
                          f'{_esc(t("chart.all_heads"))}',
                          px["number"], "end"))
    # Token labels, rotated; as many as fit without overlapping, the newest always.
    shown = thin_labels(n, label_room(plot_w, px["label"]))
    for k in shown:
        i = positions[k]
        x, y = left + (k + 0.5) * slot, top + plot_h + 6
        newest = i == len(chosen) - 1
        bold = f' font-weight="700" fill="{FILTERED_COLOR}"' if newest else ""
        body.append(
            f'<text class="llmclock-token-label{" llmclock-reading-label" * newest}" '
            f'data-pos="{i}" x="{x:.1f}" y="{y:.1f}" font-size="{px["label"]}" '
            f'text-anchor="end" transform="rotate(-50 {x:.1f} {y:.1f})"'
            f"{bold}>"
            f"{_esc(short(labels[i], label_chars))}</text>"
        )
    return _svg(width, height, "llmclock-attention-svg", body, title)
