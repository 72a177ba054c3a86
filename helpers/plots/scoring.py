"""Plotly figures: how surprised the model is by each token of a text.

    surprisal_strip(token_logprobs(lm, "The capital of France is Paris."))
    surprisal_strip([fluent, shuffled], labels=["fluent", "shuffled"])

A strip of cells per text, one per token, coloured by its surprisal in bits (-log2 p): light
for tokens the model expected, dark for surprises. The first token has no score (nothing
predicts it) and is drawn as an empty cell. Long texts wrap onto several rows.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go

from .style import base_layout, font_size

__all__ = ["surprisal_strip"]

_SCALE = "Oranges"   # one hue, light to dark: readable with any colour vision


def _short(label: str, width: int = 10) -> str:
    return label if len(label) <= width else label[: width - 1] + "…"


def surprisal_strip(scores, labels: list[str] | None = None, per_row: int = 18,
                    title: str | None = None, max_bits: float | None = None) -> go.Figure:
    """Heat strip of one or several `helpers.scoring.TokenScores`.

    labels: a name per text (default: its perplexity). per_row: tokens per row before
    wrapping. max_bits: the top of the colour scale (default: the largest surprisal shown).
    """
    texts = scores if isinstance(scores, (list, tuple)) else [scores]
    if not texts:
        raise ValueError("Give at least one TokenScores (from helpers.scoring.token_logprobs).")
    labels = labels or [f"perplexity {s.perplexity:.1f}" for s in texts]
    if len(labels) != len(texts):
        raise ValueError(f"Give one label per text: {len(texts)} texts, {len(labels)} labels.")
    if per_row < 1:
        raise ValueError(f"per_row must be at least 1, got {per_row}.")
    top = max_bits or max(float(s.surprisal_bits.max()) for s in texts)

    z, words, hover, row_names = [], [], [], []
    for s, label in zip(texts, labels):
        bits = [None] + [float(b) for b in s.surprisal_bits]   # the first token: no score
        for start in range(0, len(s.tokens), per_row):
            cells = range(start, min(start + per_row, len(s.tokens)))
            pad = [None] * (per_row - len(cells))
            z.append([bits[i] for i in cells] + pad)
            words.append([html.escape(_short(s.tokens[i])) for i in cells] + [""] * len(pad))
            hover.append([html.escape(s.tokens[i]) + (
                "<br>first token: no prediction" if bits[i] is None else
                f"<br>{bits[i]:.2f} bits, p = {2 ** -bits[i]:.3g}") for i in cells]
                + [""] * len(pad))
            row_names.append(label if start == 0 else "")
    rows = len(z)
    layout = base_layout(title or "Surprisal of each token, in bits (−log2 p)", None, None,
                         height=min(700, 110 + 48 * rows), plot_bgcolor="white")
    layout["xaxis"].update(visible=False, range=[-0.5, per_row - 0.5])
    layout["yaxis"].update(tickmode="array", tickvals=list(range(rows)), ticktext=row_names,
                           range=[rows - 0.5, -0.5], showgrid=False, zeroline=False)
    layout["margin"] = dict(l=150, r=30, t=60, b=20)
    heatmap = go.Heatmap(z=z, customdata=hover, colorscale=_SCALE, zmin=0, zmax=top, xgap=2, ygap=6,
                         hovertemplate="%{customdata}<extra></extra>",
                         colorbar=dict(title=dict(text="bits"), thickness=14))
    # Token text on the cells: dark on the light (expected) end, white on the dark (surprising) end
    marks = []
    for dark, colour in ((False, "#111"), (True, "white")):
        cells = [(c, r) for r in range(rows) for c in range(per_row) if words[r][c]
                 and ((z[r][c] or 0) > 0.6 * top) == dark]
        marks.append(go.Scatter(x=[c for c, _ in cells], y=[r for _, r in cells],
                                text=[words[r][c] for c, r in cells], mode="text",
                                textfont=dict(size=font_size("small"), color=colour),
                                hoverinfo="skip", showlegend=False))
    return go.Figure(data=[heatmap, *marks], layout=layout)
