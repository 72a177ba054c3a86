"""Plotly figures: the logit lens.

    logit_lens_heatmap(logit_lens(lm, "The capital of France is"))
    target_trace_figure(target_by_layer(lm, "The capital of France is", " Paris"))

A row per stage of the residual stream (0 = the embeddings, n = after n blocks), a column per
input position; each cell shows the token the model would predict next if it stopped there,
coloured by that token's probability.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from ..tick_view import thin_labels
from ..tokens import visible
from .style import CHOSEN_COLOR, PALETTE, SEQUENTIAL, base_layout, font_size

__all__ = ["logit_lens_heatmap", "target_trace_figure", "default_blocks"]


def _short(label: str, width: int = 9) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


MAX_ROWS = 16  # rows that fit a 1280x720 screen with readable labels


def default_blocks(n_rows: int) -> list[int]:
    """All rows when they fit one 720p screen; otherwise every k-th, always the first and last."""
    if n_rows <= MAX_ROWS:
        return list(range(n_rows))
    return thin_labels(n_rows, MAX_ROWS)  # the one thinning rule of every axis


def logit_lens_heatmap(
    lens, blocks: list[int] | None = None, title: str | None = None
) -> go.Figure:
    """Heatmap of a `helpers.lens.LogitLens`: rows = after n blocks, columns = positions.

    blocks: which rows to show (default: all when they fit one 720p screen, else every 2nd or
    k-th block, first and last included; the title says so). Text = top-1 token, colour = its
    probability. Column labels (the input tokens) at the top and the bottom.
    """
    n_rows = lens.top_ids.shape[0]
    thinned = blocks is None and n_rows > MAX_ROWS
    blocks = default_blocks(n_rows) if blocks is None else [int(b) for b in blocks]
    bad = [b for b in blocks if not 0 <= b < n_rows]
    if bad:
        raise ValueError(f"blocks must be in 0..{n_rows - 1}, got {bad[0]}.")
    T = len(lens.tokens)
    z = [[float(lens.top_probs[b, t, 0]) for t in range(T)] for b in blocks]
    text = [[html.escape(_short(lens.top_tokens[b][t][0])) for t in range(T)] for b in blocks]
    k = lens.top_ids.shape[-1]
    hover_rows = []
    for b in blocks:
        row = []
        for t in range(T):
            top = "<br>".join(
                f"{html.escape(lens.top_tokens[b][t][i])}  {float(lens.top_probs[b, t, i]):.3f}"
                for i in range(k)
            )
            row.append(top)
        hover_rows.append(row)
    inputs = [html.escape(visible(tok)) for tok in lens.tokens]
    y_labels = ["embeddings" if b == 0 else f"after block {b}" for b in blocks]
    step = blocks[1] - blocks[0] if thinned else 1
    default_title = (
        "Logit lens: the prediction after each block (final norm + unembedding)"
        if not thinned
        else f"Logit lens: the prediction after every {_ordinal(step)} block "
        "(final norm + unembedding)"
        f"<br><sup>blocks=range({n_rows}) shows all {n_rows} rows</sup>"
    )
    label_px = font_size("body") - 1
    layout = base_layout(
        title or default_title,
        "input position (the next token is predicted here)",
        "residual stream",
        height=min(560, max(380, 150 + 25 * len(blocks))),
        plot_bgcolor="white",
    )
    layout["title"].update(y=0.995, yanchor="top")
    layout["xaxis"].update(
        tickmode="array",
        tickvals=list(range(T)),
        ticktext=inputs,
        range=[-0.5, T - 0.5],
        tickfont=dict(size=label_px),
        showgrid=False,
        zeroline=False,
    )
    layout["yaxis"].update(
        tickmode="array",
        tickvals=list(range(len(blocks))),
        ticktext=y_labels,
        range=[len(blocks) - 0.5, -0.5],
        tickfont=dict(size=label_px),
        showgrid=False,
        zeroline=False,
    )
    layout["margin"] = dict(l=120, r=30, t=100 if thinned else 90, b=70)
    # The input tokens above the columns as well: on a tall figure the bottom row of labels is
    # off screen while one reads the top rows.
    layout["annotations"] = [
        dict(
            x=t,
            y=1.0,
            xref="x",
            yref="paper",
            yanchor="bottom",
            yshift=4,
            text=label,
            showarrow=False,
            font=dict(size=label_px),
        )
        for t, label in enumerate(inputs)
    ]
    heatmap = go.Heatmap(
        z=z,
        customdata=hover_rows,
        colorscale=SEQUENTIAL,
        zmin=0,
        zmax=1,
        xgap=1,
        ygap=1,
        hovertemplate="%{customdata}<extra>top tokens</extra>",
        colorbar=dict(title=dict(text="top-1<br>probability"), thickness=14),
    )
    # The token names as text on the cells: white on the dark (unlikely) end of Viridis, dark on
    # the bright end, so every label stays readable.
    labels = []
    for dark_cells, colour in ((True, "white"), (False, "#111")):
        cells = [
            (t, r) for r in range(len(blocks)) for t in range(T) if (z[r][t] < 0.55) == dark_cells
        ]
        labels.append(
            go.Scatter(
                x=[t for t, _ in cells],
                y=[r for _, r in cells],
                text=[text[r][t] for t, r in cells],
                mode="text",
                textfont=dict(size=label_px, color=colour),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return go.Figure(data=[heatmap, *labels], layout=layout)


def _ordinal(n: int) -> str:
    return {1: "", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def target_trace_figure(trace) -> go.Figure:
    """Probability of one target token (a `helpers.lens.TargetTrace`) after each block;
    rank on hover."""
    n = len(trace.probs)
    who = html.escape(visible(trace.target))
    lead = (
        " (never top-1)" if trace.first_top1 is None else f": top-1 after block {trace.first_top1}"
    )
    fig = go.Figure(
        layout=base_layout(
            f"How likely {who} is, block after block{lead}",
            "after block (0 = embeddings)",
            f"probability of {who}",
            height=380,
        )
    )
    fig.add_scatter(
        x=list(range(n)),
        y=[float(p) for p in trace.probs],
        mode="lines+markers",
        name=who,
        line=dict(color=PALETTE["blue"], width=3),
        marker=dict(size=7),
        customdata=[int(r) + 1 for r in trace.ranks],
        hovertemplate="after block %{x}: p = %{y:.3f}, rank %{customdata}<extra></extra>",
    )
    top1 = [i for i in range(n) if int(trace.ranks[i]) == 0]
    fig.add_scatter(
        x=top1,
        y=[float(trace.probs[i]) for i in top1],
        mode="markers",
        name="top-1 here",
        marker=dict(size=13, color=CHOSEN_COLOR, symbol="star"),
        hoverinfo="skip",
    )
    fig.update_yaxes(range=[0, 1.02])
    fig.update_layout(legend=dict(x=0.01, y=0.98, yanchor="top", bgcolor="rgba(255,255,255,0.8)"))
    return fig
