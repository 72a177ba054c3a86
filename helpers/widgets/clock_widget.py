"""The clock widget: step a language model one tick at a time and watch every part of the tick.

    ClockWidget(lm, "The capital of France is", temperature=0.8)

Controls: Step (one tick), Run N / Pause (ticks keep coming in a background thread and stop
at the next tick boundary when Pause is clicked), Rewind, Reset, the sampling settings (they
apply from the next tick), Force (rewind to the shown tick and take another candidate
instead), and a scrubber over past ticks that re-shows their panels from history.

Panels (updated in place every tick): the text so far, the next-token distribution raw vs
filtered, the newest position's attention over the context for one layer and head, and a
status line (tick, phase, KV cache, time).

Threading: one `threading.Lock` lets only one tick (or rewind/reset) run at a time; handlers
never wait for it, they report "busy" instead, so the kernel never freezes on a click. A
second lock serialises the drawing, which the run thread and the main thread both do.
"""

from __future__ import annotations

import html
import threading
from contextlib import contextmanager
from typing import Callable

import ipywidgets as w

from ..clock import Clock
from ..plots.distribution import distribution_figure, update_distribution_figure
from ..plots.style import CHOSEN_COLOR, font_size, presenter_mode, set_presenter_mode
from ..plots.text import (
    attention_over_context_figure, context_html, readable_token, update_attention_over_context_figure,
)
from ..sampling import SETTING_NAMES, SamplingConfig, check_setting_names
from ..tokens import visible

__all__ = ["ClockWidget"]

DEFAULT_PROMPT = "The capital of France is"


@contextmanager
def _presenter(on: bool):
    """Presenter mode for the figures this widget builds, without changing the caller's setting."""
    before = presenter_mode()
    set_presenter_mode(on or before)
    try:
        yield
    finally:
        set_presenter_mode(before)


def _bytes(n: int) -> str:
    return f"{n / 2**20:.2f} MB" if n >= 2**20 else f"{n / 2**10:.1f} KB"


