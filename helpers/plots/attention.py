"""Plotly figures: attention patterns.

    attention_heatmap(weights[layer, head], tokens)        # who looks at whom, one head
    query_attention_figure(weights, tokens, query=5, layer=3, head=0)   # one token's row as bars
    head_scores_figure(induction_scores(...), "Induction score")        # layers × heads grid

Rows are queries (the token doing the looking), columns are keys (the token looked at).
A causal model cannot look ahead, so every cell right of the diagonal is blank, not zero.
"""

from __future__ import annotations

import html
from typing import Sequence

import plotly.graph_objects as go
import torch

from ..tick_view import thin_labels
from ..tokens import visible
from .attention_over_context import (
    attention_over_context_figure, update_attention_over_context_figure,
)
from .style import (
    CHOSEN_COLOR, SEQUENTIAL, base_layout, figure_height, font_size,
)

__all__ = ["attention_heatmap", "update_attention_heatmap", "query_attention_figure",
           "update_query_attention_figure", "head_scores_figure"]

_MAX_LABELS = 24  # beyond this many tokens, label every k-th one (tick_view.thin_labels)


def _labels(tokens: Sequence[str], n: int) -> list[str]:
    labels = [visible(t) for t in list(tokens)[:n]]
    return labels + ["?"] * (n - len(labels))


def _ticks(labels: list[str]) -> tuple[list[int], list[str]]:
    values = thin_labels(len(labels), _MAX_LABELS)
    return values, [html.escape(labels[i]) for i in values]


def _heatmap_height(n_tokens: int) -> int:
    """Tall enough for readable rows, short enough for one 1280x720 screen (600 px)."""
    return min(580, max(400, 160 + 30 * n_tokens))


def _tick_font(n_tokens: int) -> dict:
    """Token labels at body size while they fit; dense (long) texts get the small size."""
    return dict(size=font_size("body") if n_tokens <= 20 else font_size("small"))


def _heatmap_arrays(weights, tokens: Sequence[str]):
    w = torch.as_tensor(weights).float()
    if w.dim() != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"weights must be one head's [T, T] matrix, got shape {tuple(w.shape)}.")
    T = w.shape[0]
    labels = _labels(tokens, T)
    # None (not 0) above the diagonal: plotly leaves those cells empty, so "cannot look"
    # differs from "looks 0%"
    z = [[float(w[i, j]) if j <= i else None for j in range(T)] for i in range(T)]
    escaped = [html.escape(label) for label in labels]
    custom = [[[escaped[i], escaped[j]] for j in range(T)] for i in range(T)]
    return z, custom, labels


_HOVER = ("query %{y} %{customdata[0]} → key %{x} %{customdata[1]}<br>"
          "attention weight %{z:.3f}<extra></extra>")


def attention_heatmap(weights, tokens: Sequence[str], title: str = "Attention pattern",
                      height: int | None = None) -> go.Figure:
    """Heatmap of one head's weights [T, T]: row = query token, column = key token.

    Colour is the weight (0..1, Viridis); cells of future tokens (masked) stay blank.
    """
    z, custom, labels = _heatmap_arrays(weights, tokens)
    T = len(labels)
    tickvals, ticktext = _ticks(labels)
    layout = base_layout(title, "key: the token looked at", "query: the token looking",
                         height=height or _heatmap_height(T), plot_bgcolor="white")
    # standoff: labels do not touch the cells
    axis = dict(tickmode="array", tickvals=tickvals, ticktext=ticktext, tickfont=_tick_font(T),
                ticklabelstandoff=4, showgrid=False, zeroline=False)
    layout["xaxis"].update(axis, tickangle=-50, constrain="domain")
    layout["yaxis"].update(axis, autorange="reversed", scaleanchor="x", constrain="domain")
    layout["margin"] = dict(l=110, r=30, t=60, b=100)
    heatmap = go.Heatmap(z=z, customdata=custom, colorscale=SEQUENTIAL, zmin=0, zmax=1, xgap=1,
                         ygap=1, hovertemplate=_HOVER, hoverongaps=False,
                         colorbar=dict(title=dict(text="weight"), thickness=14))
    return go.Figure(data=[heatmap], layout=layout)


