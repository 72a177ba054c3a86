"""练习 · 06 一拍一拍 (notebooks/zh/06_tick_by_tick.ipynb): the checks of helpers.exercises.ch06."""

from __future__ import annotations

from .. import ch06 as english
from ._solutions import in_chinese, show

__all__ = ["check_tokens_per_second", "check_rome_clock", "check_most_uncertain", "SOLUTIONS",
           "show_solution"]

check_most_uncertain = in_chinese(english.check_most_uncertain)
check_rome_clock = in_chinese(english.check_rome_clock)
check_tokens_per_second = in_chinese(english.check_tokens_per_second)

SOLUTIONS = {
    "tokens_per_second": '''
def tokens_per_second(history):
    decode = [r for r in history if r.phase == "decode"]   # 预填充不算
    return 1000 / (sum(r.forward_ms + r.sampling_ms for r in decode) / len(decode))
''',
    "rome_clock": '''
rome_clock = Clock(lm, "The capital of France is", SamplingConfig(temperature=0.0))
rome_clock.force(" Rome")     # 空格属于这个词元
rome_clock.run(5)
print(rome_clock.text)
''',
    "most_uncertain": '''
def most_uncertain(history):
    return max(history, key=lambda r: r.entropy_bits).index
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
