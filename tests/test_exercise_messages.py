"""The exercise checks speak each edition's language from one catalogue per language
(helpers/messages/exercises_en.py, exercises_zh.py): the same keys and {names} in both, every
key a check names exists and every text is used, the Chinese texts are Chinese, and an edition's
exercise module (helpers/exercises/zh/chNN.py) re-exports every English check speaking Chinese.
Each chapter's tests (tests/test_exercises_chNN.py) also feed every catalogued mistake to the
check in Chinese (exercise_language.assert_every_mistake_speaks)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
import torch

from exercise_language import assert_speaks, english_words
from helpers import checks
from helpers.i18n import LANGUAGES, messages, placeholders
from helpers.messages import en, exercises_en, exercises_zh, zh
from notebook_checks import NOT_YET

HELPERS = Path(__file__).resolve().parents[1] / "helpers"
SOURCES = [HELPERS / "checks.py", *sorted((HELPERS / "exercises").glob("ch*.py"))]
EXERCISE_KEY = re.compile(r"^(check|ch\d\d)\.")


def _keys_in_code() -> dict[str, list[str]]:
    """Every literal catalogue key given to msg(), say() or Text() (or named in a {key: ...}
    table of checks.py), and the files naming it."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and EXERCISE_KEY.match(node.value) and " " not in node.value:
                found.setdefault(node.value, []).append(path.name)
    return found


def test_both_languages_have_the_same_keys_and_placeholders():
    assert set(exercises_en.MESSAGES) == set(exercises_zh.MESSAGES), \
        set(exercises_en.MESSAGES) ^ set(exercises_zh.MESSAGES)
    for key, text in exercises_en.MESSAGES.items():
        assert EXERCISE_KEY.match(key), key
        assert placeholders(exercises_zh.MESSAGES[key]) == placeholders(text), key
        for lang in LANGUAGES:   # a text without {names} is shown as it is: no braces in it
            shown = messages(lang).texts[key]
            assert placeholders(shown) or not re.search(r"[{}]", shown), (lang, key)


def test_the_exercise_catalogue_is_apart_from_the_interface():
    for interface, exercises in ((en, exercises_en), (zh, exercises_zh)):
        assert not set(interface.MESSAGES) & set(exercises.MESSAGES)
        assert not any(EXERCISE_KEY.match(key) for key in interface.MESSAGES)


def test_every_key_a_check_names_exists_and_every_text_is_used():
    used = _keys_in_code()
    missing = {key: files for key, files in used.items() if key not in exercises_en.MESSAGES}
    assert not missing, missing
    unused = set(exercises_en.MESSAGES) - set(used)
    assert not unused, unused


# Sentences in the checks' code that are data, not words shown to the learner: prompts and
# test cases the checks run (ch05, ch06, ch08), and the stopping decision's values (ch08).
DATA = {"My favourite food is", "The capital of France is", "What is the capital of France?",
        "You answer in one word.", "no stop here", "stop at the start",
        "Paris is the capital. Next", "Paris. END more\nlines", "a*b and ab", "U.S.A. and USA",
        "end of text", "max tokens"}