class ClockWidget:
    """An ipywidgets UI around `helpers.clock.Clock`; display it, or use `.ui`.

    sampling: temperature, top_k, top_p, min_p, repetition_penalty (see SamplingConfig).
    clock: drive an existing Clock instead of making one (prompt, seed, chat and sampling are then ignored).
    """

    def __init__(self, lm, prompt: str = DEFAULT_PROMPT, presenter: bool = False, seed: int = 0,
                 chat: bool = False, clock=None, **sampling):
        check_setting_names(sampling)
        self.lm = lm
        self.presenter = presenter
        self.clock = clock if clock is not None else Clock(lm, prompt, config=SamplingConfig(**sampling), seed=seed, chat=chat)
        self._tick_lock = threading.Lock()     # one tick / rewind / reset at a time
        self._draw_lock = threading.RLock()    # one drawing at a time (run thread + main thread)
        self._stop = threading.Event()         # Pause
        self._thread: threading.Thread | None = None
        # Controls the widget itself is moving (their observers must not react). One name per
        # control, so the run thread moving the scrubber never hides a user's settings change.
        self._quiet: set[str] = set()
        self.shown: int | None = None          # index of the tick on display (None: no tick yet)
        self.last_error: str | None = None
        self._labels: dict[int, str] = {}      # token id -> readable text (byte fragments as hex)
        with _presenter(presenter):
            self._build()
        self._show(self._newest())

    # ------------------------------------------------------------------ building the UI
    def _button(self, label: str, css: str, tooltip: str, style: str = "", icon: str = "") -> w.Button:
        button = w.Button(description=label, tooltip=tooltip, button_style=style, icon=icon,
                          layout=w.Layout(width="auto", min_width="92px"))
        button.add_class(css)
        return button

    def _build(self) -> None:
        cfg = self.clock.config
        # The prompt as typed (with chat=True, prompt_text is the chat-template-wrapped version).
        self.prompt_box = w.Textarea(value=getattr(self.clock, "prompt", self.clock.prompt_text), description="Prompt",
                                     placeholder="Type a prompt, then Reset",
                                     layout=w.Layout(width="98%", height="64px"))
        self.prompt_box.add_class("llmclock-prompt")
        self.step_button = self._button("Step", "llmclock-step", "Run one tick: a forward pass and one chosen token",
                                        "primary", "step-forward")
        self.run_button = self._button("Run N", "llmclock-run", "Run N ticks in a row (Pause stops them)", "", "play")
        self.n_input = w.BoundedIntText(value=10, min=1, max=1000, description="N",
                                        layout=w.Layout(width="130px"), style={"description_width": "20px"})
        self.n_input.add_class("llmclock-n")
        self.pause_button = self._button("Pause", "llmclock-pause", "Stop a run after the current tick", "warning", "pause")
        self.pause_button.disabled = True
        self.rewind_button = self._button("Rewind", "llmclock-rewind", "Undo the newest tick (replaying gives the same token)",
                                          "", "step-backward")
        self.reset_button = self._button("Reset", "llmclock-reset", "Start again from the prompt in the box", "danger", "undo")

        slider = dict(continuous_update=False, style={"description_width": "initial"}, layout=w.Layout(width="310px"))
        self.temperature = w.FloatSlider(value=cfg.temperature, min=0.0, max=2.0, step=0.05, description="temperature",
                                         readout_format=".2f", **slider)
        self.top_k = w.BoundedIntText(value=cfg.top_k or 0, min=0, max=self.lm.vocab_size, description="top-k (0 = off)",
                                      style={"description_width": "initial"}, layout=w.Layout(width="190px"))
        self.top_p = w.FloatSlider(value=cfg.top_p, min=0.0, max=1.0, step=0.01, description="top-p", **slider)
        self.min_p = w.FloatSlider(value=cfg.min_p, min=0.0, max=1.0, step=0.01, description="min-p", **slider)
        self.repetition_penalty = w.FloatSlider(value=cfg.repetition_penalty, min=0.5, max=2.0, step=0.05,
                                                description="repetition penalty", **slider)
        self.seed = w.BoundedIntText(value=self.clock.seed, min=0, max=2**31 - 1, description="seed",
                                     style={"description_width": "initial"}, layout=w.Layout(width="170px"))
        for name in SETTING_NAMES + ("seed",):
            control = getattr(self, name)
            control.add_class(f"llmclock-{name.replace('_', '-')}")
            control.observe(self._on_setting, names="value")

        self.status = w.HTML()
        self.status.add_class("llmclock-status")
        self.message = w.HTML()
        self.message.add_class("llmclock-message")
        self.text = w.HTML(layout=w.Layout(width="98%"))
        self.text.add_class("llmclock-text")

        self.distribution = distribution_figure([], [], title="Next-token distribution at this tick", widget=True)
        self.attention = attention_over_context_figure(_empty_attention(self.lm), [""], layer=0, widget=True)
        self.layer = w.IntSlider(value=self.lm.n_layers // 2, min=0, max=self.lm.n_layers - 1, description="layer",
                                 continuous_update=False, style={"description_width": "initial"})
        self.layer.add_class("llmclock-layer")
        self.head = w.Dropdown(options=[("mean over heads", -1)] + [(f"head {h}", h) for h in range(self.lm.n_heads)],
                               value=-1, description="head", layout=w.Layout(width="250px"))
        self.head.add_class("llmclock-head")
        self.layer.observe(self._on_attention_choice, names="value")
        self.head.observe(self._on_attention_choice, names="value")

        self.force_choice = w.Dropdown(options=[], description="candidate", style={"description_width": "initial"},
                                       layout=w.Layout(width="340px"))
        self.force_choice.add_class("llmclock-force-choice")
        self.force_button = self._button("Force", "llmclock-force",
                                         "Rewind to the shown tick and take this candidate instead of the sampled token",
                                         "", "hand-pointer-o")
        self.scrubber = w.IntSlider(value=0, min=0, max=0, description="past ticks", continuous_update=True,
                                    style={"description_width": "initial"}, layout=w.Layout(width="98%"))
        self.scrubber.add_class("llmclock-scrubber")
        self.scrubber.observe(self._on_scrub, names="value")

        self.step_button.on_click(lambda _: self.step())
        self.run_button.on_click(lambda _: self.run())
        self.pause_button.on_click(lambda _: self.pause())
        self.rewind_button.on_click(lambda _: self.rewind())
        self.reset_button.on_click(lambda _: self.reset())
        self.force_button.on_click(lambda _: self.force())

        # Fixed figure widths: two panels side by side on a 1200 px screen, stacked when narrower.
        self.distribution.layout.width = 520 + (40 if self.presenter else 0)
        self.attention.layout.width = 580 + (20 if self.presenter else 0)
        half = w.Layout(width="auto", margin="0 12px 0 0")
        self.ui = w.VBox([
            self.prompt_box,
            w.HBox([self.step_button, self.run_button, self.n_input, self.pause_button, self.rewind_button,
                    self.reset_button], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.temperature, self.top_k, self.top_p, self.min_p, self.repetition_penalty, self.seed],
                   layout=w.Layout(flex_flow="row wrap")),
            self.status, self.message, self.scrubber, self.text,
            w.HBox([w.VBox([self.distribution, w.HBox([self.force_choice, self.force_button])], layout=half),
                    w.VBox([self.attention, w.HBox([self.layer, self.head])], layout=half)],
                   layout=w.Layout(flex_flow="row wrap", width="100%")),
        ], layout=w.Layout(width="100%"))
        self.ui.add_class("llmclock")
        if self.presenter:
            self.ui.add_class("llmclock-presenter")
            self.ui.children = (w.HTML(_PRESENTER_CSS),) + self.ui.children

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)  # shown where widgets cannot render (e.g. a plain console)
        return bundle

    def __repr__(self) -> str:
        return f"ClockWidget({self.clock!r})"

    # ------------------------------------------------------------------ actions
    def step(self) -> bool:
        """One tick. Returns False (with a message) when it could not run."""
        if not self._tick_lock.acquire(blocking=False):
            self._say("Busy: a run is in progress. Click Pause first.", error=True)
            return False
        try:
            return self._tick_and_show()
        finally:
            self._tick_lock.release()

    def run(self, n: int | None = None, background: bool = True) -> bool:
        """Run n ticks (default: the N box). In the background the kernel stays free for Pause."""
        n = self.n_input.value if n is None else int(n)
        if n < 1:
            self._say(f"N must be at least 1, got {n}.", error=True)
            return False
        if not self._tick_lock.acquire(blocking=False):
            self._say("Busy: a run is in progress. Click Pause first.", error=True)
            return False
        if self.clock.done:
            self._tick_lock.release()
            self._say(self._stopped_text(), error=True)
            return False
        self._stop.clear()
        self._set_running(True)
        if background:
            self._thread = threading.Thread(target=self._run_loop, args=(n,), name="llmclock-run", daemon=True)
            self._thread.start()
        else:
            self._run_loop(n)
        return True

    def pause(self) -> None:
        """Stop a run after the tick in progress."""
        if self._thread is None or not self._thread.is_alive():
            self._say("Nothing is running: Pause stops a Run N.")
            return
        self._stop.set()
        self._say("Pausing after this tick…")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a background run has finished (for scripts and tests). True if it has."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def rewind(self, n: int = 1) -> bool:
        if not self.clock.history:
            self._say("Nothing to rewind: no tick has run yet. Step runs the first tick.", error=True)
            return False
        return self._locked(lambda: self.clock.rewind(n), f"Rewound {n} tick{'s' * (n != 1)}.")

    def reset(self) -> bool:
        return self._locked(lambda: self.clock.reset(self.prompt_box.value), "Reset: the clock starts again from the prompt.")

    def force(self, token_id: int | None = None) -> bool:
        """Rewind to the shown tick and re-run it with `token_id` (default: the dropdown's choice)."""
        token_id = self.force_choice.value if token_id is None else token_id
        if self.shown is None or token_id is None:
            self._say("Nothing to force yet: Step first, then pick a candidate from that tick's distribution.", error=True)
            return False
        shown = self.shown

        def replace() -> None:
            token = self.clock.token_id_of(int(token_id))  # validate before anything is undone
            self.clock.rewind(len(self.clock.history) - shown)
            self.clock.force(token)
            self.clock.tick()

        text = visible(self.lm.decode([int(token_id)]))
        return self._locked(replace, f"Tick {shown} re-run with '{text}' forced; the ticks after it were discarded.")

    def close(self) -> None:
        """Stop a run and close every widget of the UI (figures included)."""
        self._stop.set()
        self.wait(5)

        def close_tree(widget) -> None:
            for child in getattr(widget, "children", ()):
                close_tree(child)
            widget.close()

        close_tree(self.ui)

    # ------------------------------------------------------------------ internals
    def _locked(self, action: Callable[[], object], done_message: str) -> bool:
        if not self._tick_lock.acquire(blocking=False):
            self._say("Busy: a run is in progress. Click Pause first.", error=True)
            return False
        try:
            action()
        except ValueError as err:  # ClockError and friends: the message names the fix
            self._say(str(err), error=True)
            self._show(self._newest())
            return False
        except Exception as err:  # a bug or a model failure: report it, stay usable
            self._say(f"{type(err).__name__}: {err}", error=True)
            self._show(self._newest())
            return False
        finally:
            self._tick_lock.release()
        self._show(self._newest())
        self._say(done_message)
        return True

    def _tick_and_show(self) -> bool:
        """Caller holds the tick lock."""
        if self.clock.done:
            self._say(self._stopped_text(), error=True)
            return False
        try:
            self.clock.tick()
        except ValueError as err:
            self._say(str(err), error=True)
            return False
        except Exception as err:
            self._say(f"The tick failed: {type(err).__name__}: {err}. The clock is unchanged; try again or Reset.",
                      error=True)
            self._show(self._newest())
            return False
        self._show(self._newest())
        self._say(self._stopped_text() if self.clock.done else "")
        return True

    def _run_loop(self, n: int) -> None:
        done = 0
        try:
            for _ in range(n):
                if self._stop.is_set() or self.clock.done or not self._tick_and_show():
                    break
                done += 1
        finally:
            self._tick_lock.release()
            self._set_running(False)
            self.scrubber.disabled = not self.clock.history
        if self._stop.is_set():
            self._say(f"Paused after {done} tick{'s' * (done != 1)}.")
        elif done == n:
            self._say(f"Ran {n} tick{'s' * (n != 1)}.")
        self._stop.clear()

    def _set_running(self, running: bool) -> None:
        for control in (self.step_button, self.run_button, self.rewind_button, self.reset_button,
                        self.force_button, self.scrubber, self.prompt_box, self.n_input):
            control.disabled = running
        self.pause_button.disabled = not running

    def _newest(self) -> int | None:
        return len(self.clock.history) - 1 if self.clock.history else None

    def _stopped_text(self) -> str:
        return (f"Generation has stopped ({self.clock.stop_reason}). Rewind to go back, or Reset to start again.")

    def _say(self, text: str, error: bool = False) -> None:
        self.last_error = text if error else None
        if not text:
            self.message.value = ""
            return
        colour = CHOSEN_COLOR if error else "#444"
        mark = "⚠ " if error else ""
        self.message.value = (f"<div style='color:{colour};font-size:{font_size('body') + (6 if self.presenter else 0)}px'>"
                              f"{mark}{html.escape(text, quote=False)}</div>")

    def _on_setting(self, change) -> None:
        if "settings" in self._quiet:
            return
        if change["owner"] is self.seed:
            self._apply_seed(change["new"])
            return
        values = {name: getattr(self, name).value for name in SETTING_NAMES}
        try:
            self.clock.config = SamplingConfig(**values)
        except ValueError as err:
            self._say(f"{err} Keeping the previous settings.", error=True)
            with self._quietly("settings"):  # put the control back to the setting still in force
                change["owner"].value = change["old"]
            return
        self._say("New sampling settings: they apply from the next tick.")

    def _apply_seed(self, seed: int) -> None:
        self.clock.seed = int(seed)
        self._say(f"Seed {seed}: it applies from the next Reset (Rewind keeps the draws of the old seed).")

    @contextmanager
    def _quietly(self, control: str):
        self._quiet.add(control)
        try:
            yield
        finally:
            self._quiet.discard(control)

    def _on_scrub(self, change) -> None:
        if "scrubber" not in self._quiet and self.clock.history:
            self._show(min(int(change["new"]), len(self.clock.history) - 1), move_scrubber=False)

    def _on_attention_choice(self, _change) -> None:
        if self.shown is not None:
            with self._draw_lock:
                self._draw_attention(self.clock.history[self.shown])

    # ------------------------------------------------------------------ drawing
    def _show(self, index: int | None, move_scrubber: bool = True) -> None:
        """Draw the panels of tick `index` (None: nothing has run yet)."""
        with self._draw_lock:
            try:
                self._draw(index, move_scrubber)
            except Exception as err:  # drawing must never break the clock
                self._say(f"Could not draw tick {index}: {type(err).__name__}: {err}", error=True)

    def _draw(self, index: int | None, move_scrubber: bool) -> None:
        history = self.clock.history
        self.shown = index
        if move_scrubber:
            with self._quietly("scrubber"):
                self.scrubber.max = max(0, len(history) - 1)
                self.scrubber.value = index or 0
        self.scrubber.disabled = not history or (self._thread is not None and self._thread.is_alive())
        n_prompt = len(self.clock.prompt_ids)
        tokens = self.clock.tokens  # raw: context_html glues byte tokens into characters itself
        ids = self.clock.ids
        tokenizer = self.lm.tokenizer
        text_px = font_size("body") + (8 if self.presenter else 2)
        if index is None:
            self.status.value = self._status_html(
                f"tick – · not started · the prompt is {n_prompt} tokens; Step runs the first tick: the prefill")
            self.text.value = _scroll_to_end(context_html(tokens[:n_prompt], n_prompt, token_ids=ids[:n_prompt],
                                                          font_px=text_px, tokenizer=tokenizer))
            update_distribution_figure(self.distribution, [], [])
            update_attention_over_context_figure(self.attention, _empty_attention(self.lm), [""], self.layer.value,
                                                 self._head())
            self.force_choice.options = []
            return
        record = history[index]
        end = n_prompt + index + 1  # the text as it was right after this tick
        probs = [None] * n_prompt + [r.prob for r in history[: index + 1]]
        self.text.value = _scroll_to_end(context_html(tokens[:end], n_prompt, token_ids=ids[:end], probs=probs,
                                                      font_px=text_px, tokenizer=tokenizer))
        update_distribution_figure(self.distribution, record.top_raw, record.top_filtered, record.token_id,
                                   chosen_probs=(record.token_text, record.raw_prob, record.prob),
                                   tokenizer=self.lm.tokenizer)
        self._draw_attention(record)
        self.status.value = self._status_html(self._status_text(record, len(history)))
        self.force_choice.options = _force_options(record, self.lm.tokenizer)
        self.force_choice.value = record.token_id if record.token_id in [v for _, v in self.force_choice.options] else None

    def _head(self) -> int | None:
        return None if self.head.value < 0 else self.head.value

    def _draw_attention(self, record) -> None:
        update_attention_over_context_figure(self.attention, record.attention,
                                             self._display_tokens()[: record.context_len], self.layer.value, self._head())

    def _label(self, token_id: int, text: str) -> str:
        """A token's text for labels; a byte fragment of a character shown as its bytes (cached)."""
        if token_id not in self._labels:
            self._labels[token_id] = readable_token(text, token_id, self.lm.tokenizer)
        return self._labels[token_id]

    def _display_tokens(self) -> list[str]:
        return [self._label(i, t) for i, t in zip(self.clock.ids, self.clock.tokens)]

    def _status_text(self, r, n_ticks: int) -> str:
        chosen = visible(self._label(r.token_id, r.token_text))
        parts = [f"tick {r.index}", r.phase + (" (whole prompt)" if r.phase == "prefill" else ""),
                 f"chose '{chosen}' p={r.prob:.1%} (raw {r.raw_prob:.1%})" + (" · FORCED" if r.forced else ""),
                 f"KV cache {r.kv_cache_len} positions, {_bytes(r.kv_cache_bytes)}",
                 f"{r.forward_ms:.1f} ms forward + {r.sampling_ms:.1f} ms sampling"]
        if r.index != n_ticks - 1:
            parts.insert(0, f"history: showing {r.index + 1} of {n_ticks} ticks")
        if r.stop_reason:
            parts.append(f"stopped: {r.stop_reason}")
        return " · ".join(parts)

    def _status_html(self, text: str) -> str:
        size = font_size("body") + (6 if self.presenter else 1)
        return f"<div style='font-size:{size}px;font-weight:600;color:#222'>{html.escape(text, quote=False)}</div>"


