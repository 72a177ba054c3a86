"""The attention explorer: type a text, pick a layer and a head, see who looks at whom.

    AttentionExplorer(lm)                                   # display it in a notebook cell
    AttentionExplorer(lm, "The cat sat on the mat", layer=3)

A heatmap of the chosen head's attention (rows = queries, columns = keys; future cells blank),
the chosen query row outlined, and bars of that query token's attention. "mean over heads"
averages the layer's heads. One forward pass per text; changing layer, head or query updates
the two figures and shows them again (static figures in an Output: see figure_output.py),
side by side, so that the controls and both figures fit 600 px (one 1280x720 screen).
"""

from __future__ import annotations

import html

import ipywidgets as w
import torch

from ..attention import as_ids, attention_weights, kv_head_of, token_labels
from ..i18n import messages
from ..plots.attention import (
    attention_heatmap, query_attention_figure, update_attention_heatmap,
    update_query_attention_figure,
)
from ..plots.style import CHOSEN_COLOR, PALETTE
from .figure_output import figure_output, show_figures

__all__ = ["AttentionExplorer"]

DEFAULT_TEXT = "The capital of France is Paris. The capital of Italy is"
MEAN = -1  # the head selector's value for "mean over heads"
# layers × heads × T × T float32 weights: 200 tokens is ~41 MiB for SmolLM2, and a heatmap
# stays readable
MAX_TOKENS = 200
FIGURE_PX = 430  # both figures' height: with the controls above them, 600 px in all
# The two figures of the Output side by side (each a child of its output area).
_SIDE_BY_SIDE_CSS = """<style>
.llmclock-attention-figures .jp-OutputArea { display: flex; flex-flow: row wrap; }
.llmclock-attention-figures .jp-OutputArea-child { flex: 1 1 440px; min-width: 0; }
</style>"""


