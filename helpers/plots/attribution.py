"""Plotly figure: a token's logit split into what each block's attention and MLP wrote.

    attribution_bars(logit_attribution(lm, "The capital of France is", " Paris"))
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from ..tokens import visible
from .style import PALETTE, base_layout

__all__ = ["attribution_bars"]


def attribution_bars(parts) -> go.Figure:
    """Bars per block (attention and MLP side by side) of a `helpers.attribution.LogitAttribution`,
    plus the embedding's share (and GPT-2's final-norm bias) at the left."""
    n = len(parts.attention)
    who = html.escape(visible(parts.target))
    title = (f"Who wrote the logit of {who}: shares sum to {parts.total:.2f} "
             f"(the model's logit: {parts.logit:.2f})")
    fig = go.Figure(layout=base_layout(title, "block", f"share of the {who} logit", height=430))
    x_first = ["emb"] + (["norm bias"] if parts.norm_bias else [])
    first = [parts.embedding] + ([parts.norm_bias] if parts.norm_bias else [])
    fig.add_bar(x=x_first, y=first, name="embedding / bias", marker_color=PALETTE["grey"],
                hovertemplate="%{x}: %{y:.2f}<extra></extra>")
    blocks = [str(b) for b in range(n)]
    fig.add_bar(x=blocks, y=parts.attention.tolist(), name="attention",
                marker_color=PALETTE["blue"],
                hovertemplate="block %{x} attention: %{y:.2f}<extra></extra>")
    fig.add_bar(x=blocks, y=parts.mlp.tolist(), name="MLP", marker_color=PALETTE["orange"],
                hovertemplate="block %{x} MLP: %{y:.2f}<extra></extra>")
    fig.update_layout(barmode="group", bargap=0.15,
                      legend=dict(x=0.01, y=0.98, yanchor="top", bgcolor="rgba(255,255,255,0.8)"))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=x_first + blocks)
    fig.add_hline(y=0, line_color="#444", line_width=1)
    return fig
