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

    def __init__(self, lm, text: str = EXAMPLE_TEXTS["English"], grouped: bool = False):
        self.lm = lm
        self.tokenizer = getattr(lm, "tokenizer", lm)
        self.spans: list = []
        self.counts = TextCounts(0, 0, 0)

        self.text = w.Textarea(value="", placeholder="Type or paste any text here",
                               continuous_update=True, layout=w.Layout(width="98%", height="90px"))
        self.text.style.font_size = f"{font_size('body') + 3}px"  # as large as the token boxes
        self.text.add_class("llmclock-token-text")
        self.examples = w.Dropdown(options=["(examples)"] + list(EXAMPLE_TEXTS), value="(examples)",
                                   description="try", layout=w.Layout(width="260px"))
        self.grouped = w.ToggleButton(
            value=grouped, description="Group byte fragments into characters",
            tooltip="Glue tokens that are only part of one character's UTF-8 bytes",
            icon="link", layout=w.Layout(width="320px"))
        self.grouped.add_class("llmclock-group-toggle")
        self.show_ids = w.Checkbox(value=True, description="show ids", indent=False,
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
            w.HTML(f"<b>Token explorer</b> — tokenizer of <code>{name}</code>, "
                   f"{len(self.tokenizer):,} tokens in its vocabulary"),
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
            self.examples.value = "(examples)"

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
            self._say("Type some text above (or pick an example) to see its tokens.")
            return
        try:
            n_bytes = len(text.encode("utf-8"))
            spans = token_spans(self.tokenizer, text)
        except UnicodeError:
            self._say("This text contains a broken character (a lone surrogate) that has no "
                      "UTF-8 bytes. Delete it or paste the text again.", error=True)
            return
        except Exception as err:  # a tokenizer error must not freeze the widget
            self._say(f"Could not tokenize this text ({type(err).__name__}: {str(err)[:200]}). "
                      "Try other text.", error=True)
            return
        self.spans = spans
        self.counts = TextCounts(len(text), n_bytes, len(spans))
        self._show_summary()
        shown = spans[:MAX_SHOWN_TOKENS]
        items = readable_pieces(shown) if self.grouped.value else shown
        self.tokens_view.value = token_spans_html(items, show_ids=self.show_ids.value)
        ids = [s.id for s in shown]
        style = f"color:#555;font-family:monospace;font-size:{font_size('small')}px"
        self.ids_view.value = f"<div style='{style}'>ids: {html.escape(str(ids))}</div>"
        fragments = sum(s.is_fragment for s in spans)
        notes = []
        dropped = n_bytes - sum(len(s.bytes) for s in spans)
        if dropped > 0:  # SmolLM2 has no token for 21 of the 256 bytes (notebook 01)
            notes.append(f"{dropped} byte{'s' if dropped > 1 else ''} of this text "
                         f"{'have' if dropped > 1 else 'has'} no token in the vocabulary and "
                         f"{'were' if dropped > 1 else 'was'} dropped by the tokenizer.")
        if len(spans) > MAX_SHOWN_TOKENS:
            notes.append(f"Showing the first {MAX_SHOWN_TOKENS:,} of {len(spans):,} tokens.")
        if fragments and not self.grouped.value:
            notes.append(f"{fragments} token{'s are' if fragments > 1 else ' is'} only part of a "
                         f"character (dashed outline): switch on grouping to glue them back.")
        self._say(" ".join(notes))

    def _show_summary(self) -> None:
        c = self.counts
        per = f" · {c.bytes_per_token:.1f} bytes per token" if c.tokens else ""
        size = font_size("body") + 1
        self.summary.value = (
            f"<div style='font-size:{size}px'><b>{c.characters:,}</b> characters · "
            f"<b>{c.bytes:,}</b> bytes (UTF-8) · "
            f"<b style='color:{PALETTE['blue']}'>{c.tokens:,}</b> tokens{per}</div>"
        )
