"""The clock widget's panels: builds the controls and draws one tick of a Clock's history.

Laid out for one 1280x720 screen (JupyterLab, left sidebar collapsed, about 590 px of
notebook): a row of buttons, a one-line status, a message line, the scrubber, the text, then
the distribution and the attention side by side; the force and layer/head pickers under them;
prompt, chat and sampling settings fold away in an accordion. The text box has a fixed
height: when the text outgrows it, its middle is left out, so the prompt's start and the
newest token stay in view and nothing below it moves.

Presenter mode (the Presenter button, or helpers.plots.set_presenter_mode() before the widget is
made: one switch for every figure and widget): every text 14 px or larger, and still one
1280x720 screen with a line of code above the widget.

The view knows nothing about running: `show(clock, index)` draws tick `index` of the clock's
history (None: before the first tick), and `FrameAck` tells the run loop which frame the
browser has drawn (see clock_state.py). What a tick says (status line, percentages, sizes,
candidate labels) comes from helpers.tick_view, as the recorded clock's and the tick table's.
"""

from __future__ import annotations

import html
import threading
from contextlib import contextmanager

import anywidget
import ipywidgets as w
import traitlets

from ..attention import content_head
from ..i18n import messages
from ..plots.style import CHOSEN_COLOR, presenter_mode, set_presenter_mode
from ..plots.context import context_html
from ..plots.svg import attention_svg, distribution_svg
from ..tick_view import choice_label, pending_bytes, readable_token, tick_view

__all__ = ["ClockView", "FrameAck", "SPEEDS"]

# Run speed: ticks per second (0 = as fast as the screen draws them).
SPEEDS = [0.0, 10.0, 4.0, 2.0, 1.0, 0.5]


def _speed_options(t) -> list[tuple[str, float]]:
    def name(speed: float) -> str:
        if speed == 0.0:
            return t("speed.max")
        if speed == 1.0:
            return t("speed.one_per_second")
        if speed == 0.5:
            return t("speed.one_per_two_seconds")
        return t("speed.per_second", n=f"{speed:g}")

    return [(name(speed), speed) for speed in SPEEDS]


