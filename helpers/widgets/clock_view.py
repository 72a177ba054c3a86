"""The clock widget's panels: builds the controls and draws one tick of a Clock's history.

Laid out for one 1280x720 screen (JupyterLab, left sidebar collapsed, about 590 px of
notebook): a row of buttons, a one-line status, a message line, the scrubber, the text (a
short scroll box that stays at its end), then the distribution and the attention side by
side; the force and layer/head pickers under them; prompt, chat and sampling settings fold
away in an accordion. Presenter mode: every text 14 px or larger.

The view knows nothing about running: `show(clock, index)` draws tick `index` of the clock's
history (None: before the first tick), and `FrameAck` tells the run loop which frame the
browser has drawn (see clock_state.py).
"""

from __future__ import annotations

import html
import threading
from contextlib import contextmanager

import anywidget
import ipywidgets as w
import traitlets

from ..plots.style import CHOSEN_COLOR
from ..plots.svg import attention_svg, distribution_svg
from ..plots.text import context_html, readable_token
from ..tokens import visible

__all__ = ["ClockView", "FrameAck", "SPEEDS"]

# Run speed: ticks per second (None = as fast as the screen draws them).
SPEEDS = [
    ("max speed", 0.0),
    ("10 ticks/s", 10.0),
    ("4 ticks/s", 4.0),
    ("2 ticks/s", 2.0),
    ("1 tick/s", 1.0),
    ("1 tick/2 s", 0.5),
]


# The two charts side by side: 500 + 8 + 560 px fit the notebook column of a 1280 px screen.
DISTRIBUTION_PX, ATTENTION_PX = 500, 560
# Heights: the same in presenter mode, whose larger text then still leaves the pickers under
# the charts on a 1280x720 projector's screen (a browser test measures it).
CHART_HEIGHT_PX = 300
TEXT_BOX_PX = 84  # the text scrolls inside this height, newest token in view


class FrameAck(anywidget.AnyWidget):
    """Invisible: when `frame` changes, the browser answers with that number after its next
    paint (requestAnimationFrame, then a task), so the kernel knows what is on screen."""

    _esm = """
    export default {
      render({ model, el }) {
        el.style.display = "none";
        const answer = () => {
          const frame = model.get("frame");
          requestAnimationFrame(() => setTimeout(() => model.send({ drawn: frame }), 0));
        };
        model.on("change:frame", answer);
        answer();
        return () => model.off("change:frame", answer);
      }
    };
    """
    frame = traitlets.Int(0).tag(sync=True)

    def __init__(self, on_drawn):
        super().__init__()

        def answer(_widget, content, _buffers) -> None:
            on_drawn(int(content.get("drawn", 0)))

        self.on_msg(answer)


def _bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB"


def _button(label: str, css: str, tooltip: str, style: str = "", icon: str = "") -> w.Button:
    button = w.Button(
        description=label,
        tooltip=tooltip,
        button_style=style,
        icon=icon,
        layout=w.Layout(width="auto", min_width="88px"),
    )
    button.add_class(css)
    return button


def _text_width(chars: int, font_px: int, extra: int) -> str:
    """A control wide enough for `chars` characters at font_px (with room for its label)."""
    return f"{int(chars * font_px * 0.62) + extra}px"


