"""Plotly figures: what a tick costs, in time and memory.

    tick_times_figure(clock.history)                               # forward + sampling per tick
    tick_cost_figure(ctx, cached_ms, ctx_no_cache, uncached_ms)    # with vs without the KV cache
    prefill_decode_figure(prompt_lengths, prefill_ms, decode_ms)   # ms per prompt token vs length
    kv_memory_figure(tokens, measured_bytes, formula_bytes)        # cache size: formula vs tensors
    clock_rate_figure({"measured decode": 24.0, "bandwidth bound": 31.0})   # tokens per second
"""

from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go

from .style import PALETTE, base_layout, font_size

__all__ = ["tick_times_figure", "tick_cost_figure", "prefill_decode_figure", "kv_memory_figure",
           "clock_rate_figure"]

CACHED_COLOR = PALETTE["blue"]
UNCACHED_COLOR = PALETTE["vermillion"]
PREFILL_COLOR = PALETTE["orange"]
SAMPLING_COLOR = PALETTE["green"]
MIB = 2**20   # sizes in binary units: 1 MiB = 2^20 bytes
LEGEND_ON_TOP = dict(orientation="h", y=1.0, yanchor="bottom", x=0)


def tick_times_figure(history: Sequence, title: str = "Time per tick") -> go.Figure:
    """Stacked bars per tick of a `Clock.history`: forward pass (prefill in orange, decode in
    blue) and sampling on top."""
    ticks = [r.index for r in history]
    forward_colors = [PREFILL_COLOR if r.phase == "prefill" else CACHED_COLOR for r in history]
    hover = ("tick %{x}<br>%{customdata} tokens in context<br>%{fullData.name}: %{y:.1f} ms"
             "<extra></extra>")
    context = [r.context_len for r in history]
    fig = go.Figure(layout=base_layout(title, "tick (0 = prefill)", "milliseconds", height=380,
                                       barmode="stack", bargap=0.1, legend=LEGEND_ON_TOP))
    fig.add_bar(x=ticks, y=[r.forward_ms for r in history], name="forward pass (orange: prefill)",
                marker_color=forward_colors, customdata=context, hovertemplate=hover)
    fig.add_bar(x=ticks, y=[r.sampling_ms for r in history], name="sampling",
                marker_color=SAMPLING_COLOR, customdata=context, hovertemplate=hover)
    return fig


def tick_cost_figure(cached_context: Sequence[int], cached_ms: Sequence[float],
                     uncached_context: Sequence[int], uncached_ms: Sequence[float],
                     title: str = "Cost of one decode tick: with and without the KV cache",
                     cached_median_ms: Sequence[float] | None = None) -> go.Figure:
    """Milliseconds per tick against the number of tokens in the context: the clock's own
    ticks as small markers, the no-cache passes as a line. `cached_median_ms` (measured at
    `uncached_context`, like the no-cache line) adds the cached medians as a second line."""
    fig = go.Figure(layout=base_layout(title, "tokens in the context", "milliseconds per tick",
                                       height=420, legend=LEGEND_ON_TOP))
    fig.add_scatter(x=list(cached_context), y=list(cached_ms), mode="markers",
                    name="with KV cache: read 1 new token", marker=dict(color=CACHED_COLOR, size=6),
                    hovertemplate="%{x} tokens: %{y:.1f} ms<extra>with cache</extra>")
    fig.add_scatter(x=list(uncached_context), y=list(uncached_ms), mode="lines+markers",
                    name="without cache: read the whole context again",
                    marker=dict(color=UNCACHED_COLOR, size=9, symbol="diamond"),
                    line=dict(color=UNCACHED_COLOR, width=3),
                    hovertemplate="%{x} tokens: %{y:.1f} ms<extra>no cache</extra>")
    if cached_median_ms is not None:
        fig.add_scatter(x=list(uncached_context), y=list(cached_median_ms), mode="lines+markers",
                        name="with KV cache, median", line=dict(color=CACHED_COLOR, width=3),
                        marker=dict(color=CACHED_COLOR, size=9, symbol="diamond"),
                        hovertemplate="%{x} tokens: %{y:.1f} ms<extra>cache, median</extra>")
    fig.update_yaxes(rangemode="tozero")
    fig.update_xaxes(rangemode="tozero")
    return fig


