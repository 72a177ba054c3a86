"""The English and Chinese editions stay in step (fast tier: reads the notebooks' JSON only).

Pairing rules:
* notebooks pair by their two-digit number: notebooks/00_the_clock.ipynb and
  notebooks/zh/00_*.ipynb;
* sections pair by a stable anchor in each level-1/2 heading, `## 1. One tick <a id="sec-tick"></a>`
  and `## 1. 一拍 <a id="sec-tick"></a>`: both editions must have the same anchors in the
  same order, so a section added, removed or moved in one edition fails here until the other
  edition follows (or the anchor is deliberately shared);
* exercises pair by the check they call, `ch00.check_entropy(...)`: both editions must call
  the same checks in the same order, except a check listed in NOT_IN_ZH with the reason the
  Chinese edition leaves it out.

An English notebook without a Chinese edition must be listed in NO_ZH_EDITION with the reason,
so nothing is skipped silently, and an entry there for a notebook that has a zh edition fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
ZH = NOTEBOOKS / "zh"

# English notebooks that have no Chinese edition yet, or should not have one, and why.
NO_ZH_EDITION = {
    "11": "not written: speculative decoding needs a smaller draft model with Gemma's "
          "tokenizer, and Gemma 3 270M is the smallest Gemma 3 (none is shipped); batching "
          "holds, and quantization holds but Gemma's file is Q4_K_M, not the Q4_1 blocks the "
          "English 11 takes apart byte by byte. Use the English 11 (SmolLM2) for those",
}

# Exercises of an English notebook that its Chinese edition leaves out, and why: the zh
# notebooks run Gemma 3 270M, and a check written for SmolLM2 may not hold there.
NOT_IN_ZH = {
    ("04", "check_silu"): "Gemma 3's MLP is a GeGLU (GELU, tanh approximation), not SmolLM2's "
                          "SwiGLU: writing SiLU by hand teaches nothing about Gemma's block",
}

HEADING = re.compile(r"^(#{1,2}) (.*)$", re.M)
ANCHOR = re.compile(r'<a id="([a-z0-9-]+)"></a>')
CHECK_CALL = re.compile(r"\bch\d\d\.(check_\w+)\(")


def _number(path: Path) -> str:
    return path.name[:2]


def _english() -> dict[str, Path]:
    return {_number(p): p for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))}


def _chinese() -> dict[str, Path]:
    return {_number(p): p for p in sorted(ZH.glob("[0-9][0-9]_*.ipynb"))}


def _cells(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _sections(path: Path) -> list[str]:
    """The anchor ids of the level-2 headings, in order; a heading without one fails."""
    ids = []
    for cell in _cells(path):
        if cell["cell_type"] != "markdown":
            continue
        for level, title in HEADING.findall("".join(cell["source"])):
            anchor = ANCHOR.search(title)
            if level == "#":
                continue   # the notebook's title: pairs by the file number
            assert anchor, (f"{path.parent.name}/{path.name}: the heading {title!r} has no "
                            f'anchor; end it with <a id="sec-..."></a> (the same id in both '
                            f"editions) so that tests/test_editions.py can pair it")
            ids.append(anchor.group(1))
    return ids


def _checks(path: Path) -> list[str]:
    return [name for cell in _cells(path) if cell["cell_type"] == "code"
            for name in CHECK_CALL.findall("".join(cell["source"]))]


def _pairs():
    english, chinese = _english(), _chinese()
    return [(english[n], chinese[n]) for n in sorted(chinese) if n in english]


def test_every_english_notebook_has_a_zh_edition_or_a_stated_reason():
    english, chinese = _english(), _chinese()
    unexplained = sorted(set(english) - set(chinese) - set(NO_ZH_EDITION))
    assert not unexplained, (f"notebooks {unexplained} have no edition in notebooks/zh/ and no "
                             f"entry in NO_ZH_EDITION saying why")
    stale = sorted(set(NO_ZH_EDITION) & set(chinese))
    assert not stale, f"notebooks {stale} now have a zh edition: remove them from NO_ZH_EDITION"
    unknown = sorted(set(NO_ZH_EDITION) - set(english))
    assert not unknown, f"NO_ZH_EDITION lists {unknown}, which are not English notebooks"
    orphans = sorted(set(chinese) - set(english))
    assert not orphans, f"notebooks/zh/ has {orphans} with no English notebook of that number"


@pytest.mark.parametrize("en, zh", _pairs(), ids=[_number(p[1]) for p in _pairs()])
def test_sections_are_the_same_in_both_editions(en, zh):
    en_ids, zh_ids = _sections(en), _sections(zh)
    assert len(set(en_ids)) == len(en_ids), f"{en.name}: an anchor id is used twice"
    assert len(set(zh_ids)) == len(zh_ids), f"zh/{zh.name}: an anchor id is used twice"
    only_en = [i for i in en_ids if i not in zh_ids]
    only_zh = [i for i in zh_ids if i not in en_ids]
    assert not only_en, f"sections only in {en.name} (add them to zh/{zh.name}): {only_en}"
    assert not only_zh, f"sections only in zh/{zh.name} (add them to {en.name}): {only_zh}"
    assert en_ids == zh_ids, f"the sections are in another order: {en_ids} vs {zh_ids}"


@pytest.mark.parametrize("en, zh", _pairs(), ids=[_number(p[1]) for p in _pairs()])
def test_exercises_are_the_same_in_both_editions(en, zh):
    en_checks, zh_checks = _checks(en), _checks(zh)
    assert en_checks, f"{en.name} calls no exercise check"
    left_out = [c for c in en_checks if (_number(en), c) in NOT_IN_ZH]
    assert not set(left_out) & set(zh_checks), (f"zh/{zh.name} calls {left_out}, listed in "
                                                f"NOT_IN_ZH as left out: remove it from there")
    en_checks = [c for c in en_checks if c not in left_out]
    only_en = [c for c in en_checks if c not in zh_checks]
    only_zh = [c for c in zh_checks if c not in en_checks]
    assert not only_en, f"exercises only in {en.name} (add them to zh/{zh.name}): {only_en}"
    assert not only_zh, f"exercises only in zh/{zh.name} (add them to {en.name}): {only_zh}"
    assert en_checks == zh_checks, f"the exercises are in another order: {en_checks} vs {zh_checks}"


def test_the_pairing_rules_catch_drift(tmp_path):
    """The rules above fail on a section or an exercise missing from one side."""
    def notebook(*cells):
        path = tmp_path / f"{len(list(tmp_path.iterdir())):02d}_x.ipynb"
        path.write_text(json.dumps({"cells": [
            {"cell_type": kind, "source": [text]} for kind, text in cells]}), encoding="utf-8")
        return path

    en = notebook(("markdown", '# T\n## 1. A <a id="sec-a"></a>'),
                  ("markdown", '## 2. B <a id="sec-b"></a>'), ("code", "ch00.check_x(f)"))
    zh = notebook(("markdown", '# T\n## 1. 甲 <a id="sec-a"></a>'), ("code", "ch00.check_y(f)"))
    assert _sections(en) == ["sec-a", "sec-b"] and _sections(zh) == ["sec-a"]
    assert _checks(en) == ["check_x"] and _checks(zh) == ["check_y"]
    with pytest.raises(AssertionError, match="only in"):
        test_sections_are_the_same_in_both_editions(en, zh)
    with pytest.raises(AssertionError, match="only in"):
        test_exercises_are_the_same_in_both_editions(en, zh)
    bare = notebook(("markdown", "# T\n## 1. No anchor"))
    with pytest.raises(AssertionError, match="has no anchor"):
        _sections(bare)


def test_zh_exercise_modules_reuse_the_english_checks():
    """helpers/exercises/zh/chNN re-exports chNN's checks (never a second copy) and has a worked
    solution, in its own variable names, for each check it offers."""
    import importlib
    import pkgutil

    import helpers.exercises.zh as zh_package

    modules = [m.name for m in pkgutil.iter_modules(zh_package.__path__) if m.name[:2] == "ch"]
    assert modules
    for name in modules:
        zh = importlib.import_module(f"helpers.exercises.zh.{name}")
        en = importlib.import_module(f"helpers.exercises.{name}")
        checks = [n for n in zh.__all__ if n.startswith("check_")]
        assert checks and all(getattr(zh, n).__wrapped__ is getattr(en, n)   # in_chinese(...)
                              and getattr(zh, n).lang == "zh" for n in checks), name
        assert sorted(zh.SOLUTIONS) == sorted(n[len("check_"):] for n in checks), name
        for source in zh.SOLUTIONS.values():
            compile(source, f"{name} solution", "exec")


def test_every_left_out_exercise_is_one_the_english_edition_has():
    english = _english()
    for (number, check), reason in NOT_IN_ZH.items():
        assert reason and number in english, (number, check)
        assert check in _checks(english[number]), (f"NOT_IN_ZH lists {check} for {number}, "
                                                    f"which {english[number].name} does not call")