def _scroll_to_end(page: str, max_height_px: int = 240) -> str:
    """A scroll box that stays at its bottom: column-reverse anchors the scroll position to the
    end, so the newest token stays in view as the text grows (no JavaScript needed)."""
    return (f"<div style='max-height:{max_height_px}px;overflow-y:auto;display:flex;flex-direction:column-reverse'>"
            f"<div>{page}</div></div>")


def _empty_attention(lm):
    import torch

    return torch.zeros(lm.n_layers, lm.n_heads, 1)


def _force_options(record, tokenizer) -> list[tuple[str, int]]:
    """Dropdown entries: every candidate of this tick, by raw probability."""
    raw = {c.token_id: c.prob for c in record.top_raw}
    filt = {c.token_id: c.prob for c in record.top_filtered}
    texts = {c.token_id: readable_token(c.text, c.token_id, tokenizer) for c in (*record.top_raw, *record.top_filtered)}
    ids = sorted(texts, key=lambda i: -raw.get(i, 0.0))
    return [(f"{visible(texts[i])}   raw {raw.get(i, 0.0):.1%} · filtered {filt.get(i, 0.0):.1%}", i) for i in ids]


_PRESENTER_CSS = """<style>
.llmclock-presenter .widget-button, .llmclock-presenter .jupyter-button { font-size: 20px; height: 44px; }
.llmclock-presenter .widget-label, .llmclock-presenter .widget-readout,
.llmclock-presenter input, .llmclock-presenter select, .llmclock-presenter textarea { font-size: 19px; }
</style>"""
