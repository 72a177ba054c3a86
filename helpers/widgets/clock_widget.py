"""The clock widget: step a language model one tick at a time and watch every part of the tick.

    ClockWidget(lm, "The capital of France is", temperature=0.8)

Controls: Step (one tick), Run N at a chosen speed / Pause (stops at the next tick boundary,
the screen stays on the tick the kernel stopped at), Rewind, Reset, prompt + chat + sampling
settings (they apply from the next tick; prompt, chat and seed at the next Reset), Force
(rewind to the shown tick and take another candidate instead), and a scrubber over past ticks
that re-shows their panels from history. The Presenter button switches projector sizes on
and off: it flips helpers.plots.set_presenter_mode, the one switch that every figure and
widget drawn afterwards follows (call it before making the widget to start in presenter mode).

Three parts, each in its own module:
    clock_state.py  ClockRunner: one action at a time, Run/Pause, display pacing (no drawing)
    clock_view.py   ClockView: the controls and panels, drawing one tick (no running)
    this file       ClockWidget: what each button does, tying the two to a helpers.clock.Clock
Every tick runs on the tick worker thread (helpers/threads.py): the same thread policy for
Step and Run.
"""

from __future__ import annotations

from typing import Callable

from ..clock import Clock
from ..i18n import check_lang
from ..sampling import CLOCK_TEMPERATURE, SETTING_NAMES, SamplingConfig, check_setting_names
from ..tokens import visible
from .clock_state import Busy, ClockRunner, FrameGate
from .clock_view import ClockView

__all__ = ["ClockWidget"]

DEFAULT_PROMPT = "The capital of France is"
MAX_RUN = 10_000
# A screen that shows the widget answers a frame within a fraction of a second; after this
# long without any answer its pacing widget did not load (see FrameGate.never_answered).
PACING_GRACE_S = 5.0


def _make_clock(
    lm, prompt: str, config: SamplingConfig, seed: int, chat: bool, system_prompt: str | None
):
    # An empty system-prompt box means the chat template's own default, as None does.
    return Clock(lm, prompt, config=config, seed=seed, chat=chat,
                 system_prompt=system_prompt or None)


def _check_range(name: str, value, low, high) -> None:
    if not low <= value <= high:
        raise ValueError(
            f"{name}={value!r} is outside what the widget offers ({low} to {high}): "
            f"pick a value in that range."
        )


