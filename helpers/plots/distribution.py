"""The next-token distribution of one tick: raw softmax vs what the sampler draws from.

    fig = distribution_figure(record.top_raw, record.top_filtered, chosen_id=record.token_id)
    update_distribution_figure(fig, other.top_raw, other.top_filtered, other.token_id)  # in place

Inputs are lists of `helpers.sampling.Candidate(token_id, text, prob)` (anything with those
three fields works). One row per token that appears in either list, sorted by raw
probability (the rows and their labels: helpers.tick_view.distribution_rows), two bars per
row (raw grey, filtered blue) and the chosen token outlined in vermillion. Rows sit at
numeric positions with the visible token text as tick labels, so two different tokens that
look alike (e.g. two byte fragments) never merge into one bar.
"""

from __future__ import annotations

import html
from typing import Sequence

import plotly.graph_objects as go

from ..tick_view import (
    CandidateLike, DistributionRow, chosen_tuple, distribution_rows, percent_label, row_label,
)
from .style import CHOSEN_COLOR, FILTERED_COLOR, RAW_COLOR, base_layout, font_size

__all__ = ["distribution_figure", "update_distribution_figure"]


def _trace_arrays(rows: Sequence[DistributionRow], chosen_id: int | None):
    n = len(rows)
    y = list(range(n))
    chosen_row = next((i for i, r in enumerate(rows) if r.token_id == chosen_id), None)
    line_width = [3 if i == chosen_row else 0 for i in range(n)]
    ticktext = []
    for i, r in enumerate(rows):
        label = html.escape(r.label)
        ticktext.append(
            f"<span style='color:{CHOSEN_COLOR}'><b>▶ {label}</b></span>"
            if i == chosen_row
            else label
        )

    def texts(values):
        # The chosen row's bars carry a 3 px outline: an en space keeps its label off the outline.
        return [
            ("\u2002" if i == chosen_row else "") + percent_label(p) for i, p in enumerate(values)
        ]

    raw_text, filt_text = texts([r.raw for r in rows]), texts([r.filtered for r in rows])
    raw = dict(
        x=[r.raw for r in rows],
        y=y,
        text=raw_text,
        customdata=[[html.escape(r.label), r.token_id, percent_label(r.raw)] for r in rows],
    )
    filt = dict(
        x=[r.filtered for r in rows],
        y=y,
        text=filt_text,
        customdata=[[html.escape(r.label), r.token_id, percent_label(r.filtered)] for r in rows],
    )
    return raw, filt, line_width, y, ticktext, chosen_row


def _chosen_annotation(rows, chosen_row, label_px: int) -> dict:
    """Position of the 'chosen' label (its look is set once, when the figure is made): right of
    the longer bar's % label, shifted by that label's width so the two never overlap."""
    if not rows:  # an empty figure, e.g. a widget before its first tick
        return dict(text="no tick yet", visible=True, x=0, y=0, xshift=8)
    if chosen_row is None:
        return dict(text="", visible=False, x=0, y=0, xshift=8)
    r = rows[chosen_row]
    top = max(p for p in (r.raw, r.filtered, 0.0) if p is not None)
    label = row_label(r.raw, r.filtered)
    width = 0.62 * label_px * (len(label) + 1) + 10  # ~ the label's width in px
    return dict(text="chosen", visible=True, x=top, y=chosen_row, xshift=int(width))


