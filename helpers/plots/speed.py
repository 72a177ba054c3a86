"""Figures for making ticks cheaper: batching and speculative decoding.

    batch_speed_figure([1, 2, 4, 8, 16], ms_per_tick)     # tokens/s and ms per tick against B
    speculation_html(result.steps, lm.tokenizer)          # drafts accepted/rejected, pass by pass
"""

from __future__ import annotations

import html
from typing import Sequence

import plotly.graph_objects as go

from ..tokens import visible
from .style import PALETTE, base_layout, font_size

__all__ = ["batch_speed_figure", "speculation_html"]

ACCEPTED_COLOR = "#CDEBDD"   # light green: a draft the model agreed with
REJECTED_COLOR = "#F6D5C2"   # light vermillion: a draft the model disagreed with
OWN_COLOR = "#D3E4F2"        # light blue: the model's own token, free with the pass


def batch_speed_figure(batch_sizes: Sequence[int], ms_per_tick: Sequence[float],
                       title: str = "Batching: tokens per second against batch size") -> go.Figure:
    """Bars: tokens per second (B tokens per tick). Dashed: what it would be if a tick of B cost
    as much as a tick of 1 (batching entirely free). Line, right axis: milliseconds per tick."""
    sizes, ms = list(batch_sizes), [float(v) for v in ms_per_tick]
    rates = [b * 1000 / t for b, t in zip(sizes, ms)]
    labels = [str(b) for b in sizes]
    free = [b * rates[0] / sizes[0] for b in sizes]
    fig = go.Figure(layout=base_layout(title, "batch size B (prompts decoded together)",
                                       "tokens per second (all prompts)", height=440,
                                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0)))
    fig.add_bar(x=labels, y=rates, name="measured tokens/s", marker_color=PALETTE["blue"],
                text=[f"{r:.0f}" for r in rates], textposition="outside", cliponaxis=False,
                hovertemplate="B = %{x}: %{y:.1f} tokens/s<extra></extra>")
    fig.add_scatter(x=labels, y=free, mode="lines+markers", name="if batching were free",
                    line=dict(color=PALETTE["grey"], dash="dash", width=2),
                    hovertemplate="B = %{x}: %{y:.1f} tokens/s if free<extra></extra>")
    fig.add_scatter(x=labels, y=ms, mode="lines+markers", name="ms per tick (right axis)",
                    yaxis="y2", line=dict(color=PALETTE["orange"], width=3),
                    hovertemplate="B = %{x}: %{y:.1f} ms per tick<extra></extra>")
    fig.update_layout(yaxis2=dict(title=dict(text="milliseconds per tick"), overlaying="y",
                                  side="right", rangemode="tozero", showgrid=False),
                      margin=dict(l=70, r=80, t=60, b=60))
    fig.update_yaxes(rangemode="tozero", selector=dict(anchor="x"))
    fig.update_traces(textfont_size=font_size("small"), selector=dict(type="bar"))
    return fig


def _box(text: str, colour: str, strike: bool = False) -> str:
    style = (f"background:{colour};border:1px solid #bbb;border-radius:3px;padding:1px 3px;"
             f"margin:1px;white-space:pre;font-family:monospace")
    if strike:
        style += ";text-decoration:line-through"
    return f"<span style='{style}'>{html.escape(visible(text))}</span>"


def speculation_html(steps: Sequence, tokenizer, max_rows: int | None = None) -> str:
    """One row per forward pass: green = drafts accepted, struck-out vermillion = drafts rejected,
    blue = the model's own token (a correction after a rejection, a bonus after a full match)."""
    rows = []
    shown = list(steps)[:max_rows] if max_rows else list(steps)
    for step in shown:
        text = [tokenizer.decode([t]) for t in step.drafted]
        boxes = [_box(t, ACCEPTED_COLOR) for t in text[:step.accepted]]
        boxes += [_box(t, REJECTED_COLOR, strike=True) for t in text[step.accepted:]]
        boxes.append(_box(tokenizer.decode([step.token]), OWN_COLOR))
        what = "prefill" if step.index == 0 else f"{step.accepted}/{len(step.drafted)} accepted"
        rows.append(f"<tr><td style='text-align:right;padding-right:8px'>{step.index}</td>"
                    f"<td style='padding-right:8px'>{step.fed}</td><td style='padding-right:8px'>"
                    f"{what}</td><td style='text-align:left'>{''.join(boxes)}</td></tr>")
    legend = " ".join([_box("accepted draft", ACCEPTED_COLOR),
                       _box("rejected draft", REJECTED_COLOR, strike=True),
                       _box("model’s own token", OWN_COLOR)])
    more = f"<p>… {len(steps) - len(shown)} more passes</p>" if len(shown) < len(steps) else ""
    head = ("<tr><th>pass</th><th>tokens read</th><th>drafts</th>"
            "<th style='text-align:left'>tokens</th></tr>")
    return (f"<div style='font-size:{font_size('body')}px'><p>{legend}</p><table>{head}"
            f"{''.join(rows)}</table>{more}</div>")