# The two charts side by side: 500 + 8 + 560 px fit the notebook column of a 1280 px screen
# (`width=` gives them more room, e.g. in the demo app).
DISTRIBUTION_PX, ATTENTION_PX = 500, 560
# Heights: a little lower in presenter mode, whose larger text then still leaves the pickers
# under the charts on a 1280x720 projector's screen with a line of code above (a browser test
# measures it).
CHART_HEIGHT_PX = {False: 286, True: 236}
# The text box: lines of text under its one-line legend (fixed: the layout never jumps).
TEXT_LINES = {False: 3, True: 2}
LINE_HEIGHT = 1.75  # as context_html draws it



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

    def __init__(self, lm, clock, on_drawn=None, width: int | None = None, lang: str = "en"):
        self.lm = lm
        self.lang = lang
        self.t = messages(lang)  # every word on screen comes from the catalogue
        self.presenter = presenter_mode()
        self.shown: int | None = None
        self._labels: dict[int, str] = {}  # token id -> readable text (byte fragments as hex)
        self._draw_lock = threading.RLock()  # the run thread and the main thread both draw
        self.quiet: set[str] = set()  # controls the view itself is moving
        total = max(int(width or 0), DISTRIBUTION_PX + 8 + ATTENTION_PX)
        extra = total - (DISTRIBUTION_PX + 8 + ATTENTION_PX)
        self.chart_px = (DISTRIBUTION_PX + extra // 2, ATTENTION_PX + extra - extra // 2)
        self._build(clock, on_drawn)
        self.apply_size()

    @property
    def control_px(self) -> int:
        return 19 if self.presenter else 13

    @property
    def chart_height(self) -> int:
        return CHART_HEIGHT_PX[self.presenter]

    # ------------------------------------------------------------------ building
    def _build(self, clock, on_drawn) -> None:
        cfg, t = clock.config, self.t
        self.step_button = _button(
            t("button.step"), "llmclock-step", t("tip.step"), "primary", "step-forward"
        )
        self.run_button = _button(t("button.run"), "llmclock-run", t("tip.run"), "", "play")
        self.n_input = w.BoundedIntText(
            value=10,
            min=1,
            max=10_000,
            description=t("label.n"),
        )
        self.n_input.add_class("llmclock-n")
        self.speed = w.Dropdown(
            options=_speed_options(t),
            value=0.0,
            tooltip=t("tip.speed"),
        )
        self.speed.add_class("llmclock-speed")
        self.pause_button = _button(
            t("button.pause"), "llmclock-pause", t("tip.pause"), "warning", "pause"
        )
        self.pause_button.disabled = True
        self.rewind_button = _button(
            t("button.rewind"), "llmclock-rewind", t("tip.rewind"), "", "step-backward"
        )
        self.reset_button = _button(
            t("button.reset"), "llmclock-reset", t("tip.reset"), "danger", "undo"
        )

        # Settings (folded away): prompt, chat, sampling. A value outside a slider's usual
        # range widens the range, so the slider always shows the value the clock uses.
        wide = {"description_width": "initial"}
        self.prompt_box = w.Textarea(
            value=getattr(clock, "prompt", clock.prompt_text),
            description=t("label.prompt"),
            placeholder=t("placeholder.prompt"),
            layout=w.Layout(width="98%"),
        )
        self.prompt_box.add_class("llmclock-prompt")
        self.chat = w.Checkbox(
            value=bool(getattr(clock, "chat", False)),
            description=t("label.chat"),
            indent=False,
            layout=w.Layout(width="auto"),
        )
        self.chat.add_class("llmclock-chat")
        self.system_prompt = w.Textarea(
            value=getattr(clock, "system_prompt", None) or "",
            description=t("label.system_prompt"),
            placeholder=t("placeholder.system_prompt"),
            style=wide,
            layout=w.Layout(width="60%"),
        )
        self.system_prompt.add_class("llmclock-system-prompt")
        slider = dict(continuous_update=False, style=wide)
        self.temperature = w.FloatSlider(
            value=cfg.temperature,
            min=0.0,
            max=max(2.0, cfg.temperature),
            step=0.05,
            description=t("label.temperature"),
            readout_format=".2f",
            **slider,
        )
        self.top_k = w.BoundedIntText(
            value=cfg.top_k or 0,
            min=0,
            max=self.lm.vocab_size,
            description=t("label.top_k"),
            style=wide,
        )
        self.top_p = w.FloatSlider(
            value=cfg.top_p, min=0.0, max=1.0, step=0.01, description=t("label.top_p"), **slider
        )
        self.min_p = w.FloatSlider(
            value=cfg.min_p, min=0.0, max=1.0, step=0.01, description=t("label.min_p"), **slider
        )
        self.repetition_penalty = w.FloatSlider(
            value=cfg.repetition_penalty,
            min=min(0.5, cfg.repetition_penalty),
            max=max(2.0, cfg.repetition_penalty),
            step=0.05,
            description=t("label.repetition_penalty"),
            **slider,
        )
        self.seed = w.BoundedIntText(
            value=clock.seed,
            min=0,
            max=max(2**31 - 1, clock.seed),
            description=t("label.seed"),
            style=wide,
        )

        self.status = w.HTML(layout=w.Layout(width="100%", overflow="hidden"))
        self.status.add_class("llmclock-status")
        self.message = w.HTML(layout=w.Layout(width="100%", overflow="hidden"))
        self.message.add_class("llmclock-message")
        # One line, shown only when this front end never loaded the frame-acknowledge widget.
        self.pacing_note = w.HTML(t("msg.no_pacing"), layout=w.Layout(display="none"))
        self.pacing_note.add_class("llmclock-pacing-note")
        self.text = w.HTML(layout=w.Layout(width="99%", overflow="hidden"))
        self.text.add_class("llmclock-text")

        # The two charts are SVG drawn in Python into HTML widgets: no front-end module to load
        # (a plotly FigureWidget's must load within anywidget's 2 s, which a busy server misses).
        self.distribution = w.HTML(layout=w.Layout(width=f"{self.chart_px[0]}px"))
        self.distribution.add_class("llmclock-distribution")
        self.attention = w.HTML(layout=w.Layout(width=f"{self.chart_px[1]}px"))
        self.attention.add_class("llmclock-attention")
        # Default view: a head that reads content (measured once per model), not the mean of
        # a middle layer, which is one tall bar on the first token at every tick.
        layer, head = content_head(self.lm)
        self.layer = w.IntSlider(
            value=layer,
            min=0,
            max=self.lm.n_layers - 1,
            description=t("label.layer"),
            continuous_update=False,
            style=wide,
        )
        self.layer.add_class("llmclock-layer")
        self.head = w.Dropdown(
            options=[(t("head.all"), -1)]
            + [(t("head.one", head=h), h) for h in range(self.lm.n_heads)],
            value=head,
            description=t("label.head"),
            style=wide,
        )
        self.head.add_class("llmclock-head")
        self.hide_first = w.Checkbox(
            value=False, description=t("label.hide_first"), indent=False,
            tooltip=t("tip.sink"), layout=w.Layout(width="auto"),
        )
        self.hide_first.add_class("llmclock-hide-first")
        self.force_choice = w.Dropdown(
            options=[],
            description=t("label.candidate"),
            style=wide,
        )
        self.force_choice.add_class("llmclock-force-choice")
        self.force_button = _button(
            t("button.force"), "llmclock-force", t("tip.force"), "", "hand-pointer-o"
        )
        self.scrubber = w.IntSlider(
            value=0,
            min=0,
            max=0,
            description=t("label.scrubber"),
            continuous_update=True,
            style=wide,
            layout=w.Layout(width="98%"),
        )
        self.scrubber.add_class("llmclock-scrubber")
        self.frame_ack = FrameAck(on_drawn or (lambda frame: None))
        # In a zero-height box: a front end that cannot load it shows no error box.
        self._frame_ack_box = w.Box(
            [self.frame_ack], layout=w.Layout(height="0px", overflow="hidden")
        )
        self._frame_ack_box.add_class("llmclock-frame-ack")
        self.presenter_button = w.ToggleButton(
            value=self.presenter,
            description=t("button.presenter"),
            icon="television",
            tooltip=t("tip.presenter"),
            layout=w.Layout(width="auto"),
        )
        self.presenter_button.add_class("llmclock-presenter-toggle")
        self._style = w.HTML(_PRESENTER_CSS, layout=w.Layout(height="0px", overflow="hidden"))

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
            children=[settings], titles=(t("title.settings"),), selected_index=None
        )
        self.settings.add_class("llmclock-settings")
        panels = w.HBox(
            [
                w.VBox(
                    [
                        self.distribution,
                        w.HBox([self.force_choice, self.force_button], layout=w.Layout(**row)),
                    ],
                    layout=w.Layout(width=f"{self.chart_px[0]}px", margin="0 8px 0 0"),
                ),
                w.VBox(
                    [
                        self.attention,
                        w.HBox([self.layer, self.head, self.hide_first], layout=w.Layout(**row)),
                    ],
                    layout=w.Layout(width=f"{self.chart_px[1]}px"),
                ),
            ],
            layout=w.Layout(flex_flow="row wrap", width="100%"),
        )
        panels.add_class("llmclock-panels")
        controls = w.HBox(
            [
                self.step_button,
                self.run_button,
                self.n_input,
                self.speed,
                self.pause_button,
                self.rewind_button,
                self.reset_button,
                self.presenter_button,
            ],
            layout=w.Layout(**row),
        )
        controls.add_class("llmclock-controls")  # sticky: opening the settings keeps Step in view
        self.ui = w.VBox(
            [
                controls,
                self.status,
                self.message,
                self.scrubber,
                self.text,
                panels,
                self.settings,
                self.pacing_note,
                self._frame_ack_box,
                self._style,
            ],
            layout=w.Layout(width="100%"),
        )
        self.ui.add_class("llmclock")

    def apply_size(self) -> None:
        """Size every control for the current mode (normal or presenter)."""
        px, on = self.control_px, self.presenter
        if on:
            self.ui.add_class("llmclock-presenter")
        else:
            self.ui.remove_class("llmclock-presenter")
        with self.quietly("presenter"):
            self.presenter_button.value = on
        self.presenter_button.button_style = "info" if on else ""
        for control in (
            self.step_button,
            self.run_button,
            self.pause_button,
            self.rewind_button,
            self.reset_button,
            self.presenter_button,
        ):
            control.style.font_size = f"{px + 1}px"
        self.n_input.layout.width = _text_width(6, px, 40)
        self.n_input.style.description_width = f"{px + 6}px"
        self.speed.layout.width = _text_width(11, px, 34)
        for box in (self.prompt_box, self.system_prompt):
            box.layout.height = f"{2 * px + 34}px"
        for slider in (self.temperature, self.top_p, self.min_p, self.repetition_penalty):
            slider.layout.width = _text_width(30, px, 40)
        self.top_k.layout.width = _text_width(21, px, 30)
        self.seed.layout.width = _text_width(16, px, 30)
        self.layer.layout.width = _text_width(13 if on else 22, px, 40)
        self.head.layout.width = _text_width(9 if on else 16, px, 50)
        self.force_choice.layout.width = _text_width(20 if on else 24, px, 90)
        self.message.layout.height = f"{int((px + 1) * 1.3) + 4}px"  # one line: no jump
        for chart in (self.distribution, self.attention):
            chart.layout.height = f"{self.chart_height}px"
        self.text.layout.height = f"{self.text_box_px + 4}px"

    @property
    def text_px(self) -> int:
        return self.control_px + (1 if self.presenter else 2)

    @property
    def text_box_px(self) -> int:
        """The text box's height: its legend line and TEXT_LINES lines of text."""
        legend_px = max(self.text_px - 4, 13)
        lines = TEXT_LINES[self.presenter] * self.text_px * LINE_HEIGHT
        return int(legend_px * 1.5 + 2 + lines) + 4

    def set_presenter(self, on: bool, clock) -> None:
        """Switch presenter mode (the one switch: every figure drawn after follows it) and
        redraw this widget in its sizes."""
        set_presenter_mode(on)
        with self._draw_lock:
            self.presenter = bool(on)
            self.apply_size()
            self._draw(clock, self.shown, True, False)

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
            f"<div style='color:{colour};font-size:{self.control_px + 1}px;line-height:1.3;"
            f"white-space:nowrap;overflow:hidden;text-overflow:ellipsis' "
            f"title='{html.escape(text, quote=True)}'>"
            f"{mark}{html.escape(text, quote=False)}</div>"
        )

    def show(
        self, clock, index: int | None, move_scrubber: bool = True, running: bool = False
    ) -> None:
        """Draw tick `index` of clock.history (None: before the first tick)."""
        with self._draw_lock:
            try:
                if self.presenter != presenter_mode():  # the switch was flipped elsewhere
                    self.presenter = presenter_mode()
                    self.apply_size()
                self._draw(clock, index, move_scrubber, running)
            except Exception as err:  # drawing must never break the clock
                error = f"{type(err).__name__}: {err}"
                self.say(self.t("msg.draw_failed", index=index, error=error), error=True)

    def send_frame(self, frame: int) -> None:
        """Tell the screen which frame is complete (it answers once it has painted it)."""
        with self._draw_lock:
            self.frame_ack.frame = frame

    def redraw_attention(self, clock) -> None:
        if self.shown is not None:
            with self._draw_lock:
                self._draw_attention(clock, clock.history[self.shown])

    def _text_fit(self) -> tuple[int, int]:
        """(lines, characters per line) of the text box: for context_html's `fit`."""
        width = sum(self.chart_px) + 8
        chars = int(width / (self.text_px * 0.62) * 0.85)  # monospace, token frames, wrapping
        return TEXT_LINES[self.presenter], chars

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
        # The text as it was right after the tick shown (before the first tick: the prompt),
        # each generated token carrying the probability it was chosen with; the token read at
        # that tick framed, forced tokens underlined.
        end = n_prompt + (0 if index is None else index + 1)
        probs, reading, forced = None, None, []
        if index is not None:
            probs = [None] * n_prompt + [r.prob for r in history[: index + 1]]
            reading = history[index].context_len - 1
            forced = [n_prompt + r.index for r in history[: index + 1] if r.forced]
        self.text.value = _scroll_to_end(
            context_html(tokens[:end], n_prompt, token_ids=ids[:end], probs=probs,
                         font_px=self.text_px, tokenizer=tokenizer, reading=reading,
                         forced=forced, fit=self._text_fit(), lang=self.lang),
            self.text_box_px,
        )
        if index is None:
            self.status.value = self._status_html(self.t("status.not_started", n=n_prompt))
            self.distribution.value = self._distribution_svg([], [])
            self.attention.value = self._attention_svg(None, [], None)
            self.force_choice.options = []
            return
        record = history[index]
        view = tick_view(record, tokenizer, self.lang, context_ids=ids)
        self.distribution.value = self._distribution_svg(
            record.top_raw,
            record.top_filtered,
            record.token_id,
            chosen_probs=(record.token_text, record.raw_prob, record.prob),
            tokenizer=tokenizer,
            pending=pending_bytes(tokenizer, ids[: record.context_len]),
            forced=record.forced,
        )
        self._draw_attention(clock, record)
        newest = index == len(history) - 1
        self.status.value = self._status_html(view.status_line(
            short=self.presenter, history=None if newest else (index + 1, len(history))))
        self.force_choice.options = [(choice_label(r), r.token_id) for r in view.candidates]
        self.force_choice.value = record.token_id

    def _head(self) -> int | None:
        return None if self.head.value < 0 else self.head.value

    def _draw_attention(self, clock, record) -> None:
        if not record.has_attention:  # dropped by the history's memory bound
            self.attention.value = (f"<div style='padding:12px;max-width:{ATTENTION_PX}px'>"
                                    f"{html.escape(clock.attention_note(record))}</div>")
            return
        tokens = [self._label(i, t) for i, t in zip(clock.ids, clock.tokens)]
        context = tokens[: record.context_len]
        self.attention.value = self._attention_svg(record.attention, context, context[-1])

    def _distribution_svg(self, top_raw, top_filtered, chosen_id=None, **chosen) -> str:
        return distribution_svg(
            top_raw,
            top_filtered,
            chosen_id,
            **chosen,
            width=self.chart_px[0],
            height=self.chart_height,
            lang=self.lang,
        )

    def _attention_svg(self, attention, tokens, reading: str | None) -> str:
        return attention_svg(attention, tokens, self.layer.value, self._head(), self.chart_px[1],
                             self.chart_height, reading=reading,
                             hide_first=bool(self.hide_first.value), lang=self.lang)

    def _label(self, token_id: int, text: str) -> str:
        """A token's text for labels; a byte fragment of a character shown as its bytes (cached)."""
        if token_id not in self._labels:
            self._labels[token_id] = readable_token(text, token_id, self.lm.tokenizer)
        return self._labels[token_id]

    def _status_html(self, text: str) -> str:
        size = self.control_px + (0 if self.presenter else 1)
        tip = html.escape(self.t("status.tip"), quote=True)
        return (
            f"<div title='{tip}' style='font-size:{size}px;font-weight:600;color:#222;"
            "white-space:nowrap;"
            f"overflow:hidden;text-overflow:ellipsis'>{html.escape(text, quote=False)}</div>"
        )


def _scroll_to_end(page: str, max_height_px: int) -> str:
    """The text box's content: if the text is still too long for the box (its middle is
    already left out, see context_html's fit), column-reverse anchors the scroll position to
    the end, so the newest token stays in view (no JavaScript needed)."""
    return (
        f"<div style='max-height:{max_height_px}px;overflow-y:auto;display:flex;"
        f"flex-direction:column-reverse'><div>{page}</div></div>"
    )


# Presenter mode: every control's text at 19 px (ipywidgets' own rules set 13 px on inputs and
# labels with selectors as specific as these, hence !important).
_PRESENTER_CSS = """<style>
.llmclock-controls { position: sticky; top: 0; z-index: 3;
  background: var(--jp-layout-color0, #fff); }
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
