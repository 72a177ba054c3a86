"""One look for every figure: projector-readable fonts, colour-blind-safe colours.

Colours are the Okabe–Ito palette (distinguishable with the common colour-vision
deficiencies); sequential maps are single-hue or viridis-like, never red–green.
"""

from __future__ import annotations

import plotly.graph_objects as go

__all__ = [
    "PALETTE",
    "PROMPT_COLOR",
    "GENERATED_COLOR",
    "NEW_TOKEN_COLOR",
    "RAW_COLOR",
    "FILTERED_COLOR",
    "CHOSEN_COLOR",
    "SEQUENTIAL",
    "DIVERGING",
    "FONT_FAMILY",
    "MONO_FONT",
    "font_size",
    "set_presenter_mode",
    "presenter_mode",
    "figure_height",
    "base_layout",
    "styled_figure",
]

# Okabe–Ito
PALETTE = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#999999",
}
PROMPT_COLOR = "#DCEBF7"  # light blue background for prompt tokens
GENERATED_COLOR = "#FCEBD0"  # light orange background for generated tokens
NEW_TOKEN_COLOR = PALETTE["orange"]
RAW_COLOR = PALETTE["grey"]
FILTERED_COLOR = PALETTE["blue"]
CHOSEN_COLOR = PALETTE["vermillion"]
SEQUENTIAL = "Viridis"  # attention weights, probabilities
DIVERGING = "RdBu"  # signed values (blue–red is safe for red–green deficiency)
FONT_FAMILY = "Inter, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', Arial, sans-serif"
# Token text (double quotes inside: the HTML attributes around it use single quotes).
MONO_FONT = '"JetBrains Mono", "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace'

_presenter = False


def set_presenter_mode(on: bool = True) -> None:
    """Larger fonts everywhere, for projecting in a classroom."""
    global _presenter
    _presenter = bool(on)


def presenter_mode() -> bool:
    return _presenter


def font_size(kind: str = "body") -> int:
    """Font size in px for 'title', 'body' (axes, labels) or 'small' (dense tick labels)."""
    sizes = {"title": 20, "body": 15, "small": 12}
    return sizes[kind] + (6 if _presenter else 0)


def figure_height(px: int) -> int:
    """A figure's height in px, taller in presenter mode (to go with the larger fonts).
    In-place updates that resize a figure use this too, so it keeps its presenter size."""
    return px + (80 if _presenter else 0)


def base_layout(
    title: str,
    xaxis_title: str | None = None,
    yaxis_title: str | None = None,
    height: int | None = None,
    **extra,
) -> dict:
    """The layout dict every figure starts from."""
    layout = dict(
        title=dict(text=title, font=dict(size=font_size("title")), x=0.01, xanchor="left"),
        font=dict(family=FONT_FAMILY, size=font_size("body"), color="#222"),
        template="plotly_white",
        margin=dict(l=70, r=30, t=60, b=60),
        hoverlabel=dict(font=dict(size=font_size("body"), family=FONT_FAMILY)),
        xaxis=dict(title=dict(text=xaxis_title)) if xaxis_title else {},
        yaxis=dict(title=dict(text=yaxis_title)) if yaxis_title else {},
    )
    if height:
        layout["height"] = figure_height(height)
    layout.update(extra)
    return layout


def styled_figure(
    title: str,
    xaxis_title: str | None = None,
    yaxis_title: str | None = None,
    height: int | None = None,
    **extra,
) -> go.Figure:
    """An empty figure with the project's look."""
    return go.Figure(layout=base_layout(title, xaxis_title, yaxis_title, height, **extra))
