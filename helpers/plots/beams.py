"""Beam search drawn as a tree of ticks: one column per tick, one node per candidate.

    beam_tree_figure(beam_search_steps(lm, "The capital of France is", 3, 6), lm.tokenizer)
"""

from __future__ import annotations

import plotly.graph_objects as go

from .style import PALETTE, base_layout, figure_height, font_size
from ..tick_view import readable_token

__all__ = ["beam_tree_figure"]

FATE_COLORS = {
    "runs on": PALETTE["blue"],
    "finished": PALETTE["green"],
    "finished, not kept": PALETTE["orange"],
    "dropped": "#BBBBBB",
}


def beam_tree_figure(search, tokenizer, title: str | None = None) -> go.Figure:
    """Each tick ranks 2B candidates (rows, best on top): blue ones run on as the next beams,
    green ones finished and are kept, grey ones are dropped. Lines join a candidate to the beam
    it extends; the label is its token and the sum of log-probs so far."""
    fig = go.Figure()
    # Where each running beam sits: (x, y) of the candidate that became it. Tick 0 extends
    # the prompt, drawn at x = 0.
    n_rows = len(search.steps[0].candidates)
    beam_xy = {0: (0, (n_rows - 1) / 2)}
    edge_x, edge_y = {f: [] for f in FATE_COLORS}, {f: [] for f in FATE_COLORS}
    nodes = {f: ([], [], [], []) for f in FATE_COLORS}
    for step in search.steps:
        x = step.index + 1
        next_xy = {}
        for rank, cand in enumerate(step.candidates):
            y = n_rows - 1 - rank
            px, py = beam_xy.get(cand.parent, (x - 1, y))
            edge_x[cand.fate] += [px, x, None]
            edge_y[cand.fate] += [py, y, None]
            label = readable_token(tokenizer.decode([cand.token_id]), cand.token_id, tokenizer)
            xs, ys, texts, hovers = nodes[cand.fate]
            xs.append(x), ys.append(y), texts.append(label)
            hovers.append(f"tick {step.index}: beam {cand.parent} + {label!r}<br>"
                          f"sum of log-probs {cand.score:.2f}<br>{cand.fate}")
            if cand.fate == "runs on":
                next_xy[len(next_xy)] = (x, y)
        beam_xy = next_xy
    for fate, color in FATE_COLORS.items():
        fig.add_trace(go.Scatter(x=edge_x[fate], y=edge_y[fate], mode="lines", hoverinfo="skip",
                                 line=dict(color=color, width=1.5), showlegend=False))
    for fate, color in FATE_COLORS.items():
        xs, ys, texts, hovers = nodes[fate]
        if not xs:
            continue
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers+text", text=texts, textposition="top center",
            hovertext=hovers, hoverinfo="text", name=fate,
            marker=dict(color=color, size=11, line=dict(color="white", width=1)),
            textfont=dict(size=font_size("small"), color="#222")))
    n_ticks = len(search.steps)
    fig.update_layout(base_layout(title or f"Beam search: {n_rows // 2} beams, {n_ticks} ticks",
                                  xaxis_title="tick", yaxis_title="rank of the candidate"))
    fig.update_xaxes(tickvals=list(range(n_ticks + 1)),
                     ticktext=["prompt"] + [str(i) for i in range(n_ticks)])
    fig.update_yaxes(showticklabels=False, range=[-0.7, n_rows - 0.2])
    fig.update_layout(height=figure_height(120 + 55 * n_rows))
    return fig
