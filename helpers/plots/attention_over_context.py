"""Where the newest position looked: its attention over the context at one tick (bars),
and at every tick of a run (a heatmap, one row per tick).

    attention_over_context_figure(record.attention, clock.tokens, layer=5, head=2)
    attention_over_ticks_figure(clock.history, clock.tokens, layer=5, hide_first=True)

(The clock widget draws its bars as SVG: helpers.plots.svg.attention_svg, from the same
attention_weights_of. Axis labels are thinned by helpers.tick_view.thin_labels.)
"""

from __future__ import annotations

import html
from typing import Sequence

import plotly.graph_objects as go

from ..i18n import messages
from ..tick_view import thin_labels
from ..tokens import visible
from .style import FILTERED_COLOR, PALETTE, base_layout, font_size

__all__ = [
    "attention_weights_of",
    "attention_title",
    "attention_over_context_figure",
    "update_attention_over_context_figure",
    "attention_over_ticks_figure",
]

# At most this many labels under a figure's x axis (beyond: every k-th one, the last always).
MAX_LABELS = 48


def attention_weights_of(attention, tokens: Sequence[str], layer: int, head: int | None):
    """The newest position's attention over the context: (weights of one head, or the mean
    over heads; the mean over heads; the visible token label of each position), as lists."""
    import torch

    att = torch.as_tensor(attention).float()  # [n_layers, n_heads, context_len]
    n_layers, n_heads, context_len = att.shape
    if not 0 <= layer < n_layers:
        raise ValueError(f"layer must be in 0..{n_layers - 1}, got {layer}")
    if head is not None and not 0 <= head < n_heads:
        raise ValueError(
            f"head must be in 0..{n_heads - 1} (or None for the mean over heads), got {head}"
        )
    mean = att[layer].mean(dim=0)
    chosen = mean if head is None else att[layer, head]
    labels = [visible(t) for t in list(tokens)[:context_len]]
    labels += ["?"] * (context_len - len(labels))
    return chosen.tolist(), mean.tolist(), labels


def _attention_arrays(attention, tokens: Sequence[str], layer: int, head: int | None):
    """Rows of the figure: weights of one head (or the mean) and the mean over heads."""
    chosen, mean, labels = attention_weights_of(attention, tokens, layer, head)
    context_len = len(chosen)
    tickvals = thin_labels(context_len, MAX_LABELS)
    ticktext = [html.escape(labels[i]) for i in tickvals]
    ticktext[-1] = f"<b>{ticktext[-1]}</b>"  # the query: the newest input position
    x = list(range(context_len))
    customdata = [html.escape(lb) for lb in labels]
    return x, chosen, mean, tickvals, ticktext, customdata


def attention_title(
    layer: int, head: int | None, compact: bool = False, reading: str | None = None,
    lang: str = "en",
) -> str:
    """The title of an attention-over-the-context chart (`compact`: one line, for the widget,
    naming the token read at this tick when `reading` is given)."""
    which = "mean over heads" if head is None else f"head {head}"
    if compact:
        t = messages(lang)
        if reading is None:
            return t("chart.attention")
        return t("chart.attention_reading", token=visible(reading))
    return (
        f"Where the newest position looks<br><sup>attention weights, layer {layer}, {which}</sup>"
    )


