"""Notebook 08's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import re

import pytest

from helpers.exercises import ch08
from exercise_language import assert_answers_speak, assert_every_mistake_speaks

DEFAULT = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def _turn(role, text):
    return f"<|im_start|>{role}\n{text}<|im_end|>\n"


def right_chat_text(user, system=None):
    system = DEFAULT if system is None else system
    return _turn("system", system) + _turn("user", user) + "<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def tok(embedded_lm):
    return embedded_lm.tokenizer


@pytest.mark.slow
def test_chat_text_solution_passes(tok):
    assert ch08.check_chat_text(right_chat_text, tok)


@pytest.mark.slow
@pytest.mark.parametrize("wrong, slip", [
    (lambda u, s=None: (_turn("system", s) if s is not None else "") + _turn("user", u)
     + "<|im_start|>assistant\n", "default one silently"),
    (lambda u, s=None: right_chat_text(u, s)[:-len("<|im_start|>assistant\n")],
     "generation prompt"),
    (lambda u, s=None: right_chat_text(u, s).replace("<|im_end|>\n", "<|im_end|>"),
     "newline follows every"),
    (lambda u, s=None: right_chat_text(u), "is ignored"),
    (lambda u, s=None: right_chat_text(u, s)[:-1], "ends with a newline"),
    (lambda u, s=None: right_chat_text(u, s).replace("user", "human"), "Wrong for"),
    (lambda u, s=None: None, "returned None"), (..., "still empty"),
])
def test_chat_text_slips(wrong, slip, tok):
    result = ch08.check_chat_text(wrong, tok)
    assert not result and slip in result.message, result.message


def right_cut(text, stops):
    starts = [text.find(s) for s in stops if s in text]
    return text[:min(starts)] if starts else text


def test_cut_at_stop_solution_passes():
    assert ch08.check_cut_at_stop(right_cut)
    namespace: dict = {}
    exec(ch08.SOLUTIONS["cut_at_stop"], namespace)
    assert ch08.check_cut_at_stop(namespace["cut_at_stop"])
    assert ch08.check_cut_at_stop(
        lambda t, s: re.split("|".join(map(re.escape, s)), t, maxsplit=1)[0])
    assert ch08.check_cut_at_stop(
        lambda t, s: min((t.split(x)[0] for x in s), key=len))


def _first_listed(text, stops):
    for s in stops:
        if s in text:
            return text[:text.find(s)]
    return text


@pytest.mark.parametrize("wrong, slip", [
    (_first_listed, "listed first"),
    (lambda t, s: right_cut(t, s) + next((x for x in s if t.startswith(right_cut(t, s) + x)), ""),
     "itself is kept"),
    (lambda t, s: t[:max([t.rfind(x) for x in s if x in t], default=len(t))], "last occurrence"),
    (lambda t, s: right_cut(t, s) if any(x in t for x in s) else "", "whole text"),
    (lambda t, s: t.split(s[0])[0], "listed first"),   # only the first stop string looked at
    (lambda t, s: re.split("|".join(s), t)[0], "unescaped"),   # '?' raises re.error
    (lambda t, s: re.split("|".join(x.replace("?", "[?]") for x in s), t)[0], "unescaped"),
    (lambda t, s: t[:m.start()] if (m := re.search("|".join(s).replace("?", r"\?"), t)) else t,
     "unescaped"),   # '.' matches any character
])
def test_cut_at_stop_slips(wrong, slip):
    result = ch08.check_cut_at_stop(wrong)
    assert not result and slip in result.message, result.message


def right_decision(token_id, n_new, max_new_tokens, end_ids):
    if token_id in end_ids:
        return "end of text"
    return "max tokens" if n_new >= max_new_tokens else "continue"


def test_decision_solution_passes():
    assert ch08.check_decision(right_decision)


@pytest.mark.parametrize("wrong, slip", [
    (lambda t, n, m, e: "end of text" if t in e else "max tokens" if n > m else "continue",
     "Off by one"),
    (lambda t, n, m, e: "max tokens" if n >= m else "end of text" if t in e else "continue",
     "check the end ids first"),
    (lambda t, n, m, e: "end of text" if t == 2 else "max tokens" if n >= m else "continue",
     "Only <|im_end|> (2)"),
    (lambda t, n, m, e: "continue", "Wrong for"),
])
def test_decision_slips(wrong, slip):
    result = ch08.check_decision(wrong)
    assert not result and slip in result.message, result.message


@pytest.mark.parametrize("name", ["chat_text", "cut_at_stop", "decision"])
def test_every_mistake_in_chinese(name, chat_lm):
    calls = {"chat_text": lambda check, answer: check(answer, chat_lm.tokenizer),
             "cut_at_stop": lambda check, answer: check(answer),
             "decision": lambda check, answer: check(answer)}
    assert assert_every_mistake_speaks("zh", getattr(ch08, f"check_{name}"), calls[name])


def test_a_regular_expression_in_chinese():
    def by_regex(text, stops):
        return re.split("|".join(stops), text)[0]
    assert_answers_speak("zh", ch08.check_cut_at_stop, lambda check, answer: check(answer),
                         [by_regex, lambda text, stops: re.split("(", text)[0]])