class ClockView:
    """Every control and panel of the clock widget; `ui` is the whole thing."""

    def __init__(self, lm, clock, presenter: bool = False, on_drawn=None):
        self.lm = lm
        self.presenter = presenter
        self.shown: int | None = None
        self._labels: dict[int, str] = {}  # token id -> readable text (byte fragments as hex)
        self._draw_lock = threading.RLock()  # the run thread and the main thread both draw
        self.quiet: set[str] = set()  # controls the view itself is moving
        self.control_px = 19 if presenter else 13
        self._build(clock, on_drawn)

    # ------------------------------------------------------------------ building
    def _build(self, clock, on_drawn) -> None:
        px = self.control_px
        cfg = clock.config
        self.step_button = _button(
            "Step",
            "llmclock-step",
            "Run one tick: a forward pass and one chosen token",
            "primary",
            "step-forward",
        )
        self.run_button = _button(
            "Run N", "llmclock-run", "Run N ticks in a row (Pause stops them)", "", "play"
        )
        self.n_input = w.BoundedIntText(
            value=10,
            min=1,
            max=10_000,
            description="N",
            layout=w.Layout(width=_text_width(5, px, 40)),
            style={"description_width": f"{px + 6}px"},
        )
        self.n_input.add_class("llmclock-n")
        self.speed = w.Dropdown(
            options=SPEEDS,
            value=0.0,
            tooltip="Run speed",
            layout=w.Layout(width=_text_width(11, px, 34)),
        )
        self.speed.add_class("llmclock-speed")
        self.pause_button = _button(
            "Pause", "llmclock-pause", "Stop a run after the tick in progress", "warning", "pause"
        )
        self.pause_button.disabled = True
        self.rewind_button = _button(
            "Rewind",
            "llmclock-rewind",
            "Undo the newest tick (replaying gives the same token)",
            "",
            "step-backward",
        )
        self.reset_button = _button(
            "Reset",
            "llmclock-reset",
            "Start again from the prompt in the settings",
            "danger",
            "undo",
        )

        # Settings (folded away): prompt, chat, sampling. A value outside a slider's usual
        # range widens the range, so the slider always shows the value the clock uses.
        wide = {"description_width": "initial"}
        self.prompt_box = w.Textarea(
            value=getattr(clock, "prompt", clock.prompt_text),
            description="Prompt",
            placeholder="Type a prompt, then Reset",
            layout=w.Layout(width="98%", height=f"{2 * px + 34}px"),
        )
        self.prompt_box.add_class("llmclock-prompt")
        self.chat = w.Checkbox(
            value=bool(getattr(clock, "chat", False)),
            description="chat (Instruct template)",
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.chat.add_class("llmclock-chat")
        self.system_prompt = w.Textarea(
            value=getattr(clock, "system_prompt", None) or "",
            description="System prompt",
            placeholder="(empty: the model's default system prompt)",
            style=wide,
            layout=w.Layout(width="60%", height=f"{2 * px + 34}px"),
        )
        self.system_prompt.add_class("llmclock-system-prompt")
        slider = dict(
            continuous_update=False, style=wide, layout=w.Layout(width=_text_width(30, px, 40))
        )
        self.temperature = w.FloatSlider(
            value=cfg.temperature,
            min=0.0,
            max=max(2.0, cfg.temperature),
            step=0.05,
            description="temperature",
            readout_format=".2f",
            **slider,
        )
        self.top_k = w.BoundedIntText(
            value=cfg.top_k or 0,
            min=0,
            max=self.lm.vocab_size,
            description="top-k (0 = off)",
            style=wide,
            layout=w.Layout(width=_text_width(21, px, 30)),
        )
        self.top_p = w.FloatSlider(
            value=cfg.top_p, min=0.0, max=1.0, step=0.01, description="top-p", **slider
        )
        self.min_p = w.FloatSlider(
            value=cfg.min_p, min=0.0, max=1.0, step=0.01, description="min-p", **slider
        )
        self.repetition_penalty = w.FloatSlider(
            value=cfg.repetition_penalty,
            min=min(0.5, cfg.repetition_penalty),
            max=max(2.0, cfg.repetition_penalty),
            step=0.05,
            description="repetition penalty",
            **slider,
        )
        self.seed = w.BoundedIntText(
            value=clock.seed,
            min=0,
            max=max(2**31 - 1, clock.seed),
            description="seed",
            style=wide,
            layout=w.Layout(width=_text_width(16, px, 30)),
        )

        self.status = w.HTML(layout=w.Layout(width="100%", overflow="hidden"))
        self.status.add_class("llmclock-status")
        self.message = w.HTML(layout=w.Layout(width="100%", min_height=f"{px + 10}px"))
        self.message.add_class("llmclock-message")
        self.text = w.HTML(layout=w.Layout(width="99%"))
        self.text.add_class("llmclock-text")

        # The two charts are SVG drawn in Python into HTML widgets: no front-end module to load
        # (a plotly FigureWidget's must load within anywidget's 2 s, which a busy server misses).
        height = f"{CHART_HEIGHT_PX}px"
        self.distribution = w.HTML(layout=w.Layout(width=f"{DISTRIBUTION_PX}px", height=height))
        self.distribution.add_class("llmclock-distribution")
        self.attention = w.HTML(layout=w.Layout(width=f"{ATTENTION_PX}px", height=height))
        self.attention.add_class("llmclock-attention")
        self.layer = w.IntSlider(
            value=self.lm.n_layers // 2,
            min=0,
            max=self.lm.n_layers - 1,
            description="layer",
            continuous_update=False,
            style=wide,
            layout=w.Layout(width=_text_width(16 if self.presenter else 22, px, 40)),
        )
        self.layer.add_class("llmclock-layer")
        self.head = w.Dropdown(
            options=[("mean over heads", -1)] + [(f"head {h}", h) for h in range(self.lm.n_heads)],
            value=-1,
            description="head",
            style=wide,
            layout=w.Layout(width=_text_width(20, px, 50)),
        )
        self.head.add_class("llmclock-head")
        self.force_choice = w.Dropdown(
            options=[],
            description="candidate",
            style=wide,
            layout=w.Layout(width=_text_width(24, px, 90)),
        )
        self.force_choice.add_class("llmclock-force-choice")
        self.force_button = _button(
            "Force",
            "llmclock-force",
            "Rewind to the shown tick and take this candidate instead",
            "",
            "hand-pointer-o",
        )
        self.scrubber = w.IntSlider(
            value=0,
            min=0,
            max=0,
            description="past ticks",
            continuous_update=True,
            style=wide,
            layout=w.Layout(width="98%"),
        )
        self.scrubber.add_class("llmclock-scrubber")
        self.frame_ack = FrameAck(on_drawn or (lambda frame: None))

        for control in (
            self.step_button,
            self.run_button,
            self.pause_button,
            self.rewind_button,
            self.reset_button,
        ):
            control.style.font_size = f"{px + 1}px"
        row = dict(flex_flow="row wrap", align_items="center", width="100%")
        settings = w.VBox(
            [
                self.prompt_box,
                w.HBox([self.chat, self.system_prompt], layout=w.Layout(**row)),
                w.HBox(
                    [
                        self.temperature,
                        self.top_k,
                        self.top_p,
                        self.min_p,
                        self.repetition_penalty,
                        self.seed,
                    ],
                    layout=w.Layout(**row),
                ),
            ]
        )
        self.settings = w.Accordion(
            children=[settings], titles=("Prompt, chat and sampling settings",), selected_index=None
        )
        self.settings.add_class("llmclock-settings")
        panels = w.HBox(
            [
                w.VBox(
                    [
                        self.distribution,
                        w.HBox([self.force_choice, self.force_button], layout=w.Layout(**row)),
                    ],
                    layout=w.Layout(width=f"{DISTRIBUTION_PX}px", margin="0 8px 0 0"),
                ),
                w.VBox(
                    [self.attention, w.HBox([self.layer, self.head], layout=w.Layout(**row))],
                    layout=w.Layout(width=f"{ATTENTION_PX}px"),
                ),
            ],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        panels.add_class("llmclock-panels")
        self.ui = w.VBox(
            [
                w.HBox(
                    [
                        self.step_button,
                        self.run_button,
                        self.n_input,
                        self.speed,
                        self.pause_button,
                        self.rewind_button,
                        self.reset_button,
                    ],
                    layout=w.Layout(**row),
                ),
                self.status,
                self.message,
                self.scrubber,
                self.text,
                panels,
                self.settings,
                self.frame_ack,
            ],
            layout=w.Layout(width="100%"),
        )
        self.ui.add_class("llmclock")
        if self.presenter:
            self.ui.add_class("llmclock-presenter")
            style = w.HTML(_PRESENTER_CSS, layout=w.Layout(height="0px", overflow="hidden"))
            self.ui.children = self.ui.children + (style,)

    def controls_while_running(self) -> list:
        return [
            self.step_button,
            self.run_button,
            self.rewind_button,
            self.reset_button,
            self.force_button,
            self.scrubber,
            self.prompt_box,
            self.n_input,
            self.chat,
            self.system_prompt,
        ]

    def set_running(self, running: bool) -> None:
        for control in self.controls_while_running():
            control.disabled = running
        self.pause_button.disabled = not running

    @contextmanager
    def quietly(self, control: str):
        """Observers of `control` ignore the changes made inside (the view is moving it)."""
        self.quiet.add(control)
        try:
            yield
        finally:
            self.quiet.discard(control)

    # ------------------------------------------------------------------ drawing
    def say(self, text: str, error: bool = False) -> None:
        if not text:
            self.message.value = ""
            return
        colour = CHOSEN_COLOR if error else "#444"
        mark = "⚠ " if error else ""
        self.message.value = (
            f"<div style='color:{colour};font-size:{self.control_px + 2}px;line-height:1.3'>"
            f"{mark}{html.escape(text, quote=False)}</div>"
        )

    def show(
        self, clock, index: int | None, move_scrubber: bool = True, running: bool = False
    ) -> None:
        """Draw tick `index` of clock.history (None: before the first tick)."""
        with self._draw_lock:
            try:
                self._draw(clock, index, move_scrubber, running)
            except Exception as err:  # drawing must never break the clock
                self.say(f"Could not draw tick {index}: {type(err).__name__}: {err}", error=True)

    def send_frame(self, frame: int) -> None:
        """Tell the screen which frame is complete (it answers once it has painted it)."""
        with self._draw_lock:
            self.frame_ack.frame = frame

    def redraw_attention(self, clock) -> None:
        if self.shown is not None:
            with self._draw_lock:
                self._draw_attention(clock, clock.history[self.shown])

    def _draw(self, clock, index: int | None, move_scrubber: bool, running: bool) -> None:
        history = clock.history
        self.shown = index
        if move_scrubber:
            with self.quietly("scrubber"):
                self.scrubber.max = max(0, len(history) - 1)
                self.scrubber.value = index or 0
        self.scrubber.disabled = not history or running
        n_prompt = len(clock.prompt_ids)
        tokens, ids, tokenizer = clock.tokens, clock.ids, self.lm.tokenizer
        text_px = self.control_px + (3 if self.presenter else 2)
        # The text as it was right after the tick shown (before the first tick: the prompt),
        # each generated token carrying the probability it was chosen with.
        end = n_prompt + (0 if index is None else index + 1)
        probs = None
        if index is not None:
            probs = [None] * n_prompt + [r.prob for r in history[: index + 1]]
        self.text.value = _scroll_to_end(
            context_html(tokens[:end], n_prompt, token_ids=ids[:end], probs=probs,
                         font_px=text_px, tokenizer=tokenizer),
            TEXT_BOX_PX,
        )
        if index is None:
            self.status.value = self._status_html(
                f"tick – · not started · the prompt is {n_prompt} tokens · "
                "Step runs the first tick: the prefill"
            )
            self.distribution.value = self._distribution_svg([], [])
            self.attention.value = self._attention_svg(
                _empty_attention(self.lm), [""], self.layer.value, self._head()
            )
            self.force_choice.options = []
            return
        record = history[index]
        self.distribution.value = self._distribution_svg(
            record.top_raw,
            record.top_filtered,
            record.token_id,
            chosen_probs=(record.token_text, record.raw_prob, record.prob),
            tokenizer=tokenizer,
        )
        self._draw_attention(clock, record)
        self.status.value = self._status_html(self._status_text(record, len(history)))
        options = _force_options(record, tokenizer)
        self.force_choice.options = options
        self.force_choice.value = record.token_id

    def _head(self) -> int | None:
        return None if self.head.value < 0 else self.head.value

    def _draw_attention(self, clock, record) -> None:
        tokens = [self._label(i, t) for i, t in zip(clock.ids, clock.tokens)]
        self.attention.value = self._attention_svg(
            record.attention, tokens[: record.context_len], self.layer.value, self._head()
        )

    def _distribution_svg(self, top_raw, top_filtered, chosen_id=None, **chosen) -> str:
        return distribution_svg(
            top_raw,
            top_filtered,
            chosen_id,
            **chosen,
            width=DISTRIBUTION_PX,
            height=CHART_HEIGHT_PX,
            presenter=self.presenter,
        )

    def _attention_svg(self, attention, tokens, layer: int, head: int | None) -> str:
        return attention_svg(attention, tokens, layer, head, ATTENTION_PX, CHART_HEIGHT_PX,
                             presenter=self.presenter)

    def _label(self, token_id: int, text: str) -> str:
        """A token's text for labels; a byte fragment of a character shown as its bytes (cached)."""
        if token_id not in self._labels:
            self._labels[token_id] = readable_token(text, token_id, self.lm.tokenizer)
        return self._labels[token_id]

    def _status_text(self, r, n_ticks: int) -> str:
        chosen = visible(self._label(r.token_id, r.token_text))
        parts = [
            f"tick {r.index}",
            r.phase + (f" in {r.passes} passes" if r.passes > 1 else ""),
            f"chose '{chosen}' {r.prob:.1%} (raw {r.raw_prob:.1%})"
            + (" FORCED" if r.forced else ""),
            f"surprisal {r.surprisal_bits:.2f} bits",
            f"KV {r.kv_cache_len} pos, {_bytes(r.kv_cache_bytes)}",
            f"{r.forward_ms:.0f}+{r.sampling_ms:.0f} ms",
        ]
        if r.index != n_ticks - 1:
            parts.insert(0, f"history {r.index + 1}/{n_ticks}")
        if r.stop_reason:
            parts.append(f"stopped: {r.stop_reason}")
        return " · ".join(parts)

    def _status_html(self, text: str) -> str:
        size = self.control_px + (0 if self.presenter else 1)
        tip = (
            "tick · phase (a prompt longer than one chunk: its number of forward passes) · "
            "chosen token, its probability in the sampled-from distribution "
            "(raw: in the model's) · surprisal = -log2(raw p) · KV cache positions and memory · "
            "ms forward + sampling"
        )
        return (
            f"<div title='{tip}' style='font-size:{size}px;font-weight:600;color:#222;"
            "white-space:nowrap;"
            f"overflow:hidden;text-overflow:ellipsis'>{html.escape(text, quote=False)}</div>"
        )


def _scroll_to_end(page: str, max_height_px: int) -> str:
    """A scroll box that stays at its bottom: column-reverse anchors the scroll position to the
    end, so the newest token stays in view as the text grows (no JavaScript needed)."""
    return (
        f"<div style='max-height:{max_height_px}px;overflow-y:auto;display:flex;"
        f"flex-direction:column-reverse'><div>{page}</div></div>"
    )


def _empty_attention(lm):
    import torch

    return torch.zeros(lm.n_layers, lm.n_heads, 1)


def _force_options(record, tokenizer) -> list[tuple[str, int]]:
    """Dropdown entries: every candidate of this tick by raw probability, and the chosen token
    even when it is outside both top lists (sampled from the tail, or forced)."""
    raw = {c.token_id: c.prob for c in record.top_raw}
    filt = {c.token_id: c.prob for c in record.top_filtered}
    texts = {c.token_id: c.text for c in (*record.top_raw, *record.top_filtered)}
    if record.token_id not in texts:
        texts[record.token_id] = record.token_text
        raw[record.token_id], filt[record.token_id] = record.raw_prob, record.prob
    ids = sorted(texts, key=lambda i: -raw.get(i, 0.0))
    return [
        (
            f"{visible(readable_token(texts[i], i, tokenizer))}  "
            f"{raw.get(i, 0.0):.1%} → {filt.get(i, 0.0):.1%}",
            i,
        )
        for i in ids
    ]


# Presenter mode: every control's text at 19 px (ipywidgets' own rules set 13 px on inputs and
# labels with selectors as specific as these, hence !important).
_PRESENTER_CSS = """<style>
.llmclock-presenter .widget-button, .llmclock-presenter .jupyter-button {
  font-size: 19px !important; height: 40px; }
.llmclock-presenter .widget-label, .llmclock-presenter .widget-readout,
.llmclock-presenter .widget-label-basic, .llmclock-presenter label,
.llmclock-presenter input, .llmclock-presenter select, .llmclock-presenter option,
.llmclock-presenter textarea, .llmclock-presenter .widget-inline-hbox,
.llmclock-presenter .lm-AccordionPanel-title, .llmclock-presenter .jupyter-widget-Collapse-header,
.llmclock-presenter .lm-AccordionPanel-titleLabel { font-size: 19px !important; }
.llmclock-presenter input, .llmclock-presenter select { height: 36px !important; }
.llmclock-presenter .widget-inline-hbox { min-height: 36px; }
</style>"""