def attention_over_context_figure(
    attention,
    tokens: Sequence[str],
    layer: int = 0,
    head: int | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Bars: attention weight of the newest input position on each context position.

    attention: [n_layers, n_heads, context_len] (TickRecord.attention); tokens: decoded text of
    the context positions (extra trailing tokens are ignored). head=None shows the mean over
    heads; otherwise the head's bars plus the mean over heads as a grey line for comparison.
    height in px (360). (The clock widget draws its chart as SVG: plots.svg.attention_svg.)
    """
    x, chosen, mean, tickvals, ticktext, customdata = _attention_arrays(
        attention, tokens, layer, head
    )
    hover = "position %{x}: %{customdata}<br>%{fullData.name}: %{y:.3f}<extra></extra>"
    traces = [
        go.Bar(
            x=x,
            y=chosen,
            name="this head" if head is not None else "mean over heads",
            marker_color=FILTERED_COLOR,
            customdata=customdata,
            hovertemplate=hover,
        ),
        go.Scatter(
            x=x,
            y=mean,
            name="mean over heads",
            mode="lines+markers",
            visible=head is not None,
            line=dict(color=PALETTE["orange"], width=2),
            marker=dict(size=6),
            customdata=customdata,
            hovertemplate=hover,
        ),
    ]
    layout = base_layout(
        title or attention_title(layer, head),
        xaxis_title="context position (token)",
        yaxis_title="attention weight",
        height=height or 360,
        legend=dict(orientation="h", x=1.0, y=1.0, yanchor="bottom", xanchor="right"),
    )
    layout["xaxis"].update(
        tickmode="array",
        tickvals=tickvals,
        ticktext=ticktext,
        tickangle=-50,
        tickfont=dict(size=font_size("small")),
    )
    layout["yaxis"].update(range=[0, 1.02], rangemode="tozero")
    layout["margin"] = dict(l=70, r=30, t=80, b=90)
    return go.Figure(data=traces, layout=layout)


def update_attention_over_context_figure(
    fig: go.Figure, attention, tokens: Sequence[str], layer: int, head: int | None = None
) -> None:
    """Show another tick, layer or head in a figure made by `attention_over_context_figure`,
    in place."""
    x, chosen, mean, tickvals, ticktext, customdata = _attention_arrays(
        attention, tokens, layer, head
    )
    # plain attribute sets: several times cheaper than .update(**kwargs) in plotly
    bars, line = fig.data
    bars.x, bars.y, bars.customdata = x, chosen, customdata
    bars.name = "this head" if head is not None else "mean over heads"
    line.x, line.y, line.customdata, line.visible = x, mean, customdata, head is not None
    fig.layout.xaxis.tickvals = tickvals
    fig.layout.xaxis.ticktext = ticktext
    fig.layout.title.text = attention_title(layer, head)


def attention_over_ticks_figure(
    history: Sequence,
    tokens: Sequence[str],
    layer: int | None = None,
    head: int | None = None,
    title: str | None = None,
    hide_first: bool = False,
) -> go.Figure:
    """Heatmap: one row per tick, the newest position's attention over the context at that tick.

    layer=None averages over all layers (and heads); head=None averages over heads. Cells to
    the right of a row's context are empty: that position did not exist yet. `tokens` are the
    decoded tokens of the whole text (Clock.tokens). hide_first: leave out the first token's
    column (the attention sink), so the colour scale shows the rest.
    """
    if not history:
        raise ValueError("No ticks yet: run the clock first, e.g. clock.run(10).")
    width = max(r.context_len for r in history)
    z = []
    for r in history:
        att = r.attention.float()
        att = att.mean(dim=0) if layer is None else att[layer]
        row = att.mean(dim=0) if head is None else att[head]
        z.append(row.tolist() + [None] * (width - r.context_len))
    labels = [visible(t) for t in list(tokens)[:width]]
    first = 1 if hide_first and width > 1 else 0
    ylabels = [f"tick {r.index} · reads '{labels[r.context_len - 1]}'" for r in history]
    which = (
        "mean over layers and heads"
        if layer is None
        else f"layer {layer}, " + ("mean over heads" if head is None else f"head {head}")
    )
    if first:
        which += "; first token hidden"
    z = [row[first:] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(first, width)),
            y=list(range(len(history))),
            colorscale="Viridis",
            zmin=0,
            colorbar=dict(title=dict(text="weight")),
            hoverongaps=False,
            customdata=[[html.escape(lb) for lb in labels[first:]]] * len(history),
            hovertemplate="tick %{y}, position %{x} (%{customdata}): %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            title or f"Where the newest position looked at each tick ({which})",
            xaxis_title="context position (token)",
            yaxis_title=None,
            height=140 + 28 * len(history),
        )
    )
    shown = [first + k for k in thin_labels(width - first, MAX_LABELS)]
    fig.update_xaxes(
        tickmode="array",
        tickvals=shown,
        ticktext=[html.escape(labels[k]) for k in shown],
        tickangle=-50,
        tickfont=dict(size=font_size("small")),
    )
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(history))),
        ticktext=[html.escape(y) for y in ylabels],
        autorange="reversed",
    )
    fig.update_layout(margin=dict(l=200, r=30, t=70, b=100))
    return fig