def _sentences_in_code(path: Path) -> list[str]:
    """String constants and f-strings of `path` with words in a row, outside docstrings,
    SOLUTIONS, HTML and raised errors (a notebook author's mistake, not a learner's)."""
    tree = ast.parse(path.read_text())
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) \
                and ast.get_docstring(node):
            skip.add(id(node.body[0].value))
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "SOLUTIONS"
                                                for t in node.targets):
            skip.update(id(value) for value in node.value.values)
        if isinstance(node, ast.Raise):
            skip.update(id(inner) for inner in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
        else:
            continue
        if "<" not in text and text not in DATA and re.search(r"[A-Za-z]{2,} [A-Za-z]{2,}", text):
            found.append(f"{path.name}:{node.lineno}: {text[:60]!r}")
    return found


def test_the_checks_spell_no_sentence_themselves():
    assert [line for path in SOURCES for line in _sentences_in_code(path)] == []


def test_the_chinese_texts_are_chinese():
    for key, text in exercises_zh.MESSAGES.items():
        if not english_words(exercises_en.MESSAGES[key]):   # code or a formula in both
            assert not english_words(text), key             # (n_prompt = {n_prompt}, cos = ...)
        else:
            assert_speaks("zh", text, key)


def test_the_scan_finds_english_left_in_chinese():
    assert english_words("还不对。The sign is flipped：请用 n_prompt。") == \
        ["The", "sign", "is", "flipped"]
    assert english_words("对 ids=[1, 2] 抛出了 TypeError：“'x' object is not callable”。") == []
    assert english_words("(probs * probs.log2()) 给出 p log2 p；p = 0 时 0 * -inf = nan") == []
    with pytest.raises(AssertionError, match="no Chinese"):
        assert_speaks("zh", "That is the sum.")


def test_the_notebook_tests_look_for_the_catalogue_words():
    for lang, (not_yet, your_code) in NOT_YET.items():
        t = messages(lang)
        assert not_yet in t("check.not_yet", name="x") and not_yet in t(
            "check.not_yet_because", name="x", problem="y")
        assert your_code in t("check.empty") and your_code in t("check.function.empty")


def test_the_shared_texts_of_every_check_in_chinese():
    zh_close = checks.speaking("zh", checks.check_close)
    zh_equal = checks.speaking("zh", checks.check_equal)
    zh_function = checks.speaking("zh", checks.check_function)
    results = [
        zh_close(torch.ones(2), torch.ones(3), "softmax"),
        zh_close(torch.tensor([float("nan")]), torch.ones(1), "softmax"),
        zh_close(torch.tensor([0.2, 0.2]), torch.tensor([0.5, 0.5]), "概率"),
        zh_close(torch.tensor([2.0, 4.0]), torch.tensor([0.5, 0.25]), "x"),
        zh_close(torch.tensor([-2.0, 4.0]), torch.tensor([2.0, -4.0]), "x"),
        zh_close(torch.tensor([6.0, 9.0]), torch.tensor([2.0, 3.0]), "x"),
        zh_close(1.0, 2.0, "x"), zh_close(len, 2.0, "x"), zh_close("abc", 2.0, "x"),
        zh_close(0.3 + 2 * 3.141592653589793, 0.3, "角度", period=2 * 3.141592653589793),
        zh_equal([1, 3], [1, 2], "ids"), zh_equal([1, 2], [1, 2, 3], "ids", reveal=True),
        zh_equal(13, 12, "长度"), zh_equal("12", 12, "长度"), zh_equal(..., 12, "长度"),
        zh_function(3, abs, [(1,)], "f"), zh_function(lambda x: None, abs, [(1,)], "f"),
        zh_function(lambda x: 1 / 0, abs, [(1,)], "f"),
        zh_function(lambda x: -x, abs, [(1,), (-2,)], "f", reveal=True),
        zh_function(lambda x: ..., abs, [(1,)], "f"),
    ]
    for result in results:
        assert not result
        assert_speaks("zh", result.message, result.message)
    assert zh_close(1.0, 1.0, "x") and "正确" in zh_close(1.0, 1.0, "x").message


def test_the_fold_of_a_worked_solution_speaks_the_edition():
    from helpers.exercises import ch00
    from helpers.exercises.zh import ch00 as ch00_zh

    assert "Show a worked solution" in ch00.show_solution("entropy").data
    assert "查看参考答案" in ch00_zh.show_solution("entropy").data


ZH_MODULES = sorted(p.stem for p in (HELPERS / "exercises" / "zh").glob("ch*.py"))


@pytest.mark.parametrize("chapter", ZH_MODULES)
def test_an_edition_module_reexports_every_check_speaking_chinese(chapter):
    english = importlib.import_module(f"helpers.exercises.{chapter}")
    edition = importlib.import_module(f"helpers.exercises.zh.{chapter}")
    named = [name for name in edition.__all__ if name.startswith("check_")]
    assert named and set(named) <= set(english.__all__)
    for name in named:
        check = getattr(edition, name)
        assert getattr(check, "lang", None) == "zh", f"{chapter}.{name}: use in_chinese(...)"
        assert check.__wrapped__ is getattr(english, name), f"{chapter}.{name}: not re-exported"
