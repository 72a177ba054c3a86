"""Embedding figures: a labelled 2-D map of words, nearest-neighbour bars, RoPE, the running vector.

    projection_figure(project_words(lm, words), groups=["country", "capital", ...])
    neighbours_figure(" Paris", nearest_neighbours(lm, " Paris"))
    rope_angles_figure(head_dim=64, theta=1e5); rope_scores_figure(rope_scores(q, k, 32, 1e5))
    residual_norms_figure(residual_norms(lm, "The capital of France is"), "·is")
"""

from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import torch

from ..embeddings import Neighbour, Projection, rope_angles
from ..tokens import visible
from .style import DIVERGING, PALETTE, base_layout, font_size

__all__ = ["projection_figure", "neighbours_figure", "rope_angles_figure", "rope_scores_figure",
           "residual_norms_figure"]

_GROUP_COLOURS = [PALETTE[c] for c in ("blue", "orange", "green", "purple", "vermillion", "sky",
                                        "black", "grey")]


_LABEL_OFFSETS = {"top center": (0.0, 1.0), "bottom center": (0.0, -1.0),
                  "middle right": (1.6, 0.0), "middle left": (-1.6, 0.0)}


def _label_positions(xy: list[list[float]]) -> list[str]:
    """Put each label above, below, left or right of its point, wherever it is farthest from the
    points and the labels placed so far (greedy), so that labels of close points do not collide."""
    if not xy:
        return []
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    # offsets in data units: a label is roughly 6% of the width wide and 5% of the height tall
    sx, sy = 0.05 * ((max(xs) - min(xs)) or 1.0), 0.05 * ((max(ys) - min(ys)) or 1.0)
    placed: list[tuple[float, float]] = []
    positions = []
    for x, y in xy:
        def clearance(offset: tuple[float, float]) -> float:
            cx, cy = x + offset[0] * sx, y + offset[1] * sy
            others = placed + [(px, py) for px, py in xy if (px, py) != (x, y)]
            return min((((cx - ox) / sx) ** 2 + ((cy - oy) / sy) ** 2 for ox, oy in others),
                       default=1e9)
        best = max(_LABEL_OFFSETS, key=lambda name: clearance(_LABEL_OFFSETS[name]))
        positions.append(best)
        dx, dy = _LABEL_OFFSETS[best]
        placed.append((x + dx * sx, y + dy * sy))
    return positions


def projection_figure(projection: Projection, groups: Sequence[str] | None = None,
                      title: str = "Word vectors projected to 2-D") -> go.Figure:
    """Scatter of the 2-D projection, each point labelled with its word, coloured by group."""
    groups = list(groups) if groups is not None else ["words"] * len(projection.labels)
    if len(groups) != len(projection.labels):
        raise ValueError(f"groups has {len(groups)} entries "
                         f"but there are {len(projection.labels)} words.")
    x_share, y_share = projection.explained
    fig = go.Figure(layout=base_layout(
        title, f"direction 1 ({x_share:.0%} of the spread)",
        f"direction 2 ({y_share:.0%} of the spread)", height=520,
        legend=dict(title=dict(text="group"))))
    xy = projection.xy.tolist()
    label_positions = _label_positions(xy)
    for n, group in enumerate(dict.fromkeys(groups)):
        members = [i for i, g in enumerate(groups) if g == group]
        fig.add_scatter(
            x=[xy[i][0] for i in members], y=[xy[i][1] for i in members],
            mode="markers+text", name=group,
            text=[projection.labels[i] for i in members],
            textposition=[label_positions[i] for i in members],
            customdata=[projection.token_ids[i] for i in members],
            marker=dict(size=12, color=_GROUP_COLOURS[n % len(_GROUP_COLOURS)],
                        line=dict(width=1, color="white")),
            textfont=dict(size=font_size("body")),
            hovertemplate=("%{text} (id %{customdata})<br>(%{x:.2f}, %{y:.2f})<extra>" + group
                           + "</extra>"),
        )
    # margins so the labels of the outermost points stay inside the plot
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    fig.update_xaxes(range=[min(xs) - 0.15 * span_x, max(xs) + 0.15 * span_x])
    fig.update_yaxes(range=[min(ys) - 0.12 * span_y, max(ys) + 0.12 * span_y])
    return fig


