"""Plotly figures: what a tick costs, in time and memory.

    tick_times_figure(clock.history)                                   # forward + sampling per tick
    tick_cost_figure(ctx, cached_ms, ctx_no_cache, uncached_ms)        # with vs without the KV cache
    prefill_decode_figure(prompt_lengths, prefill_ms, decode_ms)       # ms per token, prefill vs decode
    kv_memory_figure(tokens, measured_bytes, formula_bytes)            # cache size: formula vs tensors
    clock_rate_figure({"measured decode": 24.0, "bandwidth bound": 31.0})   # tokens per second
"""

from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go

from .style import PALETTE, base_layout, font_size

__all__ = ["tick_times_figure", "tick_cost_figure", "prefill_decode_figure", "kv_memory_figure", "clock_rate_figure"]

CACHED_COLOR = PALETTE["blue"]
UNCACHED_COLOR = PALETTE["vermillion"]
PREFILL_COLOR = PALETTE["orange"]
SAMPLING_COLOR = PALETTE["green"]
MB = 2**20


def tick_times_figure(history: Sequence, title: str = "Time per tick") -> go.Figure:
    """Stacked bars per tick of a `Clock.history`: forward pass (prefill in orange, decode in
    blue) and sampling on top."""
    ticks = [r.index for r in history]
    forward_colors = [PREFILL_COLOR if r.phase == "prefill" else CACHED_COLOR for r in history]
    hover = "tick %{x}<br>%{customdata} tokens in context<br>%{fullData.name}: %{y:.1f} ms<extra></extra>"
    context = [r.context_len for r in history]
    fig = go.Figure(layout=base_layout(title, "tick (0 = prefill)", "milliseconds", height=380, barmode="stack",
                                       bargap=0.1, legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0)))
    fig.add_bar(x=ticks, y=[r.forward_ms for r in history], name="forward pass (orange: prefill)",
                marker_color=forward_colors, customdata=context, hovertemplate=hover)
    fig.add_bar(x=ticks, y=[r.sampling_ms for r in history], name="sampling", marker_color=SAMPLING_COLOR,
                customdata=context, hovertemplate=hover)
    return fig


def tick_cost_figure(cached_context: Sequence[int], cached_ms: Sequence[float], uncached_context: Sequence[int],
                     uncached_ms: Sequence[float],
                     title: str = "Cost of one decode tick: with and without the KV cache") -> go.Figure:
    """Milliseconds per tick against the number of tokens in the context."""
    fig = go.Figure(layout=base_layout(title, "tokens in the context", "milliseconds per tick", height=420,
                                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0)))
    fig.add_scatter(x=list(cached_context), y=list(cached_ms), mode="markers", name="with KV cache: read 1 new token",
                    marker=dict(color=CACHED_COLOR, size=6),
                    hovertemplate="%{x} tokens: %{y:.1f} ms<extra>with cache</extra>")
    fig.add_scatter(x=list(uncached_context), y=list(uncached_ms), mode="lines+markers",
                    name="without cache: read the whole context again",
                    marker=dict(color=UNCACHED_COLOR, size=9, symbol="diamond"), line=dict(color=UNCACHED_COLOR, width=3),
                    hovertemplate="%{x} tokens: %{y:.1f} ms<extra>no cache</extra>")
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(rangemode="tozero")
    return fig


def prefill_decode_figure(prompt_lengths: Sequence[int], prefill_ms: Sequence[float], decode_ms: float,
                          title: str = "Per token, the prefill is much cheaper than decoding") -> go.Figure:
    """Bars: prefill time divided by the prompt length, per prompt length; a line: one decode tick."""
    per_token = [ms / n for ms, n in zip(prefill_ms, prompt_lengths)]
    labels = [f"{n} tokens" for n in prompt_lengths]
    fig = go.Figure(layout=base_layout(title, "prompt length (prefill)", "milliseconds per token", height=400,
                                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0)))
    fig.add_bar(x=labels, y=per_token, name="prefill: time / prompt tokens", marker_color=PREFILL_COLOR,
                text=[f"{v:.1f} ms" for v in per_token], textposition="outside", cliponaxis=False,
                customdata=list(prefill_ms), hovertemplate="%{x}: %{customdata:.0f} ms in all, %{y:.2f} ms per token<extra></extra>")
    fig.add_scatter(x=labels, y=[decode_ms] * len(labels), mode="lines", name=f"decode: one token per tick ({decode_ms:.1f} ms)",
                    line=dict(color=CACHED_COLOR, width=3, dash="dash"), hoverinfo="skip")
    fig.update_yaxes(rangemode="tozero")
    fig.update_traces(textfont_size=font_size("small"), selector=dict(type="bar"))
    return fig


def kv_memory_figure(tokens: Sequence[int], measured_bytes: Sequence[int], formula_bytes: Sequence[int],
                     title: str = "KV-cache memory: formula vs the cache's tensors") -> go.Figure:
    """Megabytes of the KV cache against cached positions: the formula as a line, the
    measured sizes as markers on top of it."""
    fig = go.Figure(layout=base_layout(title, "cached positions", "megabytes", height=400,
                                       legend=dict(orientation="h", y=1.0, yanchor="bottom", x=0)))
    fig.add_scatter(x=list(tokens), y=[b / MB for b in formula_bytes], mode="lines", name="formula",
                    line=dict(color=PALETTE["grey"], width=6), hovertemplate="%{x} positions: %{y:.2f} MB<extra>formula</extra>")
    fig.add_scatter(x=list(tokens), y=[b / MB for b in measured_bytes], mode="markers", name="measured from the cache tensors",
                    marker=dict(color=CACHED_COLOR, size=7), hovertemplate="%{x} positions: %{y:.2f} MB<extra>measured</extra>")
    fig.update_yaxes(rangemode="tozero")
    return fig


def clock_rate_figure(rates: Mapping[str, float], title: str = "The clock rate: tokens per second") -> go.Figure:
    """Horizontal bars, one per labelled tokens-per-second figure."""
    labels, values = list(rates), [float(v) for v in rates.values()]
    colors = [PALETTE[c] for c in ("blue", "orange", "grey", "green", "purple", "sky")][: len(labels)]
    fig = go.Figure(layout=base_layout(title, "tokens per second", None, height=120 + 60 * len(labels)))
    fig.add_bar(x=values, y=labels, orientation="h", marker_color=colors, text=[f"{v:.1f}" for v in values],
                textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:.1f} tokens/s<extra></extra>")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(rangemode="tozero")
    fig.update_layout(margin=dict(l=230, r=60, t=60, b=60))
    return fig
