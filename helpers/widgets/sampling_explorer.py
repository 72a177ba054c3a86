"""The sampling explorer: move the sampler's settings, watch the next-token distribution change.

    SamplingExplorer(lm)                                         # display it in a notebook cell
    SamplingExplorer(lm, "Once upon a time", temperature=0.7, top_k=20)

One forward pass reads the prompt; every slider move then only re-runs the sampler on the
same logits (a millisecond) and redraws the bar chart in place: grey = the model's raw
softmax, blue = the distribution the sampler draws from. "Draw a token" samples from the blue
bars with a seeded generator and outlines the chosen token. Out-of-range settings (top-p 0,
min-p 1, repetition penalty 0) show a message and the previous value comes back.
"""

from __future__ import annotations

import html
from contextlib import contextmanager

import ipywidgets as w
import torch

from ..clock import ClockError, next_token_logits
from ..i18n import messages
from ..plots.distribution import distribution_figure, update_distribution_figure
from ..plots.style import CHOSEN_COLOR, font_size
from ..sampling import (SETTING_NAMES, SamplingConfig, check_setting_names, draw, entropy_bits,
                        filtered_probs, top_candidates)
from ..tick_view import percent_label
from ..tokens import visible
from .figure_output import figure_output, show_figures

__all__ = ["SamplingExplorer"]

DEFAULT_PROMPT = "The capital of France is"