def prefill_decode_figure(prompt_lengths: Sequence[int], prefill_ms: Sequence[float],
                          decode_ms: float, crossover: float | None = None,
                          title: str = "Prefill: milliseconds per prompt token") -> go.Figure:
    """Prefill time divided by the prompt length, against the prompt length (log scales); a
    dashed line: one decode tick. `crossover`: a prompt length to mark (where the prefill's
    arithmetic per weight byte reaches what the machine's arithmetic can keep up with)."""
    per_token = [ms / n for ms, n in zip(prefill_ms, prompt_lengths)]
    fig = go.Figure(layout=base_layout(title, "prompt length (tokens, log scale)",
                                       "milliseconds per token (log scale)", height=420,
                                       legend=LEGEND_ON_TOP))
    fig.add_scatter(x=list(prompt_lengths), y=per_token, mode="lines+markers",
                    name="prefill: time / prompt tokens", customdata=list(prefill_ms),
                    marker=dict(color=PREFILL_COLOR, size=9),
                    line=dict(color=PREFILL_COLOR, width=3),
                    hovertemplate="%{x} tokens: %{customdata:.0f} ms in all, %{y:.2f} ms per token"
                                  "<extra></extra>")
    fig.add_scatter(x=list(prompt_lengths), y=[decode_ms] * len(prompt_lengths), mode="lines",
                    name=f"one decode tick ({decode_ms:.1f} ms)", hoverinfo="skip",
                    line=dict(color=CACHED_COLOR, width=3, dash="dash"))
    if crossover is not None:
        fig.add_vline(x=crossover, line=dict(color=PALETTE["grey"], width=2, dash="dot"),
                      annotation_text=f"arithmetic catches up with memory: ~{crossover:.0f} tokens",
                      annotation_position="top right", annotation_font_size=font_size("small"))
    fig.update_xaxes(type="log")
    fig.update_yaxes(type="log")
    return fig


def kv_memory_figure(tokens: Sequence[int], measured_bytes: Sequence[int],
                     formula_bytes: Sequence[int],
                     title: str = "KV-cache memory: formula vs the cache's tensors") -> go.Figure:
    """MiB (2^20 bytes) of the KV cache against cached positions: the formula as a line, the
    measured sizes as markers on top of it."""
    fig = go.Figure(layout=base_layout(title, "cached positions", "MiB (2²⁰ bytes)", height=400,
                                       legend=LEGEND_ON_TOP))
    fig.add_scatter(x=list(tokens), y=[b / MIB for b in formula_bytes], mode="lines",
                    name="formula", line=dict(color=PALETTE["grey"], width=6),
                    hovertemplate="%{x} positions: %{y:.2f} MiB<extra>formula</extra>")
    fig.add_scatter(x=list(tokens), y=[b / MIB for b in measured_bytes], mode="markers",
                    name="measured from the cache tensors", marker=dict(color=CACHED_COLOR, size=7),
                    hovertemplate="%{x} positions: %{y:.2f} MiB<extra>measured</extra>")
    fig.update_yaxes(rangemode="tozero")
    return fig


def clock_rate_figure(rates: Mapping[str, float],
                      title: str = "Tokens per second") -> go.Figure:
    """Horizontal bars, one per labelled tokens-per-second figure."""
    labels, values = list(rates), [float(v) for v in rates.values()]
    palette = ("blue", "orange", "grey", "green", "purple", "sky")
    colors = [PALETTE[c] for c in palette][: len(labels)]
    fig = go.Figure(layout=base_layout(title, "tokens per second", None,
                                       height=120 + 60 * len(labels)))
    fig.add_bar(x=values, y=labels, orientation="h", marker_color=colors,
                text=[f"{v:.1f}" for v in values], textposition="outside", cliponaxis=False,
                hovertemplate="%{y}: %{x:.1f} tokens/s<extra></extra>")
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(rangemode="tozero")
    fig.update_layout(margin=dict(l=230, r=60, t=60, b=60))
    return fig
