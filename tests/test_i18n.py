"""The interface speaks English and Chinese from one catalogue per language (helpers/messages/):
the catalogues have the same keys, the clock widget takes every word from them, and a byte
fragment that completes a character is labelled with that character."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from helpers.i18n import LANGUAGES, messages, placeholders
from helpers.tick_view import distribution_rows
from helpers.tick_view import pending_bytes, readable_token
from helpers.sampling import Candidate
from helpers.widgets import ClockWidget

HELPERS = Path(__file__).resolve().parents[1] / "helpers"


def test_every_language_has_every_text_with_the_same_placeholders():
    en = messages("en").texts
    for lang in LANGUAGES:
        texts = messages(lang).texts
        assert set(texts) == set(en), (lang, set(en) ^ set(texts))
        for key, text in texts.items():
            assert text.strip() or key.endswith("_mark"), (lang, key)
            assert placeholders(text) <= placeholders(en[key]), (lang, key)  # zh has no plural {s}
    with pytest.raises(ValueError, match="'en', 'zh'"):
        messages("fr")


def _string_arguments(path: Path) -> list[str]:
    """String constants given as description=/tooltip=/placeholder=/titles= or to _button/_say."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        args = {"_button": node.args[0:3:2], "_say": node.args[:1],
                "say": node.args[:1]}.get(name, [])
        args = list(args)
        args += [k.value for k in node.keywords
                 if k.arg in ("description", "tooltip", "placeholder")]
        found += [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                  and re.search(r"[A-Za-z]{3}", a.value)]
    return found


def test_the_clock_widget_spells_no_words_itself():
    for module in ("widgets/clock_view.py", "widgets/clock_widget.py"):
        assert _string_arguments(HELPERS / module) == [], module


def test_clock_widget_in_chinese(tiny_lm):
    cw = ClockWidget(tiny_lm, "The clock", lang="zh", temperature=0)
    assert (cw.view.step_button.description == "单步"
            and cw.view.presenter_button.description == "演示模式")
    assert "第 – 拍" in cw.status.value and "还没有运行" in cw.view.distribution.value
    cw.step()
    assert "第 0 拍" in cw.status.value and "预填充" in cw.status.value
    assert "下一个词元的概率分布" in cw.view.distribution.value and "看向了哪里" in cw.view.attention.value
    assert "提示词" in cw.view.text.value and "生成的" in cw.view.text.value
    cw.rewind()
    assert "已倒回 1 拍" in cw.message.value
    english = {text for text in messages("en").texts.values() if len(text) > 3}
    shown = [c.description for c in (cw.view.step_button, cw.view.run_button, cw.view.rewind_button,
                                     cw.view.reset_button, cw.view.force_button, cw.view.layer,
                                     cw.view.head, cw.view.hide_first, cw.view.scrubber)]
    assert not english & set(shown), english & set(shown)
    with pytest.raises(ValueError, match="lang="):
        ClockWidget(tiny_lm, "The clock", lang="de")


def test_a_fragment_that_completes_a_character_is_labelled_with_it(tiny_lm):
    ids = tiny_lm.encode("我")  # three single-byte tokens in the tiny vocabulary: e6 88 91
    assert len(ids) == 3
    texts = [tiny_lm.decode([i]) for i in ids]
    assert pending_bytes(tiny_lm, ids[:2]) == "我".encode()[:2]
    assert (pending_bytes(tiny_lm, ids) == b""
            and pending_bytes(tiny_lm, tiny_lm.encode("ab")) == b"")
    assert readable_token(texts[2], ids[2], tiny_lm, pending_bytes(tiny_lm, ids[:2])) == "⟨91⟩→我"
    assert readable_token(texts[0], ids[0], tiny_lm) == "⟨e6⟩"  # starts a character: bytes only
    rows = distribution_rows([Candidate(ids[2], texts[2], 0.5)], [], tokenizer=tiny_lm,
                             pending=pending_bytes(tiny_lm, ids[:2]))
    assert rows[0].label == "⟨91⟩→我"


def test_recorded_clock_in_chinese(tiny_lm, tmp_path):
    from helpers.clock import Clock
    from helpers.trace import save_trace, trace_data
    from helpers.trace_command import parser

    clock = Clock(tiny_lm, "The clock", seed=0)
    clock.run(3)
    data = trace_data(clock, lang="zh")
    assert data["labels"]["player.step"] == "单步 ▶" and data["title"].startswith("LLM 时钟录像")
    assert data["ticks"][0]["status"].startswith("第 0 拍 · 预填充")
    assert "这一拍的采样设置" in data["ticks"][0]["settings"]
    english = trace_data(clock)
    assert set(english["labels"]) == set(data["labels"])
    page = save_trace(clock, tmp_path / "zh.html", lang="zh").read_text()
    assert "<html lang='zh-Hans'>" in page
    args = parser().parse_args(["--prompt", "我", "--ticks", "1", "--out", "x", "--lang", "zh"])
    assert args.lang == "zh"


def test_the_explorers_in_chinese(tiny_lm):
    from helpers.widgets import AttentionExplorer, SamplingExplorer, TokenExplorer

    tokens = TokenExplorer(tiny_lm, "我喜欢", lang="zh")
    assert "词元浏览器" in tokens.ui.children[0].value and "个字符" in tokens.summary.value
    assert tokens.examples.options[0][0] == "（示例）"
    tokens.examples.value = "Chinese"
    assert tokens.text.value == "我喜欢吃披萨"
    sampling = SamplingExplorer(tiny_lm, "The clock", lang="zh")
    assert (sampling.draw_button.description == "抽一个词元"
            and sampling.temperature.description == "温度（0 = 贪心）")
    sampling.draw()
    assert "抽到了" in sampling.message.value
    attention = AttentionExplorer(tiny_lm, "The clock ticks", lang="zh")
    assert "注意力浏览器" in attention.ui.children[0].value and attention.query.description == "查询词元"
    for module in ("token_explorer.py", "sampling_explorer.py", "attention_explorer.py"):
        assert _string_arguments(HELPERS / "widgets" / module) == [], module
