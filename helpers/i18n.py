"""The interface's words, one catalogue per language: every label, button, status line and
message of the clock widget, the explorers, the recorded clock and the demo app.

    t = messages("zh")
    t("button.step")                       # '单步'
    t("status.chose", token="我", p="12.0%", raw="8.1%")

The texts live in helpers/messages/en.py and helpers/messages/zh.py (a dict per language, the
same keys in both: a test checks it); code asks for them by key and never spells them itself.
The exercise checks' texts (keys "check." and "chNN.") are a sub-catalogue beside them,
helpers/messages/exercises_en.py and exercises_zh.py, merged into the same Messages: they are
many and written with the notebooks, so they stay out of the interface's file.
The terms follow docs/glossary.md.
"""

from __future__ import annotations

import string
from importlib import import_module

__all__ = ["LANGUAGES", "Messages", "messages", "check_lang", "placeholders"]

LANGUAGES = ("en", "zh")


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not a language of the interface: use one of "
                         f"{', '.join(repr(x) for x in LANGUAGES)}.")
    return lang


def placeholders(text: str) -> set[str]:
    """The {names} a catalogue text fills in."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Messages:
    """One language's catalogue: call it with a key (and the values its text fills in)."""

    def __init__(self, lang: str):
        self.lang = check_lang(lang)
        interface = import_module(f"helpers.messages.{lang}").MESSAGES
        exercises = import_module(f"helpers.messages.exercises_{lang}").MESSAGES
        self.texts: dict[str, str] = {**interface, **exercises}

    def __call__(self, key: str, **values) -> str:
        return self.texts[key].format(**values) if values else self.texts[key]

    def get(self, key: str, default: str) -> str:
        """The text of `key`, or `default` when the catalogue has none (e.g. a stop reason)."""
        return self.texts.get(key, default)

    def __repr__(self) -> str:
        return f"Messages({self.lang!r}, {len(self.texts)} texts)"


_CACHE: dict[str, Messages] = {}


def messages(lang: str = "en") -> Messages:
    if lang not in _CACHE:
        _CACHE[lang] = Messages(lang)
    return _CACHE[lang]