def distribution_figure(
    top_raw: Sequence[CandidateLike],
    top_filtered: Sequence[CandidateLike],
    chosen_id: int | None = None,
    title: str = "Next-token distribution",
    chosen_probs: tuple[str, float | None, float | None] | None = None,
    tokenizer=None,
    height: int | None = None,
) -> go.Figure:
    """Horizontal grouped bars: raw vs filtered probability per candidate token.

    chosen_probs: (text, raw prob, filtered prob) of the chosen token, used to add its row when
    it is in neither top list (a token sampled from the tail, or forced). tokenizer (or the
    LoadedModel): label byte fragments by their bytes instead of '�'. height in px (460).
    (The clock widget draws its chart as SVG: helpers.plots.svg.distribution_svg.)
    """
    rows = distribution_rows(
        top_raw, top_filtered, chosen_tuple(chosen_id, chosen_probs), tokenizer
    )
    raw, filt, line_width, y, ticktext, chosen_row = _trace_arrays(rows, chosen_id)
    hover = ("%{customdata[0]} (id %{customdata[1]})<br>%{fullData.name}: %{customdata[2]}"
             "<extra></extra>")
    # constraintext="none": plotly would otherwise shrink the labels to the bar thickness.
    bar_text = dict(
        textposition="outside",
        cliponaxis=False,
        constraintext="none",
        textfont=dict(size=font_size("body") - 1),
    )
    traces = [
        go.Bar(
            name="raw (the model)",
            orientation="h",
            marker=dict(color=RAW_COLOR, line=dict(color=CHOSEN_COLOR, width=line_width)),
            hovertemplate=hover,
            **raw,
            **bar_text,
        ),
        go.Bar(
            name="sampled from",
            orientation="h",
            marker=dict(color=FILTERED_COLOR, line=dict(color=CHOSEN_COLOR, width=line_width)),
            hovertemplate=hover,
            **filt,
            **bar_text,
        ),
    ]
    layout = base_layout(
        title,
        xaxis_title="probability",
        yaxis_title=None,
        height=height or 460,
        barmode="group",
        bargap=0.25,
        bargroupgap=0.05,
        legend=dict(orientation="h", x=0.0, y=1.0, yanchor="bottom", xanchor="left"),
    )
    layout["margin"] = dict(l=110, r=20, t=90, b=60)
    # A fixed 0-100% axis: ticks stay comparable (a confident tick looks confident) and the axis
    # does not jump while a widget steps through ticks. The room past 100% (no ticks there) holds
    # the % labels and the 'chosen' mark of a near-certain token.
    layout["xaxis"].update(
        tickformat=".0%",
        range=[0, 1.3],
        tickmode="array",
        tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0],
        zeroline=True,
    )
    layout["yaxis"] = dict(
        tickmode="array",
        tickvals=y,
        ticktext=ticktext,
        autorange="reversed",
        automargin=True,
        ticklabelstandoff=6,
        tickfont=dict(size=font_size("body")),
    )
    layout["annotations"] = [
        dict(
            _chosen_annotation(rows, chosen_row, font_size("body") - 1),
            xanchor="left",
            yanchor="middle",
            showarrow=False,
            font=dict(color=CHOSEN_COLOR, size=font_size("body")),
        )
    ]
    return go.Figure(data=traces, layout=layout)


def update_distribution_figure(
    fig: go.Figure,
    top_raw: Sequence[CandidateLike],
    top_filtered: Sequence[CandidateLike],
    chosen_id: int | None = None,
    chosen_probs: tuple[str, float | None, float | None] | None = None,
    tokenizer=None,
) -> None:
    """Show another tick's distribution in a figure made by `distribution_figure`, in place."""
    rows = distribution_rows(
        top_raw, top_filtered, chosen_tuple(chosen_id, chosen_probs), tokenizer
    )
    raw, filt, line_width, y, ticktext, chosen_row = _trace_arrays(rows, chosen_id)
    # plain attribute sets: several times cheaper than .update(**kwargs) in plotly
    for trace, values in zip(fig.data, (raw, filt)):
        for name, value in values.items():
            setattr(trace, name, value)
        trace.marker.line.width = line_width
    fig.layout.yaxis.tickvals = y
    fig.layout.yaxis.ticktext = ticktext
    annotation = fig.layout.annotations[0]
    label_px = fig.data[0].textfont.size or font_size("body") - 1  # as built (presenter or not)
    for name, value in _chosen_annotation(rows, chosen_row, label_px).items():
        setattr(annotation, name, value)
