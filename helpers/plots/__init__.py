"""Plotly figures and HTML for the lessons, one submodule per thing drawn; all share `style`.

    context                 the text so far, token by token (HTML)
    attention_over_context  where the newest position looked: one tick (bars), every tick
    tick_table              the whole run, one row per tick (HTML)
    distribution            the next-token distribution, raw vs sampled-from
    svg                     the clock widget's two charts as inline SVG (no plotly)
    tokens, embeddings, attention, lens, attribution, beams, scoring, speed, timing

The words and numbers of a tick (labels, percentages, sizes, which axis labels show) come from
helpers.tick_view. Each name is imported explicitly, so you can see which module it lives in.
"""

from .style import (
    PALETTE, PROMPT_COLOR, GENERATED_COLOR, NEW_TOKEN_COLOR, RAW_COLOR, FILTERED_COLOR,
    CHOSEN_COLOR, SEQUENTIAL, DIVERGING, FONT_FAMILY, font_size, set_presenter_mode,
    presenter_mode, figure_height, base_layout, styled_figure, MONO_FONT
)
from .context import context_html, token_span_html
from .attention_over_context import (
    attention_over_context_figure, update_attention_over_context_figure,
    attention_over_ticks_figure
)
from .tick_table import tick_table_html
from .tokens import (
    token_spans_html, bpe_steps_html, merges_table_html, text_counts_figure, bpe_training_figure
)
from .embeddings import (
    projection_figure, neighbours_figure, rope_angles_figure, rope_scores_figure,
    residual_norms_figure,
)
from .attention import (
    attention_heatmap, update_attention_heatmap, query_attention_figure,
    update_query_attention_figure, head_scores_figure
)
from .lens import (
    logit_lens_heatmap, target_trace_figure, default_blocks
)
from .distribution import distribution_figure, update_distribution_figure
from .svg import distribution_svg, attention_svg
from .timing import (
    tick_times_figure, tick_cost_figure, prefill_decode_figure, kv_memory_figure, clock_rate_figure
)

__all__ = [
    "PALETTE", "PROMPT_COLOR", "GENERATED_COLOR", "NEW_TOKEN_COLOR", "RAW_COLOR", "FILTERED_COLOR",
    "CHOSEN_COLOR", "SEQUENTIAL", "DIVERGING", "FONT_FAMILY", "font_size", "set_presenter_mode",
    "presenter_mode", "figure_height", "base_layout", "styled_figure", "MONO_FONT",
    "context_html", "token_span_html", "attention_over_context_figure",
    "update_attention_over_context_figure", "tick_table_html", "attention_over_ticks_figure",
    "token_spans_html", "bpe_steps_html", "merges_table_html", "text_counts_figure",
    "bpe_training_figure", "projection_figure", "neighbours_figure", "rope_angles_figure",
    "rope_scores_figure", "residual_norms_figure", "attention_heatmap", "update_attention_heatmap",
    "query_attention_figure", "update_query_attention_figure", "head_scores_figure",
    "logit_lens_heatmap", "target_trace_figure", "default_blocks", "distribution_figure",
    "update_distribution_figure", "tick_times_figure", "tick_cost_figure",
    "prefill_decode_figure", "kv_memory_figure", "clock_rate_figure", "distribution_svg",
    "attention_svg",
]