def update_attention_heatmap(fig: go.Figure, weights, tokens: Sequence[str],
                             title: str | None = None) -> None:
    """Show another head (or text) in a figure made by `attention_heatmap`, in place."""
    z, custom, labels = _heatmap_arrays(weights, tokens)
    tickvals, ticktext = _ticks(labels)
    fig.data[0].update(z=z, customdata=custom)
    for axis in (fig.layout.xaxis, fig.layout.yaxis):
        axis.update(tickvals=tickvals, ticktext=ticktext, tickfont=_tick_font(len(labels)))
    fig.layout.height = figure_height(_heatmap_height(len(labels)))
    if title is not None:
        fig.layout.title.text = title


def _query_rows(weights, tokens: Sequence[str], query: int):
    w = torch.as_tensor(weights).float()
    if w.dim() != 4:
        raise ValueError(f"weights must be [layers, heads, T, T], got shape {tuple(w.shape)}.")
    T = w.shape[-1]
    if not 0 <= query < T:
        raise ValueError(f"query must be a token position 0..{T - 1}, got {query}.")
    return w[:, :, query, : query + 1], list(tokens)[: query + 1]


def _query_title(tokens: Sequence[str], query: int, layer: int, head: int | None) -> str:
    which = "mean over heads" if head is None else f"head {head}"
    label = html.escape(visible(list(tokens)[query])) if query < len(tokens) else "?"
    return f"Where token {query} ({label}) looks: layer {layer}, {which}"


def query_attention_figure(weights, tokens: Sequence[str], query: int, layer: int,
                           head: int | None = None) -> go.Figure:
    """Bars: how one query token spreads its attention over itself and the tokens before it.

    weights: [layers, heads, T, T]; head=None shows the mean over heads.
    """
    rows, context = _query_rows(weights, tokens, query)
    fig = attention_over_context_figure(rows, context, layer=layer, head=head,
                                        title=_query_title(tokens, query, layer, head))
    fig.layout.xaxis.title.text = "key: the token looked at"
    return fig


def update_query_attention_figure(fig: go.Figure, weights, tokens: Sequence[str], query: int,
                                  layer: int, head: int | None = None) -> None:
    """Show another query, layer or head in a figure made by `query_attention_figure`, in place."""
    rows, context = _query_rows(weights, tokens, query)
    update_attention_over_context_figure(fig, rows, context, layer=layer, head=head)
    # Name the comparison line again: a figure that started with it hidden showed "trace 1".
    fig.data[1].name = "mean over heads"
    fig.layout.title.text = _query_title(tokens, query, layer, head)


def head_scores_figure(scores, title: str, colorbar_title: str = "score",
                       top: int = 3) -> go.Figure:
    """Grid of one score per head (e.g. induction score): layers across, heads down; the `top`
    best outlined.

    scores: [layers, heads]. Layers run left to right like the forward pass, which keeps the
    figure wide and short (30 layers × 9 heads for SmolLM2).
    """
    s = torch.as_tensor(scores).float()
    if s.dim() != 2:
        raise ValueError(f"scores must be [layers, heads], got shape {tuple(s.shape)}.")
    n_layers, n_heads = s.shape
    layout = base_layout(title, "layer", "head", height=min(560, max(300, 150 + 30 * n_heads)),
                         plot_bgcolor="white")
    layout["xaxis"].update(tickmode="linear", dtick=1 if n_layers <= 32 else 2, showgrid=False,
                           zeroline=False, tickfont=dict(size=font_size("small")))
    layout["yaxis"].update(tickmode="linear", dtick=1, autorange="reversed", showgrid=False,
                           zeroline=False)
    fig = go.Figure(layout=layout)
    fig.add_heatmap(z=s.T.tolist(), colorscale=SEQUENTIAL, zmin=0, zmax=max(1e-9, float(s.max())),
                    xgap=1, ygap=1, hovertemplate="layer %{x}, head %{y}: %{z:.3f}<extra></extra>",
                    colorbar=dict(title=dict(text=colorbar_title), thickness=14))
    best = s.flatten().topk(min(top, s.numel())).indices.tolist()
    for index in best:
        layer, head = divmod(index, n_heads)
        fig.add_shape(type="rect", x0=layer - 0.5, x1=layer + 0.5, y0=head - 0.5, y1=head + 0.5,
                      line=dict(color=CHOSEN_COLOR, width=3))
        fig.add_annotation(x=layer, y=head, text=f"{float(s[layer, head]):.2f}", showarrow=False,
                           font=dict(size=font_size("small"), color="white"),
                           bgcolor="rgba(0,0,0,0.45)")
    return fig