def neighbours_figure(word: str, neighbours: Sequence[Neighbour]) -> go.Figure:
    """Horizontal bars: cosine similarity of each nearest neighbour to `word`, closest on top."""
    if not neighbours:
        raise ValueError("No neighbours to draw: call nearest_neighbours(lm, word, k) with k >= 1.")
    labels = [f"{visible(n.text)}  " for n in neighbours][::-1]
    values = [n.similarity for n in neighbours][::-1]
    fig = go.Figure(layout=base_layout(
        f"Nearest neighbours of {visible(word)!r} in the embedding table",
        "cosine similarity", None, height=120 + 32 * len(neighbours)))
    fig.add_bar(x=values, y=labels, orientation="h", marker_color=PALETTE["blue"],
                text=[f"{v:.2f}" for v in values], textposition="outside",
                customdata=[n.token_id for n in neighbours][::-1],
                hovertemplate="%{y} (id %{customdata}): %{x:.3f}<extra></extra>")
    fig.update_xaxes(range=[0, 1.1])
    fig.update_yaxes(tickfont=dict(family="monospace"))
    return fig


def rope_angles_figure(head_dim: int, theta: float, n_positions: int = 64) -> go.Figure:
    """cos(angle) for every position × dimension pair: each pair is a clock hand turning at its own
    speed."""
    angles = rope_angles(torch.arange(n_positions), head_dim, theta)
    fig = go.Figure(layout=base_layout(
        f"RoPE: pair i turns by θ^(-2i/{head_dim}) radians per position (θ = {theta:,.0f})",
        "dimension pair i (fast hands left, slow hands right)", "position in the text", height=460))
    fig.add_heatmap(z=angles.cos().tolist(), colorscale=DIVERGING, zmin=-1, zmax=1,
                    colorbar=dict(title=dict(text="cos(angle)")),
                    hovertemplate="pair %{x}, position %{y}<br>cos = %{z:.2f}<extra></extra>")
    fig.update_yaxes(autorange="reversed")
    return fig


def rope_scores_figure(scores: torch.Tensor,
                       title: str = "q · k after RoPE: the same along every diagonal") -> go.Figure:
    """Heatmap of S[m, n] (query position m, key position n): stripes show it depends on m - n
    only."""
    fig = go.Figure(layout=base_layout(title, "key position n", "query position m", height=480))
    fig.add_heatmap(z=scores.tolist(), colorscale=DIVERGING, zmid=0,
                    colorbar=dict(title=dict(text="q·k")),
                    hovertemplate="query at %{y}, key at %{x}<br>q·k = %{z:.2f}<extra></extra>")
    fig.update_yaxes(autorange="reversed", scaleanchor="x", constrain="domain")
    fig.update_xaxes(constrain="domain")
    return fig


def residual_norms_figure(norms: torch.Tensor, token_label: str = "") -> go.Figure:
    """Length of one token's running vector after the embedding (0) and after each block;
    `token_label` (' is' or '·is') is shown with its spaces visible."""
    values = [float(v) for v in norms]
    who = f" of {visible(token_label)!r}" if token_label else ""
    fig = go.Figure(layout=base_layout(f"The running vector{who} grows as each block adds to it",
                                       "after block (0 = embedding)", "length ‖x‖", height=400))
    fig.add_scatter(x=list(range(len(values))), y=values, mode="lines+markers", name="‖x‖",
                    line=dict(color=PALETTE["blue"], width=3), marker=dict(size=7),
                    hovertemplate="after block %{x}: length %{y:.1f}<extra></extra>")
    fig.update_yaxes(rangemode="tozero")
    return fig