class AttentionExplorer:
    """An ipywidgets UI over `helpers.attention.attention_weights`; display it, or use `.ui`."""

    MEAN = MEAN

    def __init__(self, lm, text: str = DEFAULT_TEXT, layer: int = 0, head: int = 0,
                 lang: str = "en"):
        self.lm = lm
        self.t = t = messages(lang)  # every word on screen: helpers/messages/
        self.max_tokens = MAX_TOKENS
        # State: the last text that ran; a bad text leaves all of it untouched.
        self.ids: list[int] = []
        self.tokens: list[str] = ["∅"]
        self.weights = torch.ones(lm.n_layers, lm.n_heads, 1, 1)
        self._quiet = False  # set while the code itself changes selectors

        # One line, run on Enter (or when the box loses focus), not at every keystroke.
        self.text = w.Text(value=text, placeholder=t("ax.placeholder"),
                           continuous_update=False, layout=w.Layout(width="98%"))
        self.text.add_class("llmclock-attention-text")
        self.layer = w.IntSlider(value=min(max(layer, 0), lm.n_layers - 1), min=0,
                                 max=lm.n_layers - 1, description=t("label.layer"),
                                 continuous_update=True,
                                 layout=w.Layout(width="320px"))
        grouped = lm.n_kv_heads < lm.n_heads
        head_options = [(t("ax.mean"), MEAN)] + [
            (t("ax.head_shared", head=h, kv=kv_head_of(lm, h)) if grouped
             else t("ax.head", head=h), h)
            for h in range(lm.n_heads)
        ]
        self.head = w.Dropdown(options=head_options, value=head if -1 <= head < lm.n_heads else 0,
                               description=t("label.head"), layout=w.Layout(width="330px"))
        self.query = w.Dropdown(options=[("0: ∅", 0)], value=0, description=t("ax.query"),
                                style={"description_width": "initial"},
                                layout=w.Layout(width="280px"))
        self.message = w.HTML()
        self.message.add_class("llmclock-message")

        # Two plain figures, updated in place and shown again in `figures` after each change.
        self.heatmap = attention_heatmap(self.weights[0, 0], self.tokens, title="")
        self.bars = query_attention_figure(self.weights, self.tokens, query=0, layer=0, head=0)
        self.figures = figure_output()
        self.figures.add_class("llmclock-attention-figures")
        if not self.load(text):
            self.refresh()

        self.text.observe(self._on_text, names="value")
        for selector in (self.layer, self.head, self.query):
            selector.observe(self._on_selection, names="value")

        name = html.escape(lm.name)
        group = (t("ax.group", heads=lm.n_heads, kv=lm.n_kv_heads)
                 if lm.n_kv_heads < lm.n_heads else "")
        self.ui = w.VBox([
            w.HTML(t("ax.header", name=name, layers=lm.n_layers, heads=lm.n_heads,
                     group=html.escape(group))),
            self.text,
            w.HBox([self.layer, self.head, self.query], layout=w.Layout(flex_flow="row wrap")),
            self.message, self.figures,
            w.HTML(_SIDE_BY_SIDE_CSS, layout=w.Layout(height="0px", overflow="hidden")),
        ], layout=w.Layout(width="100%"))
        self.ui.add_class("llmclock")
        self.ui.add_class("llmclock-attention-explorer")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # shown where widgets cannot render; not the widget tree
        return bundle

    def __repr__(self) -> str:
        return f"AttentionExplorer({self.lm.name!r}, {len(self.ids)} tokens)"

    # ------------------------------------------------------------------ callbacks

    def _say(self, text: str, error: bool = False) -> None:
        colour = PALETTE["vermillion"] if error else "#555"
        self.message.value = (f"<div style='color:{colour}'>{html.escape(text)}</div>" if text
                              else "")

    def _on_text(self, change) -> None:
        self.load(change["new"])

    def _on_selection(self, change) -> None:
        if not self._quiet:
            self.refresh()

    def load(self, text) -> bool:
        """Run the model on `text` and show it; on bad input, say why and keep the previous text."""
        try:
            ids = as_ids(self.lm, text if isinstance(text, str) else "")
            if len(ids) > self.max_tokens:
                raise ValueError(self.t("ax.too_long", n=len(ids), max=self.max_tokens))
            weights = attention_weights(self.lm, ids)
        except ValueError as err:
            self._say(self.t("ax.still", error=err) if self.ids else str(err),
                      error=True)
            return False
        except Exception as err:  # the widget must stay alive whatever happens
            self._say(self.t("ax.failed", error=f"{type(err).__name__}: {str(err)[:200]}"),
                      error=True)
            return False
        self.ids, self.weights, self.tokens = ids, weights, token_labels(self.lm, ids)
        self._quiet = True
        try:
            self.query.options = [(f"{i}: {tok}", i) for i, tok in enumerate(self.tokens)]
            self.query.value = len(self.tokens) - 1  # the newest token: the one predicting the next
        finally:
            self._quiet = False
        self._say("")
        self.refresh()
        return True

    def selected_weights(self) -> torch.Tensor:
        """The [T, T] pattern on show: one head, or the mean over the layer's heads."""
        layer_weights = self.weights[self.layer.value]
        return layer_weights.mean(0) if self.head.value == MEAN else layer_weights[self.head.value]

    def refresh(self) -> None:
        """Redraw both figures for the current layer, head and query, and show them again."""
        layer, head, query = self.layer.value, self.head.value, self.query.value
        which = self.t("ax.mean") if head == MEAN else self.t("ax.head", head=head)
        if not self.ids and not self.message.value:
            self._say(self.t("ax.type"))
        try:
            update_attention_heatmap(self.heatmap, self.selected_weights(), self.tokens,
                                     title=self.t("ax.pattern_title", layer=layer, which=which))
            update_query_attention_figure(self.bars, self.weights, self.tokens, query=query,
                                          layer=layer, head=None if head == MEAN else head)
            T = len(self.tokens)
            row = dict(type="rect", x0=-0.5, x1=query + 0.5, y0=query - 0.5, y1=query + 0.5,
                       line=dict(color=CHOSEN_COLOR, width=3))
            self.heatmap.layout.shapes = [row] if self.ids else []
            self.heatmap.layout.xaxis.range = [-0.5, T - 0.5]
            self.heatmap.layout.yaxis.range = [T - 0.5, -0.5]
            for fig in (self.heatmap, self.bars):  # after the updates, which set their own
                fig.layout.height = FIGURE_PX
            self.heatmap.layout.margin = dict(l=90, r=20, t=50, b=90)
            self.bars.layout.margin = dict(l=60, r=20, t=80, b=90)
        except ValueError as err:
            self._say(str(err), error=True)
        show_figures(self.figures, self.heatmap, self.bars)
