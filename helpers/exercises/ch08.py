"""Checks for notebook 08 · Chat, special tokens and stopping.

Exercise 1 asks for the chat template written by hand, as a function of the user message and
an optional system prompt, compared with the tokenizer's own template on several messages.
Exercise 2 asks for cutting a text at the earliest stop string; the cases have two stop strings
where the one listed first occurs later, a text with none, and stop strings with characters that
mean something in a regular expression ('.', '?', '*'), so an unescaped regex fails.
Exercise 3 asks for the per-tick stopping decision; the cases include the end id 0 (not only
<|im_end|> = 2), the last tick of the budget, and an end token on the last tick.
"""

from __future__ import annotations

import re

from ..checks import check, check_function, msg, solution_of

__all__ = ["check_chat_text", "check_cut_at_stop", "check_decision", "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "chat_text": r'''
def chat_text(user, system=None):
    if system is None:
        system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    turns = [("system", system), ("user", user)]
    text = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
    return text + "<|im_start|>assistant\n"
''',
    "cut_at_stop": r'''
def cut_at_stop(text, stop_strings):
    starts = [text.find(s) for s in stop_strings if s in text]
    return text[:min(starts)] if starts else text
''',
    "decision": r'''
def decision(token_id, n_new, max_new_tokens, end_ids):
    if token_id in end_ids:
        return "end of text"
    if n_new >= max_new_tokens:
        return "max tokens"
    return "continue"
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


_MESSAGES = [("What is the capital of France?", None), ("Hi!", None),
             ("Name a colour.", "You answer in one word."), ("2 + 2 = ?", "")]


def check_chat_text(fn, tokenizer):
    """Exercise 1: fn(user, system=None) -> the template text, as apply_chat_template makes it."""
    def reference(user, system):
        messages = [{"role": "user", "content": user}]
        if system is not None:
            messages.insert(0, {"role": "system", "content": system})
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    default = reference("\x00", None).split("\x00")[0].split("<|im_start|>user")[0]

    def turn(role, text):
        return f"<|im_start|>{role}\n{text}<|im_end|>\n"

    mistakes = [
        (lambda u, s: (turn("system", s) if s is not None else "") + turn("user", u)
         + "<|im_start|>assistant\n",
         msg("ch08.chat_text.default_system")),
        (lambda u, s: reference(u, s)[: -len("<|im_start|>assistant\n")],
         msg("ch08.chat_text.no_generation_prompt")),
        (lambda u, s: reference(u, s).replace("<|im_end|>\n", "<|im_end|>"),
         msg("ch08.chat_text.newline_after_end")),
        (lambda u, s: default + turn("user", u) + "<|im_start|>assistant\n",
         msg("ch08.chat_text.system_ignored")),
        (lambda u, s: reference(u, s).replace("<|im_start|>assistant\n", "<|im_start|>assistant"),
         msg("ch08.chat_text.newline_after_assistant")),
    ]
    return check_function(fn, reference, _MESSAGES, msg("ch08.chat_text.name"),
                          mistakes=mistakes,
                          describe=lambda c: msg("ch08.chat_text.case", user=repr(c[0]),
                                                 system=repr(c[1])),
                          hint=msg("ch08.chat_text.hint"))


_STOP_CASES = [("Paris.\nQ: next?\n", ["\n"]), ("Paris. END more\nlines", ["\n", "END"]),
               ("no stop here", ["###"]), ("a###b###c", ["###"]), ("stop at the start", ["stop"]),
               # regex characters: '.' matches any character, '?' and '*' repeat what precedes
               ("Paris is the capital. Next", ["."]), ("3.14 or 3-14", ["3-14", "3.1"]),
               ("Sure? Yes. Why?", ["Why?"]), ("a*b and ab", ["a*b"]),
               ("Q: where? A: here", ["?", "A:"]), ("U.S.A. and USA", ["USA"])]


def _cut(text, stops):
    found = [(text.find(s), s) for s in stops if s in text]
    return text[:min(found)[0]] if found else text


_REGEX_CHARACTERS = set(".^$*+?()[]{}|\\")


def _only_wrong_on_regex_characters(fn) -> bool:
    """Right on every case without regex characters, wrong on some with them: the stop strings
    went into a regular expression unescaped (whichever characters were escaped by hand)."""
    wrong = []
    for text, stops in _STOP_CASES:
        try:
            if fn(text, list(stops)) != _cut(text, stops):
                wrong.append(stops)
        except Exception:
            return False   # check_function reports it (re.error gets the same message)
    return bool(wrong) and all(_REGEX_CHARACTERS & set("".join(stops)) for stops in wrong)


def check_cut_at_stop(fn):
    """Exercise 2: fn(text, stop_strings) -> text cut before the earliest stop string."""
    def first_listed(text, stops):
        for s in stops:
            if s in text:
                return text[:text.find(s)]
        return text

    def keeps_stop(text, stops):
        found = [(text.find(s), s) for s in stops if s in text]
        if not found:
            return text
        at, s = min(found)
        return text[:at + len(s)]

    def last_one(text, stops):
        found = [text.rfind(s) for s in stops if s in text]
        return text[:max(found)] if found else text

    regex = msg("ch08.cut_at_stop.regex")
    mistakes = [
        (first_listed, msg("ch08.cut_at_stop.first_listed")),
        (keeps_stop, msg("ch08.cut_at_stop.keeps_stop")),
        (last_one, msg("ch08.cut_at_stop.last_one")),
        (lambda t, s: "" if not any(x in t for x in s) else _cut(t, s),
         msg("ch08.cut_at_stop.no_stop")),
    ]
    name, hint = msg("ch08.cut_at_stop.name"), msg("ch08.cut_at_stop.hint")
    if callable(fn) and _only_wrong_on_regex_characters(fn):
        return check(False, name, regex, hint)
    return check_function(fn, _cut, _STOP_CASES, name, mistakes=mistakes,
                          raised=[(re.error, regex)],
                          describe=lambda c: msg("ch08.cut_at_stop.case", text=repr(c[0]),
                                                 stops=repr(c[1])),
                          hint=hint)


_DECISION_CASES = [(2, 3, 10, {0, 2}), (0, 3, 10, {0, 2}), (198, 3, 10, {0, 2}),
                   (198, 10, 10, {0, 2}), (198, 9, 10, {0, 2}), (2, 10, 10, {0, 2}),
                   (50, 4, 10, {50}), (2, 4, 10, {50})]


def _decision(token_id, n_new, max_new_tokens, end_ids):
    if token_id in end_ids:
        return "end of text"
    if n_new >= max_new_tokens:
        return "max tokens"
    return "continue"


def check_decision(fn):
    """Exercise 3: fn(token_id, n_new, max_new_tokens, end_ids) -> the decision after a tick."""
    mistakes = [
        (lambda t, n, m, e: "end of text" if t in e else "max tokens" if n > m else "continue",
         msg("ch08.decision.off_by_one")),
        (lambda t, n, m, e: "max tokens" if n >= m else "end of text" if t in e else "continue",
         msg("ch08.decision.budget_first")),
        (lambda t, n, m, e: "end of text" if t == 2 else "max tokens" if n >= m else "continue",
         msg("ch08.decision.only_im_end")),
    ]
    return check_function(fn, _decision, _DECISION_CASES, msg("ch08.decision.name"),
                          mistakes=mistakes,
                          describe=lambda c: msg("ch08.decision.case", token=c[0], n_new=c[1],
                                                 max_new=c[2], end_ids=sorted(c[3])),
                          hint=msg("ch08.decision.hint"))