class ClockWidget:
    """An ipywidgets UI around `helpers.clock.Clock`; display it, or use `.ui`.

    sampling: temperature (default 0.7, CLOCK_TEMPERATURE, as the recorded clock), top_k, top_p,
    min_p, repetition_penalty (see SamplingConfig).
    chat / system_prompt: wrap the prompt in the model's chat template (Instruct models).
    clock: drive an existing Clock instead of making one (prompt, seed, chat and sampling are
    then ignored). frame_timeout: seconds a run waits for the screen before it stops waiting.
    width: px for the two charts side by side (at least 1068, the default), e.g. a full-screen
    app's width. Presenter sizes: helpers.plots.set_presenter_mode() or the Presenter button.
    lang: the interface's language, "en" or "zh" (every word from helpers/messages/).

    What a program (or a lesson) reads and drives: w.clock (the Clock), w.status and
    w.message (the two text lines), w.view (every control and panel: w.view.step_button,
    w.view.top_p, w.view.distribution, ...; see ClockView), and the actions w.step(),
    w.run(n), w.pause(), w.rewind(), w.reset(), w.force(token_id).
    """

    def __init__(
        self,
        lm,
        prompt: str = DEFAULT_PROMPT,
        seed: int = 0,
        chat: bool = False,
        system_prompt: str | None = None,
        clock=None,
        frame_timeout: float = 1.0,
        width: int | None = None,
        lang: str = "en",
        **sampling,
    ):
        check_lang(lang)
        if "presenter" in sampling:
            raise TypeError(
                "ClockWidget has no presenter= any more: call "
                "helpers.plots.set_presenter_mode() first (one switch for every figure and "
                "widget), or click the widget's Presenter button."
            )
        check_setting_names(sampling)
        config = SamplingConfig(**{"temperature": CLOCK_TEMPERATURE, **sampling})
        _check_range("temperature", config.temperature, 0.0, 100.0)
        _check_range("repetition_penalty", config.repetition_penalty, 0.01, 100.0)
        self.lm = lm
        self.clock = (
            clock
            if clock is not None
            else _make_clock(lm, prompt, config, seed, chat, system_prompt)
        )
        self.frames = FrameGate(timeout_s=frame_timeout)
        self.runner = ClockRunner(self.frames)
        self.view = ClockView(lm, self.clock, on_drawn=self.frames.ack, width=width, lang=lang)
        self.t = self.view.t
        self.last_error: str | None = None
        self._clicked = False  # a button was clicked: a front end shows this widget
        self._wire()
        self._present(None if not self.clock.history else len(self.clock.history) - 1)

    @property
    def shown(self) -> int | None:
        """The tick on screen (an index into clock.history; None before the first tick)."""
        return self.view.shown

    @property
    def ui(self):
        """The whole widget (an ipywidgets VBox), to place inside your own layout."""
        return self.view.ui

    @property
    def status(self):
        """The status line (an ipywidgets.HTML): `w.status.value` holds what it shows, e.g.
        "tick 2 · decode · chose '·Paris' 77.0% (raw 60.1%) · ..." (helpers.tick_view)."""
        return self.view.status

    @property
    def message(self):
        """The message line under it (an ipywidgets.HTML): what the last action said, e.g. why
        a setting was refused."""
        return self.view.message

    def _from_screen(self, action):
        """A button's handler: a click proves that a front end shows the widget."""

        def clicked(_button) -> None:
            self._clicked = True
            action()
            self._note_pacing()

        return clicked

    def _wire(self) -> None:
        v = self.view
        v.step_button.on_click(self._from_screen(self.step))
        v.run_button.on_click(self._from_screen(self.run))
        v.pause_button.on_click(self._from_screen(self.pause))
        v.rewind_button.on_click(self._from_screen(self.rewind))
        v.reset_button.on_click(self._from_screen(self.reset))
        v.force_button.on_click(self._from_screen(self.force))
        for name in SETTING_NAMES + ("seed",):
            getattr(v, name).observe(self._on_setting, names="value")
        v.layer.observe(lambda _: self.view.redraw_attention(self.clock), names="value")
        v.head.observe(lambda _: self.view.redraw_attention(self.clock), names="value")
        v.hide_first.observe(self._on_hide_first, names="value")
        v.presenter_button.observe(self._on_presenter, names="value")
        v.scrubber.observe(self._on_scrub, names="value")
        v.speed.observe(
            lambda change: setattr(self.runner, "ticks_per_second", change["new"]), names="value"
        )
        v.chat.observe(lambda _: self._say(self.t("msg.chat_at_reset")), names="value")
        v.system_prompt.observe(lambda _: self._say(self.t("msg.system_at_reset")), names="value")

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(
            self
        )  # shown where widgets cannot render (e.g. a plain console)
        # Where saved outputs are shown without running widgets (exports, previews), front ends
        # use text/html: the ticks run so far as a recorded-clock player (helpers.trace).
        from ..trace import snapshot_html

        bundle["text/html"] = snapshot_html(self.clock)
        return bundle

    def __repr__(self) -> str:
        return f"ClockWidget({self.clock!r})"

    # ------------------------------------------------------------------ actions
    def step(self) -> bool:
        """One tick (on the tick worker). Returns False (with a message) when it could not run.
        Step always continues the text from its newest tick, also when the scrubber shows an
        older one (the message then says so)."""
        if self.clock.done:
            self._say(self._stopped_text(), error=True)
            return False
        shown, newest = self.shown, self._newest()
        try:
            ok = self.runner.do(self._tick)
        except Busy as err:
            self._say(str(err), error=True)
            return False
        self._present(self._newest())
        if ok:
            note = ""
            if shown is not None and newest is not None and shown != newest:
                back = newest - shown
                note = self.t("msg.stepped_on", newest=newest, shown=shown, back=back,
                              s="s" * (back != 1))
            self._say(self._stopped_text() if self.clock.done else note)
        return ok

    def run(self, n: int | None = None, background: bool = True) -> bool:
        """Run n ticks (default: the N box), paced by the screen and the speed setting."""
        n = self.view.n_input.value if n is None else n
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_RUN:
            self._say(self.t("msg.n_range", max=MAX_RUN, n=repr(n)), error=True)
            return False
        if self.clock.done:
            self._say(self._stopped_text(), error=True)
            return False
        self.view.set_running(True)
        self._say(self.clock.history_note(n) or "")  # a run beyond the history's memory bound
        try:
            self.runner.run(
                n,
                self._run_tick,
                lambda: self._present(self._newest(), running=True),
                self._finished,
                background=background,
            )
        except Busy as err:
            self._say(str(err), error=True)
            return False
        return True

    def pause(self) -> None:
        """Stop a run after the tick in progress."""
        if not self.runner.pause():
            self._say(self.t("msg.nothing_running"))
            return
        self._say(self.t("msg.pausing"))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a background run has finished (for scripts and tests). True if it has."""
        return self.runner.wait(timeout)

    def rewind(self, n: int = 1) -> bool:
        if not self.clock.history:
            self._say(self.t("msg.nothing_to_rewind"), error=True)
            return False
        return self._action(
            lambda: self.clock.rewind(n), self.t("msg.rewound", n=n, s="s" * (n != 1))
        )

    def reset(self) -> bool:
        v = self.view

        def restart() -> None:
            if bool(v.chat.value) == self.clock.chat and self._system_prompt() == getattr(
                self.clock, "system_prompt", None
            ):
                self.clock.reset(v.prompt_box.value)
                return
            clock = _make_clock(
                self.lm,
                v.prompt_box.value,
                self.clock.config,
                self.clock.seed,
                bool(v.chat.value),
                self._system_prompt(),
            )
            clock.end_ids = self.clock.end_ids
            self.clock = clock

        return self._action(restart, self.t("msg.reset"))

    def force(self, token_id: int | None = None) -> bool:
        """Rewind to the shown tick and re-run it with `token_id` (default: the dropdown)."""
        token_id = self.view.force_choice.value if token_id is None else token_id
        shown = self.shown
        if shown is None or token_id is None:
            self._say(self.t("msg.nothing_to_force"), error=True)
            return False
        try:
            token = self.clock.token_id_of(token_id)  # validate before anything is undone
        except ValueError as err:
            self._say(str(err), error=True)
            return False

        def replace() -> None:
            self.clock.rewind(len(self.clock.history) - shown)
            self.clock.force(token)
            self.clock.tick()

        text = visible(self.lm.decode([token]))
        return self._action(
            replace, self.t("msg.forced", tick=shown, token=text)
        )

    def close(self) -> None:
        """Stop a run and close every widget of the UI (figures included)."""
        self.runner.pause()
        self.wait(10)

        def close_tree(widget) -> None:
            for child in getattr(widget, "children", ()):
                close_tree(child)
            widget.close()

        close_tree(self.ui)

    # ------------------------------------------------------------------ internals
    def _system_prompt(self) -> str | None:
        return self.view.system_prompt.value.strip() or None

    def _tick(self) -> bool:
        """One tick; on failure a message (the clock is left as before the tick) and False."""
        try:
            self.clock.tick()
        except ValueError as err:  # ClockError and friends: the message names the fix
            self._say(str(err), error=True)
            return False
        except Exception as err:
            self._say(self.t("msg.tick_failed", error=f"{type(err).__name__}: {err}"), error=True)
            return False
        return True

    def _run_tick(self) -> bool:
        return not self.clock.done and self._tick()

    def _finished(self, done: int, paused: bool) -> None:
        self.view.set_running(False)
        self.view.scrubber.disabled = not self.clock.history
        if self.last_error and not paused:
            return  # keep the failed tick's message
        if paused:
            self._say(self.t("msg.paused", n=done, s="s" * (done != 1)))
        elif self.clock.done:
            self._say(self._stopped_text())
        else:
            self._say(self.t("msg.ran", n=done, s="s" * (done != 1)))

    def _action(self, action: Callable[[], object], done_message: str) -> bool:
        try:
            self.runner.do(action)
        except Busy as err:
            self._say(str(err), error=True)
            return False
        except ValueError as err:
            self._say(str(err), error=True)
            self._present(self._newest())
            return False
        except Exception as err:  # a bug or a model failure: report it, stay usable
            self._say(f"{type(err).__name__}: {err}", error=True)
            self._present(self._newest())
            return False
        self._say(done_message)  # before the new tick: the screen never pairs it with the old
        self._present(self._newest())
        return True

    def _present(
        self, index: int | None, running: bool = False, move_scrubber: bool = True
    ) -> None:
        self.view.show(self.clock, index, move_scrubber=move_scrubber, running=running)
        self.view.send_frame(self.frames.next_frame())
        self._note_pacing()

    def _note_pacing(self) -> None:
        """Say in one line when the screen never acknowledges frames (its pacing widget did not
        load); hide the line again as soon as it does."""
        unpaced = self._clicked and self.frames.never_answered(PACING_GRACE_S)
        self.view.pacing_note.layout.display = "" if unpaced else "none"

    def _newest(self) -> int | None:
        return len(self.clock.history) - 1 if self.clock.history else None

    def _stopped_text(self) -> str:
        reason = self.clock.stop_reason
        return self.t("msg.stopped", reason=self.t.get(f"stop.{reason}", str(reason)))

    def _say(self, text: str, error: bool = False) -> None:
        self.last_error = text if error else None
        self.view.say(text, error)

    def _quietly(self, control: str):
        return self.view.quietly(control)

    def _on_setting(self, change) -> None:
        if "settings" in self.view.quiet:
            return
        if change["owner"] is self.view.seed:
            self.clock.seed = int(change["new"])
            self._say(self.t("msg.seed", seed=change["new"]))
            return
        values = {name: getattr(self.view, name).value for name in SETTING_NAMES}
        try:
            self.clock.config = SamplingConfig(**values)
        except ValueError as err:
            self._say(self.t("msg.keep_settings", error=err), error=True)
            with self._quietly("settings"):  # put the control back to the setting still in force
                change["owner"].value = change["old"]
            return
        self._say(self.t("msg.new_settings"))

    def _on_hide_first(self, change) -> None:
        self.view.redraw_attention(self.clock)
        if change["new"]:
            self._say(self.t("tip.sink"))  # what the hidden bar was, in one line

    def _on_presenter(self, change) -> None:
        if "presenter" not in self.view.quiet:
            self.view.set_presenter(bool(change["new"]), self.clock)

    def _on_scrub(self, change) -> None:
        if "scrubber" not in self.view.quiet and self.clock.history and not self.runner.running:
            if not self.last_error:
                self._say("")  # an old "Rewound 1 tick." does not belong to the tick now shown
            self._present(min(int(change["new"]), len(self.clock.history) - 1), move_scrubber=False)
