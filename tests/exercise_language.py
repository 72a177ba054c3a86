"""Is an exercise check's feedback in the edition's language? Used by tests/test_exercises_*.py
and tests/test_exercise_messages.py.

    english_words("还不对：请用 n_prompt。")      # [] : code names, quoted values and math pass
    assert_every_mistake_speaks("zh", ch00.check_entropy, lambda check, a: check(a, probs))

assert_every_mistake_speaks runs the English check once to collect its catalogued mistakes
(the `mistakes` it gives check_function / check_close / check_equal), then feeds each wrong
answer to the check in `lang`: it must fail with the same texts (catalogue keys) as in English,
and every word it shows must be in `lang`.
"""

from __future__ import annotations

import re
import sys
from unittest import mock

from helpers import checks

CJK = re.compile(r"[\u3400-\u9fff]")
# Words a Chinese text keeps in Latin letters: terms the glossary keeps in English (logits,
# softmax, top-p, KV 缓存, RoPE ...), names of code, units and the model names.
LATIN_TERMS = {
    "KV", "kv", "UTF", "BPE", "BOM", "GB18030", "RoPE", "softmax", "logits", "logit", "top",
    "min", "NaN", "inf", "nat", "nats", "argmax", "argmin", "nansum", "divmod", "def", "return",
    "while", "None", "True", "False", "id", "ids", "lm", "GQA", "MLP", "RMSNorm", "LayerNorm",
    "GELU", "GeGLU", "SiLU", "SwiGLU", "ReLU", "sigmoid", "tanh", "softplus", "rms", "RMS", "eps",
    "log", "exp", "ln", "cos", "sin", "mod", "int", "float", "str", "list", "tuple", "dict",
    "bool", "len", "torch", "math", "pi", "FLOP", "GB", "GiB", "MB", "emoji", "Gemma", "Llama",
    "Mistral", "Falcon", "Qwen", "GPT", "SentencePiece", "Clock", "SamplingConfig", "Python",
    "ValueError", "TypeError", "IndexError", "KeyError", "ZeroDivisionError", "UnicodeError",
    "AttributeError", "RuntimeError", "NameError",
}
QUOTED = re.compile(r"“[^”]*”|'[^'\n]*'|\"[^\"\n]*\"|`[^`\n]*`|⟨[^⟩]*⟩")
WORD = re.compile(r"\.?[A-Za-z_][\w.\-/()\[\]*]*")
ASCII_RUN = re.compile(r"[\x20-\x7e]+")
PHRASE = re.compile(r"[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}")   # three words: a sentence


def _is_code(run: str) -> bool:
    """An expression such as (probs * probs.log2()) or 0 * -inf = nan: code, not a sentence."""
    return bool(re.search(r"[=*+/<>()\[\]]", run)) and not PHRASE.search(run)


def english_words(text: str) -> list[str]:
    """The Latin-letter words of `text` that are neither code nor a term kept in Latin."""
    text = QUOTED.sub(" ", re.sub(r"\{[^}]*\}", " ", text))
    text = ASCII_RUN.sub(lambda run: " " if _is_code(run[0]) else run[0], text)
    found = []
    for word in WORD.findall(text):
        word = word.rstrip(".-/")
        if re.search(r"[\d_.()\[\]*/]", word) or len(word) == 1 or word in LATIN_TERMS:
            continue   # code (n_prompt, log2, .index, d_model/2), a variable, or a kept term
        if "-" in word and all(part in LATIN_TERMS or len(part) <= 1
                               for part in word.split("-")):
            continue   # top-p, min-p, top-k
        found.append(word)
    return found


def assert_speaks(lang: str, text: str, where: str = "") -> None:
    if lang == "zh":
        assert CJK.search(text), f"{where}: no Chinese in {text!r}"
        leftover = english_words(text)
        assert not leftover, f"{where}: English words {leftover} left in {text!r}"


def assert_answers_speak(lang: str, check_fn, call, answers) -> None:
    """Each of `answers` fails the check in `lang` with the same texts (catalogue keys) as in
    English, all in `lang` (for a check that judges with its own steps, not a mistakes list)."""
    translated = checks.speaking(lang, check_fn)
    for answer in answers:
        with checks.heard() as english_keys:
            english = call(check_fn, answer)
        with checks.heard() as keys:
            result = call(translated, answer)
        assert not result and not english, (answer, english.message)
        assert keys == english_keys, (keys, english_keys)
        assert_speaks(lang, result.message, english.message)


def _module_of(check_fn):
    return sys.modules[getattr(check_fn, "__wrapped__", check_fn).__module__]


def catalogued_mistakes(check_fn, call) -> list:
    """The (wrong answer, msg) pairs the check gives checks.check_* when `call` runs it with an
    empty answer (call(check_fn, answer) runs the check on `answer`)."""
    module, seen = _module_of(check_fn), []

    def spy(real):
        def recording(answer, *args, mistakes=(), **kwargs):
            if answer is Ellipsis:   # the call that judges the (empty) answer, not another part
                seen.extend(mistakes)
            return real(answer, *args, mistakes=mistakes, **kwargs)
        return recording

    names = [n for n in ("check_function", "check_close", "check_equal") if hasattr(module, n)]
    with mock.patch.multiple(module, **{n: spy(getattr(checks, n)) for n in names}):
        call(check_fn, ...)
    return [(wrong, message) for wrong, message in seen
            if isinstance(message, checks.Text) and wrong is not None]


def assert_every_mistake_speaks(lang: str, check_fn, call) -> int:
    """Every catalogued mistake of `check_fn` (the English check), and the empty answer, fed to
    the check in `lang`: it fails, shows the same catalogue keys as in English, and says it all
    in `lang` (a slip that gives the right answer on the test's fixtures is skipped). Returns
    how many mistakes were tried."""
    translated = checks.speaking(lang, check_fn)
    mistakes = catalogued_mistakes(check_fn, call)
    assert mistakes, f"{check_fn.__name__}: no catalogued mistake found"
    for wrong, message in [(..., None)] + mistakes:
        with checks.heard() as english_keys:
            english = call(check_fn, wrong)
        with checks.heard() as keys:
            result = call(translated, wrong)
        where = f"{check_fn.__name__} with {message!r}"
        if english and message is not None:
            continue   # on these fixtures this slip happens to give the right answer
        assert not result and not english, where
        assert keys == english_keys, (where, keys, english_keys)
        if message is not None:
            shown = [m.key for _, m in mistakes if m.key in keys]
            assert shown, (where, keys)   # its own text, or an earlier mistake's it equals
        assert_speaks(lang, result.message, where)
    return len(mistakes)