class SamplingExplorer:
    """An ipywidgets UI over `helpers.sampling` for one prompt's next token; display it, or use
    `.ui`.

    sampling: temperature, top_k, top_p, min_p, repetition_penalty (see SamplingConfig).
    k: how many of the most likely tokens the chart shows.
    """

    def __init__(self, lm, prompt: str = DEFAULT_PROMPT, k: int = 10, seed: int = 0,
                 lang: str = "en", **sampling):
        self.t = messages(lang)  # every word on screen: helpers/messages/
        check_setting_names(sampling)
        self.lm = lm
        self.k = k
        self.seed = seed
        self.config = SamplingConfig(**sampling)
        # raises ClockError on a bad prompt
        self.prompt, self.prompt_ids, self.logits = self._read(prompt)
        self.generator = torch.Generator().manual_seed(seed)
        self.chosen_id: int | None = None
        self.last_error: str | None = None
        self._syncing = False
        self._build()
        self._redraw()

    # ------------------------------------------------------------------ state
    def _read(self, prompt: str) -> tuple[str, list[int], torch.Tensor]:
        if not isinstance(prompt, str) or not prompt:
            raise ClockError("The prompt is empty: type some text for the model to continue, "
                             "e.g. 'Once upon a time'.")
        ids = self.lm.encode_prompt(prompt)
        return prompt, ids, next_token_logits(self.lm, ids)

    @property
    def raw_probs(self) -> torch.Tensor:
        """softmax(logits): the model's own distribution for the next token."""
        return self.logits.softmax(dim=-1)

    @property
    def probs(self) -> torch.Tensor:
        """The distribution the sampler draws from under the current settings."""
        return filtered_probs(self.logits, self.config, self.prompt_ids)

    # ------------------------------------------------------------------ actions
    def set_prompt(self, prompt: str) -> bool:
        """Read a new prompt (one forward pass). False, with a message, if it cannot be read."""
        try:
            self.prompt, self.prompt_ids, self.logits = self._read(prompt)
        except ClockError as err:
            self._say(str(err), error=True)
            return False
        self.chosen_id = None
        self.generator.manual_seed(self.seed)
        self._say("")
        self._redraw()
        return True

    def set(self, **settings) -> bool:
        """Change settings from code, as the sliders do; False, with a message, if out of range."""
        try:
            check_setting_names(settings)
        except TypeError as err:
            self._say(str(err), error=True)
            return False
        values = {name: getattr(self.config, name) for name in SETTING_NAMES} | settings
        try:
            config = SamplingConfig(**values)
        except ValueError as err:
            self._say(self.t("msg.keep_settings", error=err), error=True)
            return False
        self.config = config
        self.chosen_id = None  # a drawn token belonged to the old distribution
        with self._sync():
            for name in SETTING_NAMES:
                getattr(self, name).value = _control_value(name, getattr(config, name))
        self._say("")
        self._redraw()
        return True

    def draw(self) -> int:
        """Sample one token from the current distribution (seeded: a fresh explorer repeats the
        sequence)."""
        self.chosen_id = draw(self.probs, self.generator)
        self._say(self.t("sx.drew", token=repr(visible(self.lm.decode([self.chosen_id]))),
                         id=self.chosen_id))
        self._redraw()
        return self.chosen_id

    # ------------------------------------------------------------------ UI
    def _build(self) -> None:
        # Each slider wide enough to drag: its label takes up to 210 px of it. Temperature, the
        # one students drag live, gets a row of its own.
        slider = dict(continuous_update=True, style={"description_width": "initial"},
                      layout=w.Layout(width="380px"))
        c = self.config
        self.temperature = w.FloatSlider(value=c.temperature, min=0.0, max=2.0, step=0.01,
                                         readout_format=".2f", description=self.t("sx.temperature"),
                                         continuous_update=True,
                                         style={"description_width": "initial"},
                                         layout=w.Layout(width="96%"))
        self.top_k = w.IntSlider(value=c.top_k or 0, min=0, max=100,
                                 description=self.t("sx.top_k"), **slider)
        self.top_p = w.FloatSlider(value=c.top_p, min=0.0, max=1.0, step=0.01,
                                   description=self.t("sx.top_p"), **slider)
        self.min_p = w.FloatSlider(value=c.min_p, min=0.0, max=1.0, step=0.01,
                                   description=self.t("sx.min_p"), **slider)
        self.repetition_penalty = w.FloatSlider(
            value=c.repetition_penalty, min=0.0, max=3.0, step=0.05,
            description=self.t("sx.repetition_penalty"), **slider)
        for name in SETTING_NAMES:
            control = getattr(self, name)
            control.add_class(f"llmclock-sampling-{name.replace('_', '-')}")
            control.observe(self._on_slider, names="value")
        self.prompt_box = w.Text(value=self.prompt, description=self.t("label.prompt"),
                                 layout=w.Layout(width="70%"))
        self.read_button = w.Button(description=self.t("sx.read"), tooltip=self.t("sx.read_tip"),
                                    icon="refresh", layout=w.Layout(width="auto"))
        self.draw_button = w.Button(description=self.t("sx.draw"), button_style="primary",
                                    icon="random", tooltip=self.t("sx.draw_tip"),
                                    layout=w.Layout(width="auto"))
        self.read_button.on_click(lambda _: self.set_prompt(self.prompt_box.value))
        self.draw_button.on_click(lambda _: self.draw())
        self.stats = w.HTML()
        self.message = w.HTML()
        # A plain figure, updated in place and shown again in `plot` (see figure_output.py).
        self.figure = distribution_figure([], [], title=self._title(), tokenizer=self.lm)
        self.plot = figure_output()
        self.ui = w.VBox([
            w.HBox([self.prompt_box, self.read_button]),
            w.HBox([self.temperature], layout=w.Layout(width="100%")),
            w.HBox([self.top_k, self.top_p, self.min_p], layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.repetition_penalty, self.draw_button],
                   layout=w.Layout(flex_flow="row wrap")),
            self.stats, self.message, self.plot,
        ])
        self.ui.add_class("llmclock-sampling-explorer")

    def _on_slider(self, change) -> None:
        if self._syncing:
            return
        name = next(n for n in SETTING_NAMES if getattr(self, n) is change["owner"])
        if not self.set(**{name: _config_value(name, change["new"])}):
            with self._sync():  # put the slider back to the setting still in force
                change["owner"].value = change["old"]

    def _title(self) -> str:
        shown = self.prompt if len(self.prompt) <= 40 else "…" + self.prompt[-39:]
        return self.t("sx.title", text=repr(visible(shown)))

    def _redraw(self) -> None:
        raw, probs = self.raw_probs, self.probs
        top_raw = top_candidates(raw, self.lm.tokenizer, self.k)
        top_filtered = top_candidates(probs, self.lm.tokenizer, self.k)
        chosen_probs = None
        if self.chosen_id is not None:
            chosen_probs = (self.lm.decode([self.chosen_id]), float(raw[self.chosen_id]),
                            float(probs[self.chosen_id]))
        update_distribution_figure(self.figure, top_raw, top_filtered, self.chosen_id, chosen_probs,
                                   tokenizer=self.lm)
        self.figure.layout.title.text = self._title()
        show_figures(self.plot, self.figure)
        kept = int((probs > 0).sum())
        best = top_raw[0]
        self.stats.value = (
            f"<div style='font-size:{font_size('body')}px'>"
            + self.t("sx.stats", kept=f"{kept:,}", n=f"{probs.numel():,}",
                     raw=f"{entropy_bits(raw):.2f}", after=f"{entropy_bits(probs):.2f}",
                     best=html.escape(visible(best.text)), p=percent_label(best.prob))
            + "</div>")

    def _say(self, text: str, error: bool = False) -> None:
        self.last_error = text if error else None
        if not text:
            self.message.value = ""
            return
        colour, mark = (CHOSEN_COLOR, "⚠ ") if error else ("#444", "")
        self.message.value = (f"<div style='color:{colour};font-size:{font_size('body')}px'>"
                              f"{mark}{html.escape(text, quote=False)}</div>")

    @contextmanager
    def _sync(self):
        self._syncing = True
        try:
            yield
        finally:
            self._syncing = False

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.ui._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"SamplingExplorer({self.prompt!r}, {self.config})"


def _control_value(name: str, value):
    return (value or 0) if name == "top_k" else value


def _config_value(name: str, value):
    return (int(value) or None) if name == "top_k" else float(value)
