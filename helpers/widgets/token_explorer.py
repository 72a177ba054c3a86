"""The token explorer: type text, see how the model's tokenizer cuts it.

    TokenExplorer(lm)                        # display it in a notebook cell
    TokenExplorer(lm, "我喜欢吃披萨")          # start from a text

Shows one coloured box per token (spaces as ·, newlines as ↵, the id underneath, details on
hover), the counts of characters / UTF-8 bytes / tokens, and a toggle that glues byte-level
tokens which are fragments of one character (Chinese, emoji) back into readable pieces.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..i18n import messages
from ..plots.style import PALETTE, font_size
from ..plots.tokens import token_spans_html
from ..tokens import TextCounts, readable_pieces, token_spans

__all__ = ["TokenExplorer", "EXAMPLE_TEXTS"]

EXAMPLE_TEXTS = {
    "English": "The capital of France is Paris.",
    "Chinese": "我喜欢吃披萨",
    "Emoji": "I love 🍕 pizza! 👍",
    "Numbers": "In 2024, 1234567 + 89 = 1234656.",
    "Spaces and newlines": "def tick(clock):\n    return clock + 1\n",
    "Capitals": "clock Clock CLOCK the The THE",
}
MAX_SHOWN_TOKENS = 1500  # beyond this the HTML gets slow to draw; the counts still cover all of it


class TokenExplorer:
    """An ipywidgets UI over `helpers.tokens.token_spans`; display it, or use `.ui`."""

    def __init__(self, lm, text: str = EXAMPLE_TEXTS["English"], grouped: bool = False,
                 lang: str = "en"):
        self.lm = lm
        self.t = t = messages(lang)  # every word on screen: helpers/messages/
        self.tokenizer = getattr(lm, "tokenizer", lm)
        self.spans: list = []
        self.counts = TextCounts(0, 0, 0)

        self.text = w.Textarea(value="", placeholder=t("tx.placeholder"),
                               continuous_update=True, layout=w.Layout(width="98%", height="90px"))
        self.text.style.font_size = f"{font_size('body') + 3}px"  # as large as the token boxes
        self.text.add_class("llmclock-token-text")
        examples = [(t("tx.examples"), "")] + [(t(f"tx.example.{k}"), k) for k in EXAMPLE_TEXTS]
        self.examples = w.Dropdown(options=examples, value="",
                                   description=t("tx.try"), layout=w.Layout(width="260px"))
        self.grouped = w.ToggleButton(
            value=grouped, description=t("tx.group"), tooltip=t("tx.group_tip"),
            icon="link", layout=w.Layout(width="320px"))
        self.grouped.add_class("llmclock-group-toggle")
        self.show_ids = w.Checkbox(value=True, description=t("tx.show_ids"), indent=False,
                                   layout=w.Layout(width="110px"))
        self.summary = w.HTML()
        self.summary.add_class("llmclock-token-counts")
        self.message = w.HTML()
        self.message.add_class("llmclock-message")
        self.tokens_view = w.HTML()
        self.tokens_view.add_class("llmclock-token-view")
        self.ids_view = w.HTML()

        self.text.observe(lambda _: self.refresh(), names="value")
        self.grouped.observe(lambda _: self.refresh(), names="value")
        self.show_ids.observe(lambda _: self.refresh(), names="value")
        self.examples.observe(self._on_example, names="value")

        name = html.escape(getattr(lm, "name", type(self.tokenizer).__name__))
        self.ui = w.VBox([
            w.HTML(t("tx.header", name=name, n=f"{len(self.tokenizer):,}")),
            self.text,
            w.HBox([self.examples, self.grouped, self.show_ids],
                   layout=w.Layout(flex_flow="row wrap")),
            self.summary, self.message, self.tokens_view, self.ids_view,
        ], layout=w.Layout(width="100%"))
        self.ui.add_class("llmclock")
        self.ui.add_class("llmclock-token-explorer")
        self.text.value = text  # triggers the first refresh
        if text == "":
            self.refresh()

    def _repr_mimebundle_(self, **kwargs):
        return self.ui._repr_mimebundle_(**kwargs)

    def _on_example(self, change) -> None:
        if change["new"] in EXAMPLE_TEXTS:
            self.text.value = EXAMPLE_TEXTS[change["new"]]
            self.examples.value = ""

    def _say(self, text: str, error: bool = False) -> None:
        colour = PALETTE["vermillion"] if error else "#555"
        self.message.value = (f"<div style='color:{colour}'>{html.escape(text)}</div>" if text
                              else "")

    def refresh(self) -> None:
        """Re-tokenize the text box and redraw; never raises (a problem becomes a message)."""
        text = self.text.value
        if not isinstance(text, str) or text == "":
            self.spans, self.counts = [], TextCounts(0, 0, 0)
            self._show_summary()
            self.tokens_view.value = ""
            self.ids_view.value = ""
            self._say(self.t("tx.type_some"))
            return
        try:
            n_bytes = len(text.encode("utf-8"))
            spans = token_spans(self.tokenizer, text)
        except UnicodeError:
            self._say(self.t("tx.surrogate"), error=True)
            return
        except Exception as err:  # a tokenizer error must not freeze the widget
            self._say(self.t("tx.failed", error=f"{type(err).__name__}: {str(err)[:200]}"),
                      error=True)
            return
        self.spans = spans
        self.counts = TextCounts(len(text), n_bytes, len(spans))
        self._show_summary()
        shown = spans[:MAX_SHOWN_TOKENS]
        items = readable_pieces(shown) if self.grouped.value else shown
        self.tokens_view.value = token_spans_html(items, show_ids=self.show_ids.value)
        ids = [s.id for s in shown]
        style = f"color:#555;font-family:monospace;font-size:{font_size('small')}px"
        shown_ids = self.t("tx.ids", ids=html.escape(str(ids)))
        self.ids_view.value = f"<div style='{style}'>{shown_ids}</div>"
        fragments = sum(s.is_fragment for s in spans)
        notes = []
        dropped = n_bytes - sum(len(s.bytes) for s in spans)
        if dropped > 0:  # SmolLM2 has no token for 21 of the 256 bytes (notebook 01)
            notes.append(self.t("tx.dropped_many", n=dropped) if dropped > 1
                         else self.t("tx.dropped_one"))
        if len(spans) > MAX_SHOWN_TOKENS:
            notes.append(self.t("tx.first_n", n=f"{MAX_SHOWN_TOKENS:,}", total=f"{len(spans):,}"))
        if fragments and not self.grouped.value:
            notes.append(self.t("tx.fragments_many", n=fragments) if fragments > 1
                         else self.t("tx.fragments_one"))
        self._say(" ".join(notes))

    def _show_summary(self) -> None:
        c = self.counts
        per = self.t("tx.per_token", n=f"{c.bytes_per_token:.1f}") if c.tokens else ""
        size = font_size("body") + 1
        tokens = f"<b style='color:{PALETTE['blue']}'>{c.tokens:,}</b>"
        counts = self.t("tx.counts", chars=f"{c.characters:,}", bytes=f"{c.bytes:,}",
                        tokens=tokens, per=per)
        self.summary.value = f"<div style='font-size:{size}px'>{counts}</div>"
